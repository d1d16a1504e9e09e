#include "core/migration.h"

#include <limits>
#include <utility>

#include "core/decimal.h"
#include "core/node_id.h"

namespace clusterlive {

static_assert(kPrecopyShrinkPermille > 0 && kPrecopyShrinkPermille < 1000,
              "pre-copy must stop when the dirty set no longer shrinks");
static_assert(kMaxPrecopyRounds >= 1, "at least one pre-copy round when pre-copy is used");
static_assert(kParticipantRestoreTimeoutMs > kRestoreTimeoutMs,
              "the coordinator, holding the frozen original, should give up on a restore first");
static_assert(kMinTransferBytesPerS >= 1000, "transfer_timeout_ms divides by bytes per ms");
static_assert(kMemoryHeadroomPercent >= 100, "the restored copy needs at least the job's RSS");

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

// --- The records on /cluster ---------------------------------------------------------

std::string format_commit_record(const CommitRecord& record) {
  return record.node + " " + std::to_string(record.attempt) + "\n";
}

std::optional<CommitRecord> parse_commit_record(std::string_view text) {
  if (text.size() > kMaxCommitRecordBytes) return std::nullopt;
  if (!text.empty() && text.back() == '\n') text.remove_suffix(1);
  size_t space = text.find(' ');
  if (space == std::string_view::npos) return std::nullopt;  // "<node>" alone: the old form
  std::string_view node = text.substr(0, space);
  // parse_decimal refuses anything but digits, so a second space or a '\n' inside fails here.
  std::optional<uint64_t> attempt = parse_decimal<uint64_t>(text.substr(space + 1), true);
  if (!is_valid_node_id(node) || !attempt) return std::nullopt;
  return CommitRecord{std::string(node), *attempt};
}

std::string prepared_record_name(uint64_t attempt) {
  return std::string(kCommitRecordName) + "." + std::to_string(attempt);
}

std::string fenced_record_name(uint64_t attempt, std::string_view fencer) {
  return "fenced." + std::to_string(attempt) + "." + std::string(fencer);
}

namespace {

// The attempt a leftover of the job directory names: "location.<n>" or "fenced.<n>.<node>".
std::optional<uint64_t> leftover_attempt(std::string_view name) {
  const std::string prepared_prefix = std::string(kCommitRecordName) + ".";
  constexpr std::string_view kFencedPrefix = "fenced.";
  if (name.starts_with(prepared_prefix)) {
    return parse_decimal<uint64_t>(name.substr(prepared_prefix.size()), true);
  }
  if (name.starts_with(kFencedPrefix)) {
    name.remove_prefix(kFencedPrefix.size());
    size_t dot = name.find('.');
    if (dot == std::string_view::npos || !is_valid_node_id(name.substr(dot + 1))) {
      return std::nullopt;
    }
    return parse_decimal<uint64_t>(name.substr(0, dot), true);
  }
  return std::nullopt;
}

// ceil(bytes / MiB) and floor(bytes / MiB), for figures in refusals.
constexpr uint64_t kMiB = 1024 * 1024;
uint64_t mib_up(uint64_t bytes) { return bytes / kMiB + (bytes % kMiB != 0 ? 1 : 0); }
uint64_t mib_down(uint64_t bytes) { return bytes / kMiB; }

}  // namespace

std::optional<uint64_t> next_attempt(const CommitRecord& location,
                                     const std::vector<std::string>& job_dir_entries) {
  uint64_t highest = location.attempt;
  for (const std::string& entry : job_dir_entries) {
    std::optional<uint64_t> attempt = leftover_attempt(entry);
    if (attempt && *attempt > highest) highest = *attempt;
  }
  if (highest == std::numeric_limits<uint64_t>::max()) return std::nullopt;
  return highest + 1;
}

bool may_record_end(std::string_view location_text, std::string_view self_node,
                    uint64_t self_attempt) {
  std::optional<CommitRecord> record = parse_commit_record(location_text);
  return record && record->node == self_node && record->attempt == self_attempt;
}

std::optional<std::string> memory_headroom_refusal(uint64_t job_rss_bytes,
                                                   uint64_t target_available_bytes,
                                                   std::string_view target_node) {
  // rss * percent / 100, rounded up and saturated (an absurd RSS must refuse, not wrap).
  constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
  uint64_t whole = job_rss_bytes / 100;
  uint64_t part = ((job_rss_bytes % 100) * kMemoryHeadroomPercent + 99) / 100;
  uint64_t needed =
      whole > (kMax - part) / kMemoryHeadroomPercent ? kMax : whole * kMemoryHeadroomPercent + part;
  if (target_available_bytes >= needed) return std::nullopt;
  return std::string(target_node) + " has " + std::to_string(mib_down(target_available_bytes)) +
         " MiB available, the job needs " + std::to_string(mib_up(needed)) + " MiB (" +
         std::to_string(kMemoryHeadroomPercent) + " % of its " +
         std::to_string(mib_up(job_rss_bytes)) + " MiB resident)";
}

std::string_view to_string(RenameResult result) {
  switch (result) {
    case RenameResult::done:
      return "done";
    case RenameResult::not_found:
      return "not found";
    case RenameResult::failed:
      return "failed";
  }
  return "?";
}

// --- Pre-copy policy ------------------------------------------------------------------

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
    case PrecopyDecision::skipped_no_dirty_tracking:
      return "no dirty memory tracking, no pre-copy";
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
    case MigrationPhase::prepare:
      return "prepare";
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
    case MigrationPhase::aborting:
      return "aborting";
    case MigrationPhase::aborted:
      return "aborted";
  }
  return "?";
}

