#include "core/migration.h"

#include <utility>

namespace clusterlive {

static_assert(kPrecopyShrinkPermille > 0 && kPrecopyShrinkPermille < 1000,
              "pre-copy must stop when the dirty set no longer shrinks");
static_assert(kMaxPrecopyRounds >= 1, "at least one pre-copy round when pre-copy is used");
static_assert(kParticipantRestoreTimeoutMs > kRestoreTimeoutMs,
              "the coordinator, holding the frozen original, should give up on a restore first");
static_assert(kMinTransferBytesPerS >= 1000, "transfer_timeout_ms divides by bytes per ms");

namespace {

std::string with_cause(std::string text, const std::string& cause) {
  if (!cause.empty()) text += ": " + cause;
  return text;
}

MigrationAction action(MigrationActionKind kind, uint32_t round = 0) {
  MigrationAction result;
  result.kind = kind;
  result.round = round;
  return result;
}

MigrationAction finished(MigrationOutcome outcome, std::string reason) {
  MigrationAction result;
  result.kind = MigrationActionKind::finished;
  result.outcome = outcome;
  result.reason = std::move(reason);
  return result;
}

ParticipantAction participant_action(ParticipantActionKind kind) {
  ParticipantAction result;
  result.kind = kind;
  return result;
}

ParticipantAction participant_finished(MigrationOutcome outcome, std::string reason) {
  ParticipantAction result;
  result.kind = ParticipantActionKind::finished;
  result.outcome = outcome;
  result.reason = std::move(reason);
  return result;
}

// bytes / ms, in bytes per second; 0 when no time passed (no meaningful rate).
uint64_t rate_per_s(uint64_t bytes, TimeMs duration_ms) {
  if (duration_ms <= 0) return 0;
  return bytes * 1000 / static_cast<uint64_t>(duration_ms);
}

}  // namespace

TimeMs transfer_timeout_ms(uint64_t expected_pages) {
  constexpr uint64_t kMinBytesPerMs = kMinTransferBytesPerS / 1000;
  // Cap the pages so the products below stay far inside 64 bits (2^40 pages is 4 PiB).
  constexpr uint64_t kMaxPages = uint64_t{1} << 40;
  uint64_t pages = expected_pages < kMaxPages ? expected_pages : kMaxPages;
  return kTransferTimeoutBaseMs + static_cast<TimeMs>(pages * kPageBytes / kMinBytesPerMs);
}

std::string_view to_string(PrecopyDecision decision) {
  switch (decision) {
    case PrecopyDecision::another_round:
      return "another round";
    case PrecopyDecision::stop_small:
      return "dirty set small";
    case PrecopyDecision::stop_not_shrinking:
      return "dirty set not shrinking";
    case PrecopyDecision::stop_round_limit:
      return "round limit";
    case PrecopyDecision::skipped_tiny_job:
      return "job tiny, no pre-copy";
  }
  return "?";
}

PrecopyDecision decide_after_round(uint32_t rounds_done, uint64_t dirty_pages,
                                   uint64_t previous_dirty_pages) {
  if (dirty_pages <= kMinPrecopyPages) return PrecopyDecision::stop_small;
  // dirty / previous >= permille / 1000, without division (pages are far below 2^54).
  if (rounds_done > 1 && dirty_pages * 1000 >= previous_dirty_pages * kPrecopyShrinkPermille) {
    return PrecopyDecision::stop_not_shrinking;
  }
  if (rounds_done >= kMaxPrecopyRounds) return PrecopyDecision::stop_round_limit;
  return PrecopyDecision::another_round;
}

std::string_view to_string(MigrationOutcome outcome) {
  switch (outcome) {
    case MigrationOutcome::in_progress:
      return "in progress";
    case MigrationOutcome::committed:
      return "committed";
    case MigrationOutcome::aborted:
      return "aborted";
    case MigrationOutcome::lost:
      return "lost";
  }
  return "?";
}

std::string_view to_string(MigrationPhase phase) {
  switch (phase) {
    case MigrationPhase::not_started:
      return "not started";
    case MigrationPhase::preflight:
      return "preflight";
    case MigrationPhase::precopy:
      return "precopy";
    case MigrationPhase::final_dump:
      return "final dump";
    case MigrationPhase::restore:
      return "restore";
    case MigrationPhase::commit:
      return "commit";
    case MigrationPhase::committed:
      return "committed";
    case MigrationPhase::aborted:
      return "aborted";
  }
  return "?";
}

std::string_view to_string(MigrationActionKind kind) {
  switch (kind) {
    case MigrationActionKind::run_preflight:
      return "run_preflight";
    case MigrationActionKind::precopy_round:
      return "precopy_round";
    case MigrationActionKind::final_dump:
      return "final_dump";
    case MigrationActionKind::restore_on_target:
      return "restore_on_target";
    case MigrationActionKind::write_commit_record:
      return "write_commit_record";
    case MigrationActionKind::resume_source:
      return "resume_source";
    case MigrationActionKind::discard_target_copy:
      return "discard_target_copy";
    case MigrationActionKind::kill_source_copy:
      return "kill_source_copy";
    case MigrationActionKind::tell_target_to_resume:
      return "tell_target_to_resume";
    case MigrationActionKind::read_commit_record:
      return "read_commit_record";
    case MigrationActionKind::finished:
      return "finished";
  }
  return "?";
}

std::string describe(const MigrationAction& action) {
  std::string text(to_string(action.kind));
  switch (action.kind) {
    case MigrationActionKind::precopy_round:
    case MigrationActionKind::final_dump:
      text += "(" + std::to_string(action.round) + ")";
      break;
    case MigrationActionKind::finished:
      text += "(" + std::string(to_string(action.outcome)) + ", \"" + action.reason + "\")";
      break;
    default:
      break;
  }
  return text;
}

// --- MigrationCoordinator --------------------------------------------------------

MigrationCoordinator::MigrationCoordinator(MigrationJob job) : job_(std::move(job)) {}

std::vector<MigrationAction> MigrationCoordinator::start(TimeMs now) {
  if (progress_.phase != MigrationPhase::not_started) return ignored();
  enter(MigrationPhase::preflight, now, kPreflightTimeoutMs);
  return {action(MigrationActionKind::run_preflight)};
}

std::vector<MigrationAction> MigrationCoordinator::on_preflight_ok(uint64_t resident_pages,
                                                                   TimeMs now) {
  if (progress_.phase != MigrationPhase::preflight) return ignored();
  resident_pages_ = resident_pages;
  if (resident_pages <= kMinPrecopyPages) {
    return begin_final_dump(PrecopyDecision::skipped_tiny_job, now);
  }
  return begin_round(1, now);
}

std::vector<MigrationAction> MigrationCoordinator::on_preflight_refused(const std::string& reason,
                                                                        TimeMs now) {
  if (progress_.phase != MigrationPhase::preflight) return ignored();
  return abort(with_cause("preflight refused", reason), now);
}

std::vector<MigrationAction> MigrationCoordinator::on_round_done(uint32_t round,
                                                                 uint64_t bytes_sent,
                                                                 uint64_t dirty_pages, TimeMs now) {
  if (progress_.phase != MigrationPhase::precopy || round != progress_.round) return ignored();
  count_transfer(bytes_sent, now);
  progress_.last_round_bytes = bytes_sent;
  PrecopyDecision decision = decide_after_round(round, dirty_pages, previous_dirty_pages_);
  previous_dirty_pages_ = dirty_pages;
  if (decision == PrecopyDecision::another_round) return begin_round(round + 1, now);
  return begin_final_dump(decision, now);
}

std::vector<MigrationAction> MigrationCoordinator::on_round_failed(uint32_t round,
                                                                   const std::string& reason,
                                                                   TimeMs now) {
  if (progress_.phase != MigrationPhase::precopy || round != progress_.round) return ignored();
  // Fatal, as in p.haul: see the class comment.
  return abort(with_cause(step_name() + " failed", reason), now);
}

std::vector<MigrationAction> MigrationCoordinator::on_final_dump_done(uint64_t bytes_sent,
                                                                      TimeMs now) {
  if (progress_.phase != MigrationPhase::final_dump) return ignored();
  count_transfer(bytes_sent, now);
  progress_.final_dump_bytes = bytes_sent;
  enter(MigrationPhase::restore, now, kRestoreTimeoutMs);
  return {action(MigrationActionKind::restore_on_target)};
}

std::vector<MigrationAction> MigrationCoordinator::on_final_dump_failed(const std::string& reason,
                                                                        TimeMs now) {
  if (progress_.phase != MigrationPhase::final_dump) return ignored();
  return abort(with_cause("final dump failed on " + job_.source_node, reason), now);
}

std::vector<MigrationAction> MigrationCoordinator::on_restore_done(TimeMs now) {
  if (progress_.phase != MigrationPhase::restore) return ignored();
  // Commit at once: every millisecond here is freeze time. From this action on nothing may
  // abort until the write answers (class comment).
  enter(MigrationPhase::commit, now, kCommitOverdueMs);
  return {action(MigrationActionKind::write_commit_record)};
}

std::vector<MigrationAction> MigrationCoordinator::on_restore_failed(const std::string& reason,
                                                                     TimeMs now) {
  if (progress_.phase != MigrationPhase::restore) return ignored();
  return abort(with_cause("restore failed on " + job_.target_node, reason), now);
}

std::vector<MigrationAction> MigrationCoordinator::on_commit_record_written(TimeMs now) {
  if (progress_.phase != MigrationPhase::commit) return ignored();

  // ======================= POINT OF NO RETURN =======================
  // The record names the target: the job is the target's. Nothing below undoes it, and no
  // later event (target lost, tick, cancel) changes the outcome. The source copy goes first:
  // it is stopped, and must never run again.
  progress_.phase = MigrationPhase::committed;
  deadline_.reset();
  outcome_ = MigrationOutcome::committed;
  if (progress_.freeze_started_at)
    progress_.freeze_duration_ms = now - *progress_.freeze_started_at;
  if (progress_.target_lost) {
    reason_ =
        with_cause("target " + job_.target_node + " lost during commit", target_lost_reason_) +
        "; the job lives or dies with it";
  }
  return {action(MigrationActionKind::kill_source_copy),
          action(MigrationActionKind::tell_target_to_resume),
          finished(MigrationOutcome::committed, reason_)};
}

std::vector<MigrationAction> MigrationCoordinator::on_commit_record_failed(
    const std::string& reason, TimeMs now) {
  if (progress_.phase != MigrationPhase::commit) return ignored();
  // The edge answers "failed" only when the record certainly does not name the target, so
  // the job is still ours: undo as before the write.
  return abort(with_cause("commit record not written", reason), now);
}

std::vector<MigrationAction> MigrationCoordinator::on_target_lost(const std::string& reason,
                                                                  TimeMs now) {
  if (before_commit_write()) {
    progress_.target_lost = true;
    return abort(with_cause("target " + job_.target_node + " lost during " + step_name(), reason),
                 now);
  }
  if (progress_.phase == MigrationPhase::commit) {
    // The write is out and may land: only its answer can tell whose the job is.
    progress_.target_lost = true;
    target_lost_reason_ = reason;
    return {};
  }
  if (progress_.phase == MigrationPhase::committed) {
    progress_.target_lost = true;  // noted for ps; the job lives or dies with the target
    return {};
  }
  return ignored();
}

std::vector<MigrationAction> MigrationCoordinator::cancel(const std::string& reason, TimeMs now) {
  if (!before_commit_write()) return ignored();
  return abort(with_cause("cancelled during " + step_name(), reason), now);
}

std::vector<MigrationAction> MigrationCoordinator::tick(TimeMs now) {
  if (!deadline_ || now < *deadline_) return {};
  TimeMs timeout_ms = *deadline_ - phase_started_at_;
  deadline_.reset();
  if (before_commit_write()) {
    return abort(step_name() + " timed out after " + std::to_string(timeout_ms) + " ms", now);
  }
  if (progress_.phase == MigrationPhase::commit) progress_.commit_overdue = true;
  return {};
}

std::optional<TimeMs> MigrationCoordinator::next_deadline() const { return deadline_; }

std::vector<MigrationAction> MigrationCoordinator::begin_round(uint32_t round, TimeMs now) {
  uint64_t expected_pages = round == 1 ? resident_pages_ : previous_dirty_pages_;
  enter(MigrationPhase::precopy, now, transfer_timeout_ms(expected_pages));
  progress_.round = round;
  target_may_hold_copy_ = true;  // this round's images land there
  return {action(MigrationActionKind::precopy_round, round)};
}

std::vector<MigrationAction> MigrationCoordinator::begin_final_dump(PrecopyDecision why,
                                                                    TimeMs now) {
  progress_.precopy_stop = why;
  uint64_t expected_pages = progress_.round == 0 ? resident_pages_ : previous_dirty_pages_;
  enter(MigrationPhase::final_dump, now, transfer_timeout_ms(expected_pages));
  // Frozen from the moment we ask: a dump that fails or hangs may have stopped the job
  // already, so every abort from here on resumes it (SIGCONT is harmless on a running job).
  may_be_frozen_ = true;
  progress_.freeze_started_at = now;
  target_may_hold_copy_ = true;
  return {action(MigrationActionKind::final_dump, progress_.round)};
}

std::vector<MigrationAction> MigrationCoordinator::abort(const std::string& reason, TimeMs now) {
  progress_.phase = MigrationPhase::aborted;
  deadline_.reset();
  outcome_ = MigrationOutcome::aborted;
  reason_ = reason;
  std::vector<MigrationAction> actions;
  if (may_be_frozen_) {
    actions.push_back(action(MigrationActionKind::resume_source));
    if (progress_.freeze_started_at) {
      progress_.freeze_duration_ms = now - *progress_.freeze_started_at;
    }
  }
  if (target_may_hold_copy_) actions.push_back(action(MigrationActionKind::discard_target_copy));
  actions.push_back(finished(MigrationOutcome::aborted, reason_));
  return actions;
}

std::vector<MigrationAction> MigrationCoordinator::ignored() {
  ++progress_.ignored_events;
  return {};
}

void MigrationCoordinator::enter(MigrationPhase phase, TimeMs now, TimeMs timeout_ms) {
  progress_.phase = phase;
  phase_started_at_ = now;
  deadline_ = now + timeout_ms;
}

void MigrationCoordinator::count_transfer(uint64_t bytes, TimeMs now) {
  TimeMs duration_ms = now - phase_started_at_;
  progress_.total_bytes_sent += bytes;
  transfer_ms_ += duration_ms;
  progress_.rate_bytes_per_s = rate_per_s(progress_.total_bytes_sent, transfer_ms_);
  progress_.last_rate_bytes_per_s = rate_per_s(bytes, duration_ms);
}

std::string MigrationCoordinator::step_name() const {
  if (progress_.phase == MigrationPhase::precopy) {
    return "precopy round " + std::to_string(progress_.round);
  }
  return std::string(to_string(progress_.phase));
}

bool MigrationCoordinator::before_commit_write() const {
  switch (progress_.phase) {
    case MigrationPhase::preflight:
    case MigrationPhase::precopy:
    case MigrationPhase::final_dump:
    case MigrationPhase::restore:
      return true;
    default:
      return false;
  }
}

std::vector<MigrationAction> recover_coordinator(const MigrationJob& job,
                                                 const std::optional<std::string>& record_names,
                                                 bool holds_copy, TargetCopy target_copy) {
  // Never guess: an unreadable record leaves every copy as it is (stopped ones do no harm).
  if (!record_names) return {action(MigrationActionKind::read_commit_record)};
  const std::string& named = *record_names;
  const std::string prefix = "recovered after a restart: the record names " + named;
  bool target_may_hold = target_copy != TargetCopy::absent;

  std::vector<MigrationAction> actions;
  if (named == job.target_node) {
    // Committed before the crash. Our copy is not named: it must never run again.
    if (holds_copy) actions.push_back(action(MigrationActionKind::kill_source_copy));
    if (target_copy == TargetCopy::absent) {
      actions.push_back(finished(MigrationOutcome::lost, prefix + ", which holds no copy"));
      return actions;
    }
    actions.push_back(action(MigrationActionKind::tell_target_to_resume));
    actions.push_back(finished(MigrationOutcome::committed,
                               target_copy == TargetCopy::present
                                   ? prefix
                                   : prefix + "; its copy is unconfirmed: the job lives or dies "
                                              "with it"));
    return actions;
  }
  if (target_may_hold) actions.push_back(action(MigrationActionKind::discard_target_copy));
  if (named == job.source_node) {
    if (!holds_copy) {
      // Our copy vanished (killed, or the node rebooted): not revived from the target's.
      actions.push_back(finished(MigrationOutcome::lost, prefix + ", which holds no copy"));
      return actions;
    }
    actions.insert(actions.begin(), action(MigrationActionKind::resume_source));
    actions.push_back(finished(MigrationOutcome::aborted, prefix));
    return actions;
  }
  // A third node: neither copy of this attempt is named, so neither may run.
  if (holds_copy) actions.insert(actions.begin(), action(MigrationActionKind::kill_source_copy));
  actions.push_back(finished(MigrationOutcome::aborted, prefix + ", neither source nor target"));
  return actions;
}

// --- MigrationParticipant ----------------------------------------------------------

std::string_view to_string(ParticipantPhase phase) {
  switch (phase) {
    case ParticipantPhase::restoring:
      return "restoring";
    case ParticipantPhase::restored:
      return "restored";
    case ParticipantPhase::resumed:
      return "resumed";
    case ParticipantPhase::discarded:
      return "discarded";
  }
  return "?";
}

std::string_view to_string(ParticipantActionKind kind) {
  switch (kind) {
    case ParticipantActionKind::resume_local_copy:
      return "resume_local_copy";
    case ParticipantActionKind::discard_local_copy:
      return "discard_local_copy";
    case ParticipantActionKind::read_commit_record:
      return "read_commit_record";
    case ParticipantActionKind::finished:
      return "finished";
  }
  return "?";
}

std::string describe(const ParticipantAction& action) {
  std::string text(to_string(action.kind));
  if (action.kind == ParticipantActionKind::finished) {
    text += "(" + std::string(to_string(action.outcome)) + ", \"" + action.reason + "\")";
  }
  return text;
}

MigrationParticipant::MigrationParticipant(MigrationJob job, TimeMs now)
    : job_(std::move(job)), deadline_(now + kParticipantRestoreTimeoutMs) {}

MigrationParticipant MigrationParticipant::after_restart(MigrationJob job, TimeMs now) {
  MigrationParticipant participant(std::move(job), now);
  participant.phase_ = ParticipantPhase::restored;
  participant.deadline_ = now;  // we remember nothing: ask the record at once
  return participant;
}

std::vector<ParticipantAction> MigrationParticipant::on_restore_done(TimeMs now) {
  if (phase_ == ParticipantPhase::discarded) {
    // A restore that finished after we gave up on it: kill what it made.
    return {participant_action(ParticipantActionKind::discard_local_copy)};
  }
  if (phase_ != ParticipantPhase::restoring) return ignored();
  if (resume_when_restored_) return resume("resumed: the record names " + job_.target_node);
  phase_ = ParticipantPhase::restored;
  if (!read_in_flight_) deadline_ = now + kParticipantDecisionTimeoutMs;
  return {};
}

std::vector<ParticipantAction> MigrationParticipant::on_restore_failed(const std::string& reason,
                                                                       TimeMs /*now*/) {
  if (phase_ != ParticipantPhase::restoring) return ignored();
  return discard(with_cause("discarded: restore failed", reason));
}

std::vector<ParticipantAction> MigrationParticipant::on_resume_request(TimeMs /*now*/) {
  if (phase_ == ParticipantPhase::restoring) {
    resume_when_restored_ = true;
    deadline_.reset();
    return {};
  }
  if (phase_ != ParticipantPhase::restored) return ignored();
  return resume("resumed: asked by " + job_.source_node);
}

std::vector<ParticipantAction> MigrationParticipant::on_discard_request(TimeMs /*now*/) {
  // Once we know the record names us (resume_when_restored_), the record wins over a message.
  if (decided() || resume_when_restored_) return ignored();
  return discard("discarded: asked by " + job_.source_node);
}

std::vector<ParticipantAction> MigrationParticipant::on_commit_record_read(
    const std::optional<std::string>& record_names, TimeMs now) {
  if (!read_in_flight_) return ignored();
  read_in_flight_ = false;
  if (decided()) return ignored();  // a resume or discard request came first
  if (!record_names) {
    // Never guess: keep the stopped copy and ask again.
    deadline_ = now + kRecordRereadIntervalMs;
    return {};
  }
  if (*record_names == job_.target_node) {
    if (phase_ == ParticipantPhase::restoring) {
      resume_when_restored_ = true;
      deadline_.reset();
      return {};
    }
    return resume("resumed: the record names " + job_.target_node);
  }
  return discard("discarded: the record names " + *record_names);
}

std::vector<ParticipantAction> MigrationParticipant::tick(TimeMs now) {
  if (decided() || read_in_flight_ || !deadline_ || now < *deadline_) return {};
  // The coordinator is silent: decide by the record (fenced first, see the file comment).
  deadline_.reset();
  read_in_flight_ = true;
  ++record_reads_;
  return {participant_action(ParticipantActionKind::read_commit_record)};
}

std::optional<TimeMs> MigrationParticipant::next_deadline() const {
  if (decided() || read_in_flight_) return std::nullopt;
  return deadline_;
}

std::vector<ParticipantAction> MigrationParticipant::resume(const std::string& reason) {
  phase_ = ParticipantPhase::resumed;
  outcome_ = MigrationOutcome::committed;
  reason_ = reason;
  deadline_.reset();
  return {participant_action(ParticipantActionKind::resume_local_copy),
          participant_finished(outcome_, reason_)};
}

std::vector<ParticipantAction> MigrationParticipant::discard(const std::string& reason) {
  phase_ = ParticipantPhase::discarded;
  outcome_ = MigrationOutcome::aborted;
  reason_ = reason;
  deadline_.reset();
  return {participant_action(ParticipantActionKind::discard_local_copy),
          participant_finished(outcome_, reason_)};
}

std::vector<ParticipantAction> MigrationParticipant::ignored() {
  ++ignored_events_;
  return {};
}

bool MigrationParticipant::decided() const {
  return phase_ == ParticipantPhase::resumed || phase_ == ParticipantPhase::discarded;
}

}  // namespace clusterlive