std::string_view to_string(MigrationActionKind kind) {
  switch (kind) {
    case MigrationActionKind::write_prepared_record:
      return "write_prepared_record";
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
    case MigrationActionKind::stop_criu:
      return "stop_criu";
    case MigrationActionKind::resume_source:
      return "resume_source";
    case MigrationActionKind::discard_target_copy:
      return "discard_target_copy";
    case MigrationActionKind::fence_prepared_record:
      return "fence_prepared_record";
    case MigrationActionKind::read_commit_record:
      return "read_commit_record";
    case MigrationActionKind::kill_source_copy:
      return "kill_source_copy";
    case MigrationActionKind::tell_target_to_resume:
      return "tell_target_to_resume";
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
  // The prepared record goes first, before anything of the job reaches the target: from then
  // on a target that loses us always finds something to fence (file comment).
  enter(MigrationPhase::prepare, now, kPrepareTimeoutMs);
  return {action(MigrationActionKind::write_prepared_record)};
}

std::vector<MigrationAction> MigrationCoordinator::on_record_prepared(TimeMs now) {
  if (progress_.phase != MigrationPhase::prepare) return ignored();
  enter(MigrationPhase::preflight, now, kPreflightTimeoutMs);
  return {action(MigrationActionKind::run_preflight)};
}

std::vector<MigrationAction> MigrationCoordinator::on_prepare_failed(const std::string& reason,
                                                                     TimeMs now) {
  if (progress_.phase != MigrationPhase::prepare) return ignored();
  return abort(with_cause("prepared record not written", reason), now);
}

std::vector<MigrationAction> MigrationCoordinator::on_preflight_ok(const PreflightFigures& figures,
                                                                   TimeMs now) {
  if (progress_.phase != MigrationPhase::preflight) return ignored();
  resident_pages_ = figures.resident_pages;
  // Checked here too, whatever the pre-flight's own threshold: this is the one the migration
  // relies on (kMemoryHeadroomPercent). Saturates rather than wraps on an absurd page count.
  uint64_t rss_bytes =
      resident_pages_ > UINT64_MAX / kPageBytes ? UINT64_MAX : resident_pages_ * kPageBytes;
  if (std::optional<std::string> refusal =
          memory_headroom_refusal(rss_bytes, figures.target_available_bytes, job_.target_node)) {
    return abort(with_cause("preflight refused", *refusal), now);
  }
  if (resident_pages_ <= kMinPrecopyPages) {
    return begin_final_dump(PrecopyDecision::skipped_tiny_job, now);
  }
  if (!figures.precopy_available) {
    return begin_final_dump(PrecopyDecision::skipped_no_dirty_tracking, now);
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
  criu_running_ = false;
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
  criu_running_ = false;  // it answered, so it has exited
  // Fatal, as in p.haul: see the class comment.
  return abort(with_cause(step_name() + " failed", reason), now);
}

std::vector<MigrationAction> MigrationCoordinator::on_final_dump_done(uint64_t bytes_sent,
                                                                      TimeMs now) {
  if (progress_.phase != MigrationPhase::final_dump) return ignored();
  criu_running_ = false;
  count_transfer(bytes_sent, now);
  progress_.final_dump_bytes = bytes_sent;
  enter(MigrationPhase::restore, now, kRestoreTimeoutMs);
  return {action(MigrationActionKind::restore_on_target)};
}

std::vector<MigrationAction> MigrationCoordinator::on_final_dump_failed(const std::string& reason,
                                                                        TimeMs now) {
  if (progress_.phase != MigrationPhase::final_dump) return ignored();
  criu_running_ = false;
  return abort(with_cause("final dump failed on " + job_.source_node, reason), now);
}

std::vector<MigrationAction> MigrationCoordinator::on_restore_done(TimeMs now) {
  if (progress_.phase != MigrationPhase::restore) return ignored();
  // Commit at once: every millisecond here is freeze time. From this action on nothing may
  // abort until the rename's answer (or the record) says the target was not named.
  enter(MigrationPhase::commit, now, kCommitOverdueMs);
  return {action(MigrationActionKind::write_commit_record)};
}

std::vector<MigrationAction> MigrationCoordinator::on_restore_failed(const std::string& reason,
                                                                     TimeMs now) {
  if (progress_.phase != MigrationPhase::restore) return ignored();
  return abort(with_cause("restore failed on " + job_.target_node, reason), now);
}

std::vector<MigrationAction> MigrationCoordinator::on_commit_result(RenameResult result,
                                                                    const std::string& detail,
                                                                    TimeMs now) {
  // Only the rename's one answer, while nothing else about the record is out.
  if (progress_.phase != MigrationPhase::commit || record_step_ != RecordStep::none) {
    return ignored();
  }
  deadline_.reset();  // no longer overdue: what follows has its own retries
  switch (result) {
    case RenameResult::done:
      return commit_point(now);
    case RenameResult::not_found:
      // Someone renamed the prepared record (the target fenced it), or our rename landed and
      // NFS answered its retransmission: only `location` can tell which.
      commit_failure_ = with_cause("the prepared record was gone", detail);
      return read_record();
    case RenameResult::failed:
      // It may still land (EIO, a hung mount): fence it so it cannot, then decide.
      commit_failure_ = detail;
      return fence();
  }
  return ignored();
}

std::vector<MigrationAction> MigrationCoordinator::on_fence_result(RenameResult result,
                                                                   const std::string& /*detail*/,
                                                                   TimeMs now) {
  if (record_step_ != RecordStep::fence_out) return ignored();
  record_step_ = RecordStep::none;
  switch (result) {
    case RenameResult::done:
      // Our fence took the prepared record: no commit of this attempt can ever land.
      fence_settled_ = true;
      if (progress_.phase == MigrationPhase::commit) {
        return abort(with_cause("commit record not written", commit_failure_), now);
      }
      return finish_abort_if_settled();
    case RenameResult::not_found:
      // Renamed by someone else (the target's fence, or our own commit): read and decide.
      return read_record();
    case RenameResult::failed:
      // Not fenced, as far as we know: the commit might land yet. Try again; never guess.
      record_step_ = RecordStep::fence_retry;
      deadline_ = now + kRecordRereadIntervalMs;
      return {};
  }
  return ignored();
}

std::vector<MigrationAction> MigrationCoordinator::on_commit_record_read(
    const std::optional<CommitRecord>& record, TimeMs now) {
  if (record_step_ != RecordStep::read_out) return ignored();
  record_step_ = RecordStep::none;
  if (!record) {
    record_step_ = RecordStep::read_retry;
    deadline_ = now + kRecordRereadIntervalMs;
    return {};
  }
  return decide_by_record(*record, now);
}

std::vector<MigrationAction> MigrationCoordinator::on_criu_exited(TimeMs now) {
  if (!awaiting_criu_exit_) return ignored();
  awaiting_criu_exit_ = false;
  criu_running_ = false;
  // Decided by the record meanwhile (it named another node): that copy must not run.
  if (progress_.phase != MigrationPhase::aborting) return {};
  // Only now: a CRIU that was still seizing or freezing the job could have frozen it again
  // after an earlier resume, or been left holding tasks a SIGCONT cannot reach.
  std::vector<MigrationAction> actions = {resume_source(now)};
  for (MigrationAction& next : finish_abort_if_settled()) actions.push_back(std::move(next));
  return actions;
}

std::vector<MigrationAction> MigrationCoordinator::on_target_lost(const std::string& reason,
                                                                  TimeMs now) {
  if (before_commit_write()) {
    progress_.target_lost = true;
    return abort(with_cause("target " + job_.target_node + " lost during " + step_name(), reason),
                 now);
  }
  if (progress_.phase == MigrationPhase::commit) {
    // The rename is out (or being settled) and may land: only the record can tell whose the
    // job is.
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
  switch (record_step_) {
    case RecordStep::fence_retry:
      return fence();
    case RecordStep::read_retry:
      return read_record();
    case RecordStep::none:
      if (progress_.phase == MigrationPhase::commit) progress_.commit_overdue = true;
      return {};
    case RecordStep::fence_out:
    case RecordStep::read_out:
      return {};  // no deadline is set while these are out
  }
  return {};
}

std::optional<TimeMs> MigrationCoordinator::next_deadline() const { return deadline_; }

std::vector<MigrationAction> MigrationCoordinator::begin_round(uint32_t round, TimeMs now) {
  uint64_t expected_pages = round == 1 ? resident_pages_ : previous_dirty_pages_;
  enter(MigrationPhase::precopy, now, transfer_timeout_ms(expected_pages));
  progress_.round = round;
  criu_running_ = true;
  // A pre-dump freezes the job while it collects: a CRIU killed then may leave it frozen.
  criu_touched_job_ = true;
  target_may_hold_copy_ = true;  // this round's images land there
  return {action(MigrationActionKind::precopy_round, round)};
}

std::vector<MigrationAction> MigrationCoordinator::begin_final_dump(PrecopyDecision why,
                                                                    TimeMs now) {
  progress_.precopy_stop = why;
  uint64_t expected_pages = progress_.round == 0 ? resident_pages_ : previous_dirty_pages_;
  enter(MigrationPhase::final_dump, now, transfer_timeout_ms(expected_pages));
  // Frozen from the moment we ask: a dump that fails or hangs may have stopped the job
  // already, so every abort from here on resumes it (harmless on a running job).
  criu_running_ = true;
  criu_touched_job_ = true;
  progress_.freeze_started_at = now;
  target_may_hold_copy_ = true;
  return {action(MigrationActionKind::final_dump, progress_.round)};
}

// Called only when the record does not name the target: before the commit was asked for
// (nobody else commits), or once a fence or a read proved it.
std::vector<MigrationAction> MigrationCoordinator::abort(const std::string& reason, TimeMs now) {
  progress_.phase = MigrationPhase::aborting;
  deadline_.reset();
  reason_ = reason;
  std::vector<MigrationAction> actions;
  if (criu_running_) {
    // Never resume under a running CRIU: stop it, and resume on on_criu_exited.
    awaiting_criu_exit_ = true;
    actions.push_back(action(MigrationActionKind::stop_criu));
  } else if (criu_touched_job_) {
    actions.push_back(resume_source(now));
  }
  if (target_may_hold_copy_) actions.push_back(action(MigrationActionKind::discard_target_copy));
  if (!fence_settled_) {
    // Kill the attempt's prepared record for good, so that nothing can commit it later and a
    // target deciding alone finds `location` naming us.
    for (MigrationAction& next : fence()) actions.push_back(std::move(next));
  }
  for (MigrationAction& next : finish_abort_if_settled()) actions.push_back(std::move(next));
  return actions;
}

std::vector<MigrationAction> MigrationCoordinator::finish_abort_if_settled() {
  if (progress_.phase != MigrationPhase::aborting || awaiting_criu_exit_ || !fence_settled_) {
    return {};
  }
  progress_.phase = MigrationPhase::aborted;
  deadline_.reset();
  outcome_ = MigrationOutcome::aborted;
  return {finished(MigrationOutcome::aborted, reason_)};
}

std::vector<MigrationAction> MigrationCoordinator::commit_point(TimeMs now) {
  // ======================= POINT OF NO RETURN =======================
  // The record names the target and this attempt: the job is the target's. Nothing below
  // undoes it, and no later event (target lost, tick, cancel) changes the outcome. The source
  // copy goes first: it is stopped, and must never run again.
  progress_.phase = MigrationPhase::committed;
  deadline_.reset();
  record_step_ = RecordStep::none;
  outcome_ = MigrationOutcome::committed;
  if (progress_.freeze_started_at) {
    progress_.freeze_duration_ms = now - *progress_.freeze_started_at;
  }
  if (progress_.target_lost) {
    reason_ =
        with_cause("target " + job_.target_node + " lost during commit", target_lost_reason_) +
        "; the job lives or dies with it";
  }
  return {action(MigrationActionKind::kill_source_copy),
          action(MigrationActionKind::tell_target_to_resume),
          finished(MigrationOutcome::committed, reason_)};
}

std::vector<MigrationAction> MigrationCoordinator::decide_by_record(const CommitRecord& record,
                                                                    TimeMs now) {
  if (record.node == job_.target_node && record.attempt == job_.attempt) {
    // Our commit landed (its answer was lost or doubled). In the aborting phase this cannot
    // happen (we never asked to commit), but the record is the arbiter all the same.
    return commit_point(now);
  }
  // The prepared record is gone and `location` does not name this attempt's target: it can
  // never be committed now.
  fence_settled_ = true;
  if (record.node == job_.source_node) {
    if (progress_.phase == MigrationPhase::commit) {
      return abort(with_cause("commit record not written", commit_failure_) +
                       "; the record names " + record.node,
                   now);
    }
    return finish_abort_if_settled();
  }
  // Another node (or the target by another attempt): neither copy of this attempt is named,
  // so neither may run.
  progress_.phase = MigrationPhase::aborted;
  deadline_.reset();
  outcome_ = MigrationOutcome::aborted;
  reason_ = "the record names " + record.node + " attempt " + std::to_string(record.attempt) +
            ", neither source nor target of attempt " + std::to_string(job_.attempt);
  std::vector<MigrationAction> actions = {action(MigrationActionKind::kill_source_copy)};
  if (target_may_hold_copy_) actions.push_back(action(MigrationActionKind::discard_target_copy));
  actions.push_back(finished(MigrationOutcome::aborted, reason_));
  return actions;
}

std::vector<MigrationAction> MigrationCoordinator::fence() {
  record_step_ = RecordStep::fence_out;
  ++progress_.fences;
  return {action(MigrationActionKind::fence_prepared_record)};
}

std::vector<MigrationAction> MigrationCoordinator::read_record() {
  record_step_ = RecordStep::read_out;
  ++progress_.record_reads;
  return {action(MigrationActionKind::read_commit_record)};
}

MigrationAction MigrationCoordinator::resume_source(TimeMs now) {
  if (progress_.freeze_started_at) {
    progress_.freeze_duration_ms = now - *progress_.freeze_started_at;
  }
  return action(MigrationActionKind::resume_source);
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
    case MigrationPhase::prepare:
    case MigrationPhase::preflight:
    case MigrationPhase::precopy:
    case MigrationPhase::final_dump:
    case MigrationPhase::restore:
      return true;
    default:
      return false;
  }
}

std::vector<MigrationAction> recover_coordinator(const MigrationJob& job, RenameResult fence,
                                                 const std::optional<CommitRecord>& record,
                                                 bool holds_copy, TargetCopy target_copy) {
  // Never guess: a failed fence (the commit sent before the crash may still land) or an
  // unreadable record leaves every copy as it is (stopped ones do no harm). Fence and read
  // again; the fence's not_found is fine: someone renamed the prepared record, and the read
  // after it says who won.
  if (fence == RenameResult::failed || !record) {
    return {action(MigrationActionKind::fence_prepared_record),
            action(MigrationActionKind::read_commit_record)};
  }
  const std::string prefix = "recovered after the migration worker died: the record names " + record->node +
                             " attempt " + std::to_string(record->attempt);
  bool target_may_hold = target_copy != TargetCopy::absent;

  std::vector<MigrationAction> actions;
  if (record->node == job.target_node && record->attempt == job.attempt) {
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
  if (record->node == job.source_node) {
    if (!holds_copy) {
      // Our copy vanished (killed, or the node rebooted): not revived from the target's.
      actions.push_back(finished(MigrationOutcome::lost, prefix + ", which holds no copy"));
      return actions;
    }
    actions.insert(actions.begin(), action(MigrationActionKind::resume_source));
    actions.push_back(finished(MigrationOutcome::aborted, prefix));
    return actions;
  }
  // Another node, or the target by another attempt: neither copy of this attempt is named, so
  // neither may run.
  if (holds_copy) actions.insert(actions.begin(), action(MigrationActionKind::kill_source_copy));
  actions.push_back(finished(MigrationOutcome::aborted, prefix + ", neither source nor target"));
  return actions;
}

// --- MigrationParticipant ----------------------------------------------------------

std::string_view to_string(ParticipantPhase phase) {
  switch (phase) {
    case ParticipantPhase::receiving:
      return "receiving";
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
    case ParticipantActionKind::start_restore:
      return "start_restore";
    case ParticipantActionKind::resume_local_copy:
      return "resume_local_copy";
    case ParticipantActionKind::discard_local_copy:
      return "discard_local_copy";
    case ParticipantActionKind::fence_prepared_record:
      return "fence_prepared_record";
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

std::optional<std::string> refuse_participant(const MigrationJob& request,
                                              const std::vector<ParticipantEntry>& existing) {
  for (const ParticipantEntry& entry : existing) {
    if (entry.job_id != request.job_id) continue;
    std::string held = request.job_id + " attempt " + std::to_string(entry.attempt);
    if (entry.attempt >= request.attempt) {
      // Attempts never repeat (next_attempt): this is a duplicate or a stale request, and a
      // second participant could restore a second copy.
      return "refused " + request.job_id + " attempt " + std::to_string(request.attempt) + ": " +
             held + " already has a participant here";
    }
    if (!entry.decided) {
      return "refused " + request.job_id + " attempt " + std::to_string(request.attempt) + ": " +
             held + " is still undecided here (one cgroup per job)";
    }
  }
  return std::nullopt;
}

MigrationParticipant::MigrationParticipant(MigrationJob job, TimeMs now)
    : job_(std::move(job)), deadline_(now + kParticipantIdleTimeoutMs) {}

MigrationParticipant MigrationParticipant::after_restart(MigrationJob job, TimeMs now,
                                                         bool holds_copy) {
  MigrationParticipant participant(std::move(job), now);
  participant.phase_ = holds_copy ? ParticipantPhase::restored : ParticipantPhase::receiving;
  participant.deadline_ = now;  // we remember nothing: fence and read the record at once
  return participant;
}

void MigrationParticipant::on_heard_from_coordinator(TimeMs now) {
  // Once deciding by the record we stay on that path (our fence may already have landed).
  if (decided() || record_step_ != RecordStep::none) return;
  rearm(now);
}

std::vector<ParticipantAction> MigrationParticipant::on_restore_request(TimeMs now) {
  if (phase_ != ParticipantPhase::receiving || record_step_ != RecordStep::none) {
    return ignored();
  }
  phase_ = ParticipantPhase::restoring;
  // The coordinator now waits for us: the restore's own deadline, not the idle one.
  deadline_ = now + kParticipantRestoreTimeoutMs;
  return {participant_action(ParticipantActionKind::start_restore)};
}

std::vector<ParticipantAction> MigrationParticipant::on_restore_done(TimeMs now) {
  if (phase_ == ParticipantPhase::discarded) {
    // A restore that finished after we gave up on it: kill what it made.
    return {participant_action(ParticipantActionKind::discard_local_copy)};
  }
  if (phase_ != ParticipantPhase::restoring) return ignored();
  if (resume_when_restored_) return resume("resumed: the record names " + job_.target_node);
  phase_ = ParticipantPhase::restored;
  // We tell the coordinator now; it owes us an answer within the idle deadline.
  if (record_step_ == RecordStep::none) rearm(now);
  return {};
}

std::vector<ParticipantAction> MigrationParticipant::on_restore_failed(const std::string& reason,
                                                                       TimeMs /*now*/) {
  if (phase_ != ParticipantPhase::restoring) return ignored();
  return discard(MigrationOutcome::aborted, with_cause("discarded: restore failed", reason));
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
  return discard(MigrationOutcome::aborted, "discarded: asked by " + job_.source_node);
}

std::vector<ParticipantAction> MigrationParticipant::on_fence_result(RenameResult result,
                                                                     TimeMs now) {
  if (record_step_ != RecordStep::fence_out) return ignored();
  record_step_ = RecordStep::none;
  if (decided()) return ignored();  // a resume or discard request came first
  if (result == RenameResult::failed) {
    // Not fenced as far as we know: a commit could still land after we read. Try again.
    record_step_ = RecordStep::fence_retry;
    deadline_ = now + kRecordRereadIntervalMs;
    return {};
  }
  // done: the commit can no longer land; not_found: someone renamed it first. Either way the
  // record is final now, and only what it names counts.
  record_step_ = RecordStep::read_out;
  ++record_reads_;
  return {participant_action(ParticipantActionKind::read_commit_record)};
}

std::vector<ParticipantAction> MigrationParticipant::on_commit_record_read(
    const std::optional<CommitRecord>& record, TimeMs now) {
  if (record_step_ != RecordStep::read_out) return ignored();
  record_step_ = RecordStep::none;
  if (decided()) return ignored();  // a resume or discard request came first
  if (!record) {
    // Never guess: keep what we hold and read again (the fence already landed or lost).
    record_step_ = RecordStep::read_retry;
    deadline_ = now + kRecordRereadIntervalMs;
    return {};
  }
  std::string named = record->node + " attempt " + std::to_string(record->attempt);
  if (!names_us(*record))
    return discard(MigrationOutcome::aborted, "discarded: the record names " + named);
  switch (phase_) {
    case ParticipantPhase::restoring:
      resume_when_restored_ = true;
      deadline_.reset();
      return {};
    case ParticipantPhase::restored:
      return resume("resumed: the record names " + job_.target_node);
    default:
      // Committed without a restored copy here: the coordinator commits only after we
      // reported one, so either it vanished since (killed) or the job is nowhere.
      return discard(MigrationOutcome::lost,
                     "the record names " + named + ", but this node holds no restored copy");
  }
}

std::vector<ParticipantAction> MigrationParticipant::tick(TimeMs now) {
  if (decided() || !deadline_ || now < *deadline_) return {};
  deadline_.reset();
  if (record_step_ == RecordStep::read_retry) {
    record_step_ = RecordStep::read_out;
    ++record_reads_;
    return {participant_action(ParticipantActionKind::read_commit_record)};
  }
  // The coordinator is silent (or our last fence failed): fence, then read (file comment).
  record_step_ = RecordStep::fence_out;
  ++fences_;
  return {participant_action(ParticipantActionKind::fence_prepared_record)};
}

std::optional<TimeMs> MigrationParticipant::next_deadline() const {
  if (decided()) return std::nullopt;
  return deadline_;
}

ParticipantEntry MigrationParticipant::entry() const {
  return ParticipantEntry{job_.job_id, job_.attempt, decided()};
}

std::vector<ParticipantAction> MigrationParticipant::resume(const std::string& reason) {
  phase_ = ParticipantPhase::resumed;
  outcome_ = MigrationOutcome::committed;
  reason_ = reason;
  deadline_.reset();
  return {participant_action(ParticipantActionKind::resume_local_copy),
          participant_finished(outcome_, reason_)};
}

std::vector<ParticipantAction> MigrationParticipant::discard(MigrationOutcome outcome,
                                                             const std::string& reason) {
  phase_ = ParticipantPhase::discarded;
  outcome_ = outcome;
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

bool MigrationParticipant::names_us(const CommitRecord& record) const {
  return record.node == job_.target_node && record.attempt == job_.attempt;
}

void MigrationParticipant::rearm(TimeMs now) {
  if (phase_ == ParticipantPhase::restoring) return;  // the restore's deadline stands
  deadline_ = now + kParticipantIdleTimeoutMs;
}

}  // namespace clusterlive
