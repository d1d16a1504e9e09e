#include "core/migration.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

namespace clusterlive {
namespace {

const std::string kSource = "node-a10001";
const std::string kTarget = "node-c10002";

MigrationJob test_job() { return MigrationJob{"job-17", kSource, kTarget, 1}; }
// `location` before the migration (the job started on the source) and after its commit.
const CommitRecord kSourceRecord{kSource, 0};
const CommitRecord kTargetRecord{kTarget, 1};

std::vector<MigrationActionKind> kinds(const std::vector<MigrationAction>& actions) {
  std::vector<MigrationActionKind> result;
  for (const MigrationAction& action : actions) result.push_back(action.kind);
  return result;
}

std::vector<ParticipantActionKind> kinds(const std::vector<ParticipantAction>& actions) {
  std::vector<ParticipantActionKind> result;
  for (const ParticipantAction& action : actions) result.push_back(action.kind);
  return result;
}

// The last action, or a default one (and a failure) if there is none.
template <class Action>
Action last(const std::vector<Action>& actions) {
  if (actions.empty()) {
    ADD_FAILURE() << "no actions";
    return Action{};
  }
  return actions.back();
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

using K = MigrationActionKind;
using P = ParticipantActionKind;

// --- The fake world ------------------------------------------------------------------
// Two nodes, a link between them and the shared storage, carrying out what the coordinator and
// the participant ask for, as the daemons' edges will. Every answer arrives later on a clock
// (an event queue), so faults can strike between a request and its answer. The world checks
// the invariants after every action: never two running copies, the source never resumed once
// the record names the target nor while CRIU may hold it, never killed before, the target
// never resumed unless named.

enum class Copy { none, running, stopped };

const char* name(Copy copy) {
  switch (copy) {
    case Copy::none:
      return "none";
    case Copy::running:
      return "running";
    case Copy::stopped:
      return "stopped";
  }
  return "?";
}

// Where a fault strikes.
enum class Step {
  none,
  prepare,
  preflight,
  precopy_round,
  final_dump,
  restore,
  commit_write,
  after_commit
};

// What goes wrong there.
enum class Fault {
  none,
  link_lost,       // the target lives on, cut off for good; membership says so 2 s later
  target_crashes,  // the target dies and its copies with it; membership says so 2 s later
  fails,           // the step answers with a failure (commit_write: "disk full", not renamed)
  hangs,           // the step never answers (commit_write: lands after 60 s, storage fine)
  link_lost_then_write_fails,  // commit_write: cut off, then the write fails
  storage_down,                // commit_write: /cluster hangs 120 s, the write lands then
  lands_answers_enoent,        // commit_write: renamed, but NFS answers a retransmission: ENOENT
  lands_answers_eio,           // commit_write: renamed, but the answer is EIO
};

struct FaultPlan {
  Step step = Step::none;
  uint32_t round = 0;  // for Step::precopy_round
  Fault fault = Fault::none;
};

// Timings of the world, in milliseconds. The link moves 4096 bytes (a page) per millisecond.
constexpr TimeMs kMembershipDelayMs = 2'000;
constexpr TimeMs kStaleFailureDelayMs = 5'000;  // a step's own error after a loss: arrives late
constexpr TimeMs kPreflightMs = 200;
constexpr TimeMs kRestoreMs = 300;
constexpr TimeMs kWriteMs = 10;
constexpr TimeMs kCriuExitMs = 50;  // from stop_criu to the reaped CRIU
constexpr TimeMs kMessageMs = 1;
constexpr TimeMs kTickMs = 100;
constexpr TimeMs kPagesHeardEveryMs = 1'000;  // the target notices pages arriving
constexpr uint64_t kLinkBytesPerMs = 4096;
constexpr uint64_t kPlentyOfMemory = uint64_t{1} << 40;

// The default job: 20000 resident pages; the rounds write these pages (the 5th does not shrink
// enough: 1100 >= 0.8 * 1200), the final dump 900.
const std::vector<uint64_t> kDefaultRounds = {20'000, 8'000, 3'000, 1'200, 1'100};
constexpr uint64_t kDefaultResidentPages = 20'000;
constexpr uint64_t kDefaultFinalPages = 900;

// The pre-flight figures of a job of `pages` pages on a target with plenty of memory.
PreflightFigures figures(uint64_t pages, bool precopy_available = true) {
  return PreflightFigures{pages, kPlentyOfMemory, precopy_available};
}

class World {
 public:
  explicit World(FaultPlan plan, std::vector<uint64_t> round_pages = kDefaultRounds,
                 uint64_t resident_pages = kDefaultResidentPages,
                 uint64_t final_pages = kDefaultFinalPages, bool precopy_available = true)
      : plan_(plan),
        round_pages_(std::move(round_pages)),
        resident_pages_(resident_pages),
        final_pages_(final_pages),
        precopy_available_(precopy_available) {}

  /// Starts the migration and runs until everything is decided and quiet, or `limit_ms`.
  void run(TimeMs limit_ms = 20 * 60'000) {
    apply(coordinator.start(now));
    while (now <= limit_ms) {
      if (quiet()) return;
      TimeMs next_tick = now + kTickMs - now % kTickMs;
      if (!queue_.empty() && queue_.begin()->first <= next_tick) {
        auto event = queue_.begin();
        now = event->first;
        std::function<void()> fn = std::move(event->second.second);
        log.push_back(std::to_string(now) + " event " + event->second.first);
        queue_.erase(event);
        fn();
      } else {
        now = next_tick;
        apply(coordinator.tick(now));
        if (participant && target_alive) apply(participant->tick(now));
      }
    }
    violation("did not settle by " + std::to_string(limit_ms) + " ms");
  }

  /// Everything that happened, for failure messages.
  std::string trace() const {
    std::string text;
    for (const std::string& line : log) text += "  " + line + "\n";
    return text;
  }

  size_t running_copies() const {
    return (source == Copy::running ? 1u : 0u) + (target == Copy::running ? 1u : 0u);
  }

  bool asked(MigrationActionKind kind) const {
    for (const MigrationAction& action : coordinator_actions) {
      if (action.kind == kind) return true;
    }
    return false;
  }

  TimeMs now = 0;
  MigrationCoordinator coordinator{test_job()};
  std::optional<MigrationParticipant> participant;
  Copy source = Copy::running;
  Copy target = Copy::none;
  bool criu_running = false;  // a pre-dump or dump runs on the source
  bool link_up = true;
  bool target_alive = true;
  TimeMs storage_down_until = 0;          // /cluster hangs before this time
  CommitRecord location = kSourceRecord;  // the commit record
  bool prepared = false;                  // location.<attempt> exists
  std::vector<std::string> fenced_names;  // where fences renamed it to
  std::optional<MigrationAction> finished;
  std::optional<ParticipantAction> target_finished;
  std::vector<std::string> violations;
  std::vector<std::string> log;
  std::vector<MigrationAction> coordinator_actions;
  uint32_t rounds_requested = 0;
  uint32_t source_resumes = 0;
  TimeMs final_dump_at = -1;
  TimeMs target_told_to_resume_at = -1;

 private:
  using Event = std::pair<std::string, std::function<void()>>;

  bool quiet() const {
    bool target_settled = !participant || !target_alive ||
                          participant->phase() == ParticipantPhase::resumed ||
                          participant->phase() == ParticipantPhase::discarded;
    return queue_.empty() && finished.has_value() && target_settled;
  }

  bool storage_up() const { return now >= storage_down_until; }
  bool faulted(Step step, uint32_t round = 0) const {
    return plan_.step == step && (step != Step::precopy_round || plan_.round == round);
  }
  bool target_named() const { return location == kTargetRecord; }

  void violation(const std::string& what) {
    violations.push_back(std::to_string(now) + " " + what);
  }

  void at(TimeMs delay, std::string label, std::function<void()> fn) {
    queue_.emplace(now + delay, Event(std::move(label), std::move(fn)));
  }

  // An answer of the source's own edge (CRIU, storage): always arrives.
  void to_coordinator(TimeMs delay, std::string label,
                      std::function<std::vector<MigrationAction>()> event) {
    at(delay, std::move(label), [this, event] { apply(event()); });
  }

  // An answer of CRIU on the source: it has exited when the answer arrives.
  void criu_answers(TimeMs delay, std::string label,
                    std::function<std::vector<MigrationAction>()> event) {
    at(delay, std::move(label), [this, event] {
      criu_running = false;
      apply(event());
    });
  }

  // A message over the mesh to the target: lost when the link is down on arrival. Whatever
  // arrives counts as hearing from the coordinator.
  void to_target(TimeMs delay, std::string label, std::function<void()> fn) {
    at(delay, label, [this, label, fn] {
      if (!link_up || !target_alive) {
        log.push_back(std::to_string(now) + " lost on the way: " + label);
        return;
      }
      if (participant) participant->on_heard_from_coordinator(now);
      fn();
    });
  }

  // A message over the mesh from the target.
  void from_target(TimeMs delay, std::string label,
                   std::function<std::vector<MigrationAction>()> event) {
    at(delay, label, [this, label, event] {
      if (!link_up) {
        log.push_back(std::to_string(now) + " lost on the way: " + label);
        return;
      }
      apply(event());
    });
  }

  // A page server request: the first one of the attempt creates the participant.
  void page_server(TimeMs transfer_ms) {
    to_target(kMessageMs, "page server request", [this] {
      if (participant) return;
      std::vector<ParticipantEntry> held;
      if (std::optional<std::string> refusal = refuse_participant(test_job(), held)) {
        violation(*refusal);
        return;
      }
      participant.emplace(test_job(), now);
    });
    // Pages arrive while the transfer runs (they stop when it hangs or the link goes).
    for (TimeMs t = kPagesHeardEveryMs; t < transfer_ms; t += kPagesHeardEveryMs) {
      to_target(kMessageMs + t, "pages", [] {});
    }
  }

  void lose_link() {
    log.push_back(std::to_string(now) + " FAULT link to the target lost");
    link_up = false;
    to_coordinator(kMembershipDelayMs, "target lost",
                   [this] { return coordinator.on_target_lost("no answer to probes", now); });
  }

  void crash_target() {
    log.push_back(std::to_string(now) + " FAULT target crashed");
    target_alive = false;
    link_up = false;
    target = Copy::none;
    participant.reset();
    to_coordinator(kMembershipDelayMs, "target declared dead",
                   [this] { return coordinator.on_target_lost("declared dead", now); });
  }

  // Applies the loss faults of `step`; true if one struck.
  bool strike_loss(Step step, uint32_t round = 0) {
    if (!faulted(step, round)) return false;
    if (plan_.fault == Fault::link_lost) {
      lose_link();
      return true;
    }
    if (plan_.fault == Fault::target_crashes) {
      crash_target();
      return true;
    }
    return false;
  }

  void check_invariants() {
    if (running_copies() > 1) violation("two copies running");
  }

  void apply(const std::vector<MigrationAction>& actions) {
    for (const MigrationAction& action : actions) {
      log.push_back(std::to_string(now) + " coordinator: " + describe(action));
      coordinator_actions.push_back(action);
      carry_out(action);
      check_invariants();
    }
  }

  void apply(const std::vector<ParticipantAction>& actions) {
    for (const ParticipantAction& action : actions) {
      log.push_back(std::to_string(now) + " participant: " + describe(action));
      carry_out(action);
      check_invariants();
    }
  }

  // rename(location.<attempt>, fenced.<attempt>.<fencer>), answered after `delay`.
  void fence(const std::string& fencer, std::function<void(RenameResult)> answer) {
    if (!storage_up()) {
      at(1'000, "fence fails", [answer] { answer(RenameResult::failed); });
      return;
    }
    RenameResult result = RenameResult::not_found;
    if (prepared) {
      prepared = false;
      fenced_names.push_back(fenced_record_name(test_job().attempt, fencer));
      result = RenameResult::done;
    }
    at(kWriteMs, "fence answers", [answer, result] { answer(result); });
  }

  // Reads `location`, answered after a moment (nullopt while the storage is down).
  void read_record(std::function<void(std::optional<CommitRecord>)> answer) {
    if (!storage_up()) {
      at(1'000, "record read fails", [answer] { answer(std::nullopt); });
      return;
    }
    // Through the text, as the edge will read it.
    at(5, "record read answers",
       [answer, text = format_commit_record(location)] { answer(parse_commit_record(text)); });
  }

  void carry_out(const MigrationAction& action) {
    switch (action.kind) {
      case K::write_prepared_record:
        if (prepared) violation("prepared record written twice");
        if (faulted(Step::prepare) && plan_.fault == Fault::hangs) break;
        if (faulted(Step::prepare) && plan_.fault == Fault::fails) {
          to_coordinator(kWriteMs, "prepare fails",
                         [this] { return coordinator.on_prepare_failed("disk full", now); });
          break;
        }
        prepared = true;
        to_coordinator(kWriteMs, "record prepared",
                       [this] { return coordinator.on_record_prepared(now); });
        break;

      case K::run_preflight:
        if (!prepared) violation("preflight before the prepared record");
        if (strike_loss(Step::preflight)) {
          to_coordinator(kStaleFailureDelayMs, "preflight refused (stale)", [this] {
            return coordinator.on_preflight_refused("target unreachable", now);
          });
        } else if (faulted(Step::preflight) && plan_.fault == Fault::fails) {
          to_coordinator(kPreflightMs, "preflight refused", [this] {
            return coordinator.on_preflight_refused("cpu of node-c10002 lacks avx512f", now);
          });
        } else if (!faulted(Step::preflight)) {
          to_coordinator(kPreflightMs, "preflight ok", [this] {
            return coordinator.on_preflight_ok(figures(resident_pages_, precopy_available_), now);
          });
        }
        break;

      case K::precopy_round: {
        ++rounds_requested;
        uint32_t round = action.round;
        size_t index = std::min<size_t>(round - 1, round_pages_.size() - 1);
        uint64_t pages = round_pages_[index];
        TimeMs transfer_ms = static_cast<TimeMs>(pages * kPageBytes / kLinkBytesPerMs);
        if (source != Copy::running) violation("pre-dump of a job that is not running");
        if (criu_running) violation("two CRIU requests at once");
        criu_running = true;
        bool hangs = faulted(Step::precopy_round, round) && plan_.fault == Fault::hangs;
        page_server(hangs ? 0 : transfer_ms);
        if (strike_loss(Step::precopy_round, round)) {
          criu_answers(kStaleFailureDelayMs, "round failed (stale)", [this, round] {
            return coordinator.on_round_failed(round, "page server connection reset", now);
          });
        } else if (faulted(Step::precopy_round, round) && plan_.fault == Fault::fails) {
          criu_answers(100, "round failed", [this, round] {
            return coordinator.on_round_failed(round, "criu pre-dump exited with 1", now);
          });
        } else if (!faulted(Step::precopy_round, round)) {
          criu_answers(transfer_ms, "round done", [this, round, pages] {
            return coordinator.on_round_done(round, pages * kPageBytes, pages, now);
          });
        }
        break;
      }

      case K::final_dump: {
        final_dump_at = now;
        if (source != Copy::running) violation("final dump of a job that is not running");
        if (criu_running) violation("two CRIU requests at once");
        criu_running = true;
        source = Copy::stopped;  // frozen, and left stopped
        TimeMs transfer_ms = static_cast<TimeMs>(final_pages_ * kPageBytes / kLinkBytesPerMs);
        bool hangs = faulted(Step::final_dump) && plan_.fault == Fault::hangs;
        page_server(hangs ? 0 : transfer_ms);
        if (strike_loss(Step::final_dump)) {
          criu_answers(kStaleFailureDelayMs, "final dump failed (stale)", [this] {
            return coordinator.on_final_dump_failed("page server connection reset", now);
          });
        } else if (faulted(Step::final_dump) && plan_.fault == Fault::fails) {
          criu_answers(100, "final dump failed", [this] {
            return coordinator.on_final_dump_failed("criu dump: cannot dump task 4242", now);
          });
        } else if (!hangs) {
          criu_answers(transfer_ms, "final dump done", [this] {
            return coordinator.on_final_dump_done(final_pages_ * kPageBytes, now);
          });
        }
        break;
      }

      case K::restore_on_target:
        if (!prepared) log.push_back(std::to_string(now) + " (restore with no prepared record)");
        to_target(kMessageMs, "restore request", [this] { target_restores(); });
        break;

      case K::write_commit_record:
        write_record();
        break;

      case K::stop_criu:
        if (!criu_running) break;  // it ended on its own meanwhile; the edge still answers
        at(kCriuExitMs, "criu killed and reaped", [this] { criu_running = false; });
        to_coordinator(kCriuExitMs, "criu exited",
                       [this] { return coordinator.on_criu_exited(now); });
        break;

      case K::resume_source:
        ++source_resumes;
        if (target_named()) violation("source resumed after the commit");
        if (criu_running) violation("source resumed while CRIU may hold it");
        if (source == Copy::stopped) source = Copy::running;
        break;

      case K::discard_target_copy:
        to_target(kMessageMs, "discard request", [this] {
          if (participant) apply(participant->on_discard_request(now));
        });
        break;

      case K::fence_prepared_record:
        fence(kSource,
              [this](RenameResult result) { apply(coordinator.on_fence_result(result, "", now)); });
        break;

      case K::read_commit_record:
        read_record([this](std::optional<CommitRecord> record) {
          apply(coordinator.on_commit_record_read(record, now));
        });
        break;

      case K::kill_source_copy:
        if (!target_named()) violation("source killed before the commit");
        source = Copy::none;
        break;

      case K::tell_target_to_resume:
        target_told_to_resume_at = now;
        if (!target_named()) violation("target told to resume before the commit");
        strike_loss(Step::after_commit);
        to_target(kMessageMs, "resume request", [this] {
          if (participant) apply(participant->on_resume_request(now));
        });
        break;

      case K::finished:
        if (finished) violation("finished twice");
        finished = action;
        break;
    }
  }

  // The target's edge: a restore request arrived.
  void target_restores() {
    if (!participant) {
      violation("restore request without a participant");
      return;
    }
    std::vector<ParticipantAction> actions = participant->on_restore_request(now);
    apply(actions);
    if (actions.empty()) {
      from_target(kMessageMs, "restore refused report",
                  [this] { return coordinator.on_restore_failed("refused", now); });
      return;
    }
    if (strike_loss(Step::restore)) {
      if (!target_alive) return;
      // Cut off, the target still restores; its report cannot reach the source.
      at(kRestoreMs, "restore finishes on the cut-off target", [this] { target_restore_done(); });
      return;
    }
    if (faulted(Step::restore) && plan_.fault == Fault::hangs) return;
    if (faulted(Step::restore) && plan_.fault == Fault::fails) {
      at(kRestoreMs, "restore fails on the target", [this] {
        if (!participant || !target_alive) return;
        apply(participant->on_restore_failed("missing file /home/x", now));
        from_target(kMessageMs, "restore failed report",
                    [this] { return coordinator.on_restore_failed("missing file /home/x", now); });
      });
      return;
    }
    at(kRestoreMs, "restore finishes on the target", [this] { target_restore_done(); });
  }

  void target_restore_done() {
    if (!participant || !target_alive) return;
    if (participant->phase() != ParticipantPhase::restoring) return;  // killed by a discard
    target = Copy::stopped;
    apply(participant->on_restore_done(now));  // the participant first, then the report
    from_target(kMessageMs, "restore done report",
                [this] { return coordinator.on_restore_done(now); });
  }

  // The source's edge: write_commit_record, with the fault of the commit step.
  void write_record() {
    TimeMs lands_after = kWriteMs;
    std::optional<RenameResult> forced;  // the answer, whatever happened
    std::string failure;
    if (faulted(Step::commit_write)) {
      switch (plan_.fault) {
        case Fault::fails:
          forced = RenameResult::failed;
          failure = "disk full";
          break;
        case Fault::link_lost:
        case Fault::target_crashes:
          strike_loss(Step::commit_write);
          lands_after = 3'000;  // after membership reported the loss
          break;
        case Fault::link_lost_then_write_fails:
          lose_link();
          lands_after = 3'000;
          forced = RenameResult::failed;
          failure = "/cluster unreachable";
          break;
        case Fault::hangs:
          lands_after = 60'000;
          break;
        case Fault::storage_down:
          storage_down_until = now + 120'000;
          lands_after = 120'000;
          break;
        case Fault::lands_answers_enoent:
        case Fault::lands_answers_eio:
        case Fault::none:
          break;
      }
    }
    at(lands_after, "commit record write answers", [this, forced, failure] {
      if (forced) {
        apply(coordinator.on_commit_result(*forced, failure, now));
        return;
      }
      // rename(location.<attempt>, location)
      RenameResult result = RenameResult::not_found;
      if (prepared) {
        location = kTargetRecord;
        prepared = false;
        result = RenameResult::done;
      }
      if (result == RenameResult::done && faulted(Step::commit_write)) {
        if (plan_.fault == Fault::lands_answers_enoent) result = RenameResult::not_found;
        if (plan_.fault == Fault::lands_answers_eio) result = RenameResult::failed;
      }
      apply(coordinator.on_commit_result(result, "", now));
    });
  }

  void carry_out(const ParticipantAction& action) {
    switch (action.kind) {
      case P::start_restore:
        if (!target_alive) violation("a dead target restores");
        break;
      case P::resume_local_copy:
        if (!target_named()) {
          violation("target resumed while the record names " + format_commit_record(location));
        }
        if (target != Copy::stopped) {
          violation(std::string("target resumed with its copy ") + name(target));
        }
        target = Copy::running;
        break;
      case P::discard_local_copy:
        if (target == Copy::running) violation("a running target copy discarded");
        target = Copy::none;
        break;
      case P::fence_prepared_record:
        fence(kTarget, [this](RenameResult result) {
          if (participant && target_alive) apply(participant->on_fence_result(result, now));
        });
        break;
      case P::read_commit_record:
        read_record([this](std::optional<CommitRecord> record) {
          if (participant && target_alive) apply(participant->on_commit_record_read(record, now));
        });
        break;
      case P::finished:
        if (target_finished) violation("target finished twice");
        target_finished = action;
        break;
    }
  }

  FaultPlan plan_;
  std::vector<uint64_t> round_pages_;
  uint64_t resident_pages_;
  uint64_t final_pages_;
  bool precopy_available_;
  std::multimap<TimeMs, Event> queue_;  // equal times run in insertion order
};

// --- The fault-per-phase matrix ------------------------------------------------------

enum class JobOn { source, target, nowhere };

struct Scenario {
  const char* name;
  FaultPlan plan;
  MigrationOutcome outcome;
  const char* reason;  // a part of the coordinator's reason; "" must be empty
  JobOn job_on;
};

void PrintTo(const Scenario& scenario, std::ostream* out) { *out << scenario.name; }

class MigrationFaults : public ::testing::TestWithParam<Scenario> {};

TEST_P(MigrationFaults, ExactlyOneCopyRunsAndTheOutcomeSaysWhere) {
  const Scenario& scenario = GetParam();
  World world(scenario.plan);
  world.run();
  SCOPED_TRACE("trace:\n" + world.trace());

  EXPECT_TRUE(world.violations.empty()) << ::testing::PrintToString(world.violations);
  ASSERT_TRUE(world.finished.has_value());
  EXPECT_EQ(world.finished->outcome, scenario.outcome);
  EXPECT_EQ(world.coordinator.outcome(), scenario.outcome);
  EXPECT_EQ(world.coordinator.reason(), world.finished->reason);
  if (std::string(scenario.reason).empty()) {
    EXPECT_EQ(world.finished->reason, "");
  } else {
    EXPECT_TRUE(contains(world.finished->reason, scenario.reason))
        << "reason \"" << world.finished->reason << "\" lacks \"" << scenario.reason << "\"";
  }

  switch (scenario.job_on) {
    case JobOn::source:
      EXPECT_EQ(world.source, Copy::running) << name(world.source);
      EXPECT_EQ(world.target, Copy::none) << name(world.target);
      EXPECT_EQ(world.location, kSourceRecord);
      EXPECT_EQ(world.coordinator.phase(), MigrationPhase::aborted);
      break;
    case JobOn::target:
      EXPECT_EQ(world.source, Copy::none) << name(world.source);
      EXPECT_EQ(world.target, Copy::running) << name(world.target);
      EXPECT_EQ(world.location, kTargetRecord);
      EXPECT_EQ(world.coordinator.phase(), MigrationPhase::committed);
      break;
    case JobOn::nowhere:  // committed, then the target died with the job
      EXPECT_EQ(world.running_copies(), 0u);
      EXPECT_EQ(world.source, Copy::none) << name(world.source);
      EXPECT_EQ(world.location, kTargetRecord);
      EXPECT_EQ(scenario.outcome, MigrationOutcome::committed);
      break;
  }
  EXPECT_LE(world.source_resumes, 1u);
  // The target's own view agrees with the record whenever it survived to decide.
  if (world.participant && world.target_alive) {
    ASSERT_TRUE(world.target_finished.has_value());
    EXPECT_EQ(world.target_finished->outcome, world.location == kTargetRecord
                                                  ? MigrationOutcome::committed
                                                  : MigrationOutcome::aborted);
  }
  // The prepared record was written first, and no attempt leaves it live: committed, or
  // fenced on the abort path (by the coordinator, or by the target before it).
  ASSERT_FALSE(world.coordinator_actions.empty());
  EXPECT_EQ(world.coordinator_actions.front().kind, K::write_prepared_record);
  EXPECT_FALSE(world.prepared) << "location.1 left live";
  if (scenario.outcome == MigrationOutcome::aborted) {
    // Fenced by the coordinator, or found fenced by the target already (ENOENT, then read).
    EXPECT_TRUE(world.asked(K::fence_prepared_record) || !world.fenced_names.empty())
        << "an abort path without a fence";
  }
  // Any CRIU request ran: an abort resumes the job (its whole cgroup), once CRIU is gone.
  if (scenario.job_on == JobOn::source && world.asked(K::precopy_round)) {
    EXPECT_EQ(world.source_resumes, 1u);
  }
  EXPECT_FALSE(world.criu_running);
  // The freeze is measured whenever the job was frozen.
  EXPECT_EQ(world.coordinator.progress().freeze_duration_ms.has_value(), world.final_dump_at >= 0);
}

// Deadlines of the default job, spelled out: round 2 expects round 1's 20000 pages, the final
// dump round 5's 1100 (30000 ms + pages * 4096 B / 1 MB/s).
const Scenario kScenarios[] = {
    {"NoFault", {}, MigrationOutcome::committed, "", JobOn::target},

    {"PrepareFails",
     {Step::prepare, 0, Fault::fails},
     MigrationOutcome::aborted,
     "prepared record not written: disk full",
     JobOn::source},
    {"PrepareTimesOut",
     {Step::prepare, 0, Fault::hangs},
     MigrationOutcome::aborted,
     "prepare timed out after 10000 ms",
     JobOn::source},

    {"PreflightTargetLost",
     {Step::preflight, 0, Fault::link_lost},
     MigrationOutcome::aborted,
     "target node-c10002 lost during preflight: no answer to probes",
     JobOn::source},
    {"PreflightTargetCrashes",
     {Step::preflight, 0, Fault::target_crashes},
     MigrationOutcome::aborted,
     "target node-c10002 lost during preflight: declared dead",
     JobOn::source},
    {"PreflightRefused",
     {Step::preflight, 0, Fault::fails},
     MigrationOutcome::aborted,
     "preflight refused: cpu of node-c10002 lacks avx512f",
     JobOn::source},
    {"PreflightTimesOut",
     {Step::preflight, 0, Fault::hangs},
     MigrationOutcome::aborted,
     "preflight timed out after 30000 ms",
     JobOn::source},

    {"Round1TargetLost",
     {Step::precopy_round, 1, Fault::link_lost},
     MigrationOutcome::aborted,
     "target node-c10002 lost during precopy round 1",
     JobOn::source},
    {"Round2TargetLost",
     {Step::precopy_round, 2, Fault::link_lost},
     MigrationOutcome::aborted,
     "target node-c10002 lost during precopy round 2",
     JobOn::source},
    {"Round3TargetLost",
     {Step::precopy_round, 3, Fault::link_lost},
     MigrationOutcome::aborted,
     "target node-c10002 lost during precopy round 3",
     JobOn::source},
    {"Round4TargetLost",
     {Step::precopy_round, 4, Fault::link_lost},
     MigrationOutcome::aborted,
     "target node-c10002 lost during precopy round 4",
     JobOn::source},
    {"Round5TargetLost",
     {Step::precopy_round, 5, Fault::link_lost},
     MigrationOutcome::aborted,
     "target node-c10002 lost during precopy round 5",
     JobOn::source},
    {"Round2TargetCrashes",
     {Step::precopy_round, 2, Fault::target_crashes},
     MigrationOutcome::aborted,
     "lost during precopy round 2: declared dead",
     JobOn::source},
    {"Round1Fails",
     {Step::precopy_round, 1, Fault::fails},
     MigrationOutcome::aborted,
     "precopy round 1 failed: criu pre-dump exited with 1",
     JobOn::source},
    {"Round3Fails",
     {Step::precopy_round, 3, Fault::fails},
     MigrationOutcome::aborted,
     "precopy round 3 failed: criu pre-dump exited with 1",
     JobOn::source},
    {"Round2TimesOut",
     {Step::precopy_round, 2, Fault::hangs},
     MigrationOutcome::aborted,
     "precopy round 2 timed out after 111920 ms",
     JobOn::source},

    {"FinalDumpTargetLost",
     {Step::final_dump, 0, Fault::link_lost},
     MigrationOutcome::aborted,
     "target node-c10002 lost during final dump",
     JobOn::source},
    {"FinalDumpTargetCrashes",
     {Step::final_dump, 0, Fault::target_crashes},
     MigrationOutcome::aborted,
     "lost during final dump: declared dead",
     JobOn::source},
    {"FinalDumpFails",
     {Step::final_dump, 0, Fault::fails},
     MigrationOutcome::aborted,
     "final dump failed on node-a10001: criu dump: cannot dump task 4242",
     JobOn::source},
    {"FinalDumpTimesOut",
     {Step::final_dump, 0, Fault::hangs},
     MigrationOutcome::aborted,
     "final dump timed out after 34505 ms",
     JobOn::source},

    // Cut off, the target restores anyway and holds a stopped copy nobody can tell it to
    // discard: it decides alone by the (fenced) record.
    {"RestoreTargetLost",
     {Step::restore, 0, Fault::link_lost},
     MigrationOutcome::aborted,
     "target node-c10002 lost during restore",
     JobOn::source},
    {"RestoreTargetCrashes",
     {Step::restore, 0, Fault::target_crashes},
     MigrationOutcome::aborted,
     "lost during restore: declared dead",
     JobOn::source},
    {"RestoreFails",
     {Step::restore, 0, Fault::fails},
     MigrationOutcome::aborted,
     "restore failed on node-c10002: missing file /home/x",
     JobOn::source},
    {"RestoreTimesOut",
     {Step::restore, 0, Fault::hangs},
     MigrationOutcome::aborted,
     "restore timed out after 120000 ms",
     JobOn::source},

    // Between restore and commit: the write is out when the target is lost. It lands, so the
    // job is the target's; cut off, the target resumes by reading the record itself.
    {"TargetLostWhileCommitWriteIsOut",
     {Step::commit_write, 0, Fault::link_lost},
     MigrationOutcome::committed,
     "target node-c10002 lost during commit: no answer to probes; the job lives or dies with it",
     JobOn::target},
    {"TargetCrashesWhileCommitWriteIsOut",
     {Step::commit_write, 0, Fault::target_crashes},
     MigrationOutcome::committed,
     "lost during commit: declared dead",
     JobOn::nowhere},
    {"TargetLostThenCommitWriteFails",
     {Step::commit_write, 0, Fault::link_lost_then_write_fails},
     MigrationOutcome::aborted,
     "commit record not written: /cluster unreachable",
     JobOn::source},
    {"CommitWriteFailsDiskFull",
     {Step::commit_write, 0, Fault::fails},
     MigrationOutcome::aborted,
     "commit record not written: disk full",
     JobOn::source},
    // The write hangs past the target's patience: the target fences and discards, the late
    // write then fails, and the job goes on at the source.
    // The late rename finds the prepared record gone (ENOENT): the coordinator reads
    // `location`, which names the source.
    {"CommitWriteHangsTargetFencesFirst",
     {Step::commit_write, 0, Fault::hangs},
     MigrationOutcome::aborted,
     "commit record not written: the prepared record was gone; the record names node-a10001",
     JobOn::source},
    // The rename landed, but NFS answered a retransmission of it with ENOENT, or the answer
    // was EIO: neither is a failure; the record names the target.
    {"CommitLandsAnswerEnoent",
     {Step::commit_write, 0, Fault::lands_answers_enoent},
     MigrationOutcome::committed,
     "",
     JobOn::target},
    {"CommitLandsAnswerEio",
     {Step::commit_write, 0, Fault::lands_answers_eio},
     MigrationOutcome::committed,
     "",
     JobOn::target},
    // Storage hangs: the target cannot read the record either and keeps waiting; the write
    // lands when storage returns.
    {"CommitStorageDownWriteLandsFirst",
     {Step::commit_write, 0, Fault::storage_down},
     MigrationOutcome::committed,
     "",
     JobOn::target},

    {"TargetLostAfterCommit",
     {Step::after_commit, 0, Fault::link_lost},
     MigrationOutcome::committed,
     "",
     JobOn::target},
    {"TargetCrashesAfterCommit",
     {Step::after_commit, 0, Fault::target_crashes},
     MigrationOutcome::committed,
     "",
     JobOn::nowhere},
};

INSTANTIATE_TEST_SUITE_P(EveryPhase, MigrationFaults, ::testing::ValuesIn(kScenarios),
                         [](const ::testing::TestParamInfo<Scenario>& param_info) {
                           return std::string(param_info.param.name);
                         });

// --- Fault details the matrix does not show ----------------------------------------

TEST(MigrationWorld, TargetCutOffAfterRestoreDiscardsByTheRecord) {
  World world({Step::restore, 0, Fault::link_lost});
  world.run();
  SCOPED_TRACE(world.trace());
  ASSERT_TRUE(world.participant.has_value());
  EXPECT_EQ(world.participant->phase(), ParticipantPhase::discarded);
  EXPECT_EQ(world.participant->fences(), 1u) << "the target fences before it trusts a read";
  EXPECT_EQ(world.participant->record_reads(), 1u);
  ASSERT_TRUE(world.target_finished.has_value());
  EXPECT_EQ(world.target_finished->reason, "discarded: the record names node-a10001 attempt 0");
  // The coordinator's abort fenced first; the target's fence found nothing (ENOENT) and went
  // on to read the record rather than take that for success or failure.
  EXPECT_EQ(world.fenced_names, std::vector<std::string>{"fenced.1.node-a10001"});
}

TEST(MigrationWorld, TargetCutOffDuringPrecopyDecidesAtItsIdleDeadline) {
  // Cut off in round 2: no restore ever asked, yet the target holds images and a page server.
  World world({Step::precopy_round, 2, Fault::link_lost});
  world.run();
  SCOPED_TRACE(world.trace());
  ASSERT_TRUE(world.participant.has_value()) << "a participant from round 1 on";
  EXPECT_EQ(world.participant->phase(), ParticipantPhase::discarded);
  EXPECT_EQ(world.participant->fences(), 1u);
  ASSERT_TRUE(world.target_finished.has_value());
  EXPECT_EQ(world.target_finished->reason, "discarded: the record names node-a10001 attempt 0");
}

TEST(MigrationWorld, TargetCutOffAfterCommitResumesByTheRecord) {
  World world({Step::after_commit, 0, Fault::link_lost});
  world.run();
  SCOPED_TRACE(world.trace());
  ASSERT_TRUE(world.target_finished.has_value());
  EXPECT_EQ(world.target_finished->reason, "resumed: the record names node-c10002");
  EXPECT_TRUE(world.coordinator.progress().target_lost);
  EXPECT_EQ(world.coordinator.outcome(), MigrationOutcome::committed);
}

TEST(MigrationWorld, TheTargetFencesUnderItsOwnName) {
  World world({Step::commit_write, 0, Fault::hangs});
  world.run();
  SCOPED_TRACE(world.trace());
  EXPECT_EQ(world.fenced_names, std::vector<std::string>{"fenced.1.node-c10002"});
  // The coordinator's late rename got ENOENT: it read the record before deciding.
  EXPECT_EQ(world.coordinator.progress().record_reads, 1u);
  EXPECT_EQ(world.coordinator.progress().fences, 0u) << "the record was already fenced";
}

TEST(MigrationWorld, TheCommitRecordNamesNodeAndAttempt) {
  World world({});
  world.run();
  SCOPED_TRACE(world.trace());
  EXPECT_EQ(format_commit_record(world.location), "node-c10002 1\n");
  EXPECT_TRUE(may_record_end(format_commit_record(world.location), kTarget, 1));
  EXPECT_FALSE(may_record_end(format_commit_record(world.location), kSource, 0));
  EXPECT_EQ(next_attempt(world.location, {}), 2u);
}

TEST(MigrationWorld, CommitHangIsFlaggedNotAborted) {
  World world({Step::commit_write, 0, Fault::storage_down});
  world.run();
  SCOPED_TRACE(world.trace());
  EXPECT_TRUE(world.coordinator.progress().commit_overdue);
  ASSERT_TRUE(world.participant.has_value());
  // The fence failed all along: it fenced again and again, and never read or guessed; the
  // coordinator's resume request came when the storage was back.
  EXPECT_GE(world.participant->fences(), 10u);
  EXPECT_EQ(world.participant->record_reads(), 0u);
  EXPECT_EQ(world.participant->outcome(), MigrationOutcome::committed);
  // The job was frozen (not running anywhere) for the whole outage, and that is measured.
  ASSERT_TRUE(world.coordinator.progress().freeze_duration_ms.has_value());
  EXPECT_GT(*world.coordinator.progress().freeze_duration_ms, 120'000);
}

TEST(MigrationWorld, AbortDuringAPreDumpStopsCriuThenResumes) {
  // The target is lost 2 s into round 2; the pre-dump would answer only at 5 s.
  World world({Step::precopy_round, 2, Fault::link_lost});
  world.run();
  SCOPED_TRACE(world.trace());
  EXPECT_TRUE(world.violations.empty()) << ::testing::PrintToString(world.violations);
  EXPECT_EQ(kinds(world.coordinator_actions),
            (std::vector<K>{K::write_prepared_record, K::run_preflight, K::precopy_round,
                            K::precopy_round, K::stop_criu, K::discard_target_copy,
                            K::fence_prepared_record, K::resume_source, K::finished}));
  // The round's own failure, 5 s after the loss, changes nothing.
  EXPECT_EQ(world.coordinator.progress().ignored_events, 1u);
}

TEST(MigrationWorld, AbortDuringTheDumpResumesOnlyAfterCriuExited) {
  World world({Step::final_dump, 0, Fault::hangs});
  world.run();
  SCOPED_TRACE(world.trace());
  EXPECT_TRUE(world.violations.empty()) << ::testing::PrintToString(world.violations);
  EXPECT_EQ(world.source, Copy::running);
  std::vector<K> seen = kinds(world.coordinator_actions);
  auto stop = std::find(seen.begin(), seen.end(), K::stop_criu);
  auto resume = std::find(seen.begin(), seen.end(), K::resume_source);
  ASSERT_NE(stop, seen.end());
  ASSERT_NE(resume, seen.end());
  EXPECT_LT(stop, resume);
}

TEST(MigrationWorld, StopAndCopyWithoutDirtyTracking) {
  World world({}, kDefaultRounds, kDefaultResidentPages, kDefaultFinalPages,
              /*precopy_available=*/false);
  world.run();
  SCOPED_TRACE(world.trace());
  EXPECT_TRUE(world.violations.empty()) << ::testing::PrintToString(world.violations);
  EXPECT_EQ(world.rounds_requested, 0u);
  EXPECT_EQ(world.coordinator.progress().precopy_stop, PrecopyDecision::skipped_no_dirty_tracking);
  EXPECT_EQ(world.coordinator.outcome(), MigrationOutcome::committed);
  ASSERT_TRUE(world.participant.has_value()) << "the final dump's page server made one";
}

// --- Precopy policy -------------------------------------------------------------------

TEST(DecideAfterRound, KnownAnswers) {
  struct Row {
    uint32_t rounds_done;
    uint64_t dirty;
    uint64_t previous;
    PrecopyDecision expected;
  };
  const Row rows[] = {
      {1, 20'000, 0, PrecopyDecision::another_round},  // round 1 has nothing to compare with
      {1, kMinPrecopyPages, 0, PrecopyDecision::stop_small},
      {1, kMinPrecopyPages + 1, 0, PrecopyDecision::another_round},
      {3, kMinPrecopyPages, 100'000, PrecopyDecision::stop_small},
      {2, 799, 1'000, PrecopyDecision::another_round},       // shrank to 79.9 %
      {2, 800, 1'000, PrecopyDecision::stop_not_shrinking},  // 80 %: not enough
      {2, 1'500, 1'000, PrecopyDecision::stop_not_shrinking},
      {kMaxPrecopyRounds - 1, 5'000, 10'000, PrecopyDecision::another_round},
      {kMaxPrecopyRounds, 5'000, 10'000, PrecopyDecision::stop_round_limit},
      {kMaxPrecopyRounds, 9'000, 10'000, PrecopyDecision::stop_not_shrinking},
  };
  for (const Row& row : rows) {
    EXPECT_EQ(decide_after_round(row.rounds_done, row.dirty, row.previous), row.expected)
        << "rounds " << row.rounds_done << ", dirty " << row.dirty << ", previous " << row.previous;
  }
}

struct PolicyRun {
  uint32_t rounds;
  PrecopyDecision stop;
  uint32_t final_dump_parent;
};

PolicyRun run_policy(std::vector<uint64_t> rounds, uint64_t resident) {
  World world({}, std::move(rounds), resident);
  world.run();
  EXPECT_TRUE(world.violations.empty()) << world.trace();
  EXPECT_EQ(world.coordinator.outcome(), MigrationOutcome::committed) << world.trace();
  uint32_t parent = 99;
  for (const MigrationAction& action : world.coordinator_actions) {
    if (action.kind == K::final_dump) parent = action.round;
  }
  return {world.rounds_requested, world.coordinator.progress().precopy_stop, parent};
}

TEST(PrecopyPolicy, StopsWhenTheDirtySetStopsShrinking) {
  PolicyRun run = run_policy({20'000, 17'000, 1'000}, 20'000);  // 17000 >= 0.8 * 20000
  EXPECT_EQ(run.rounds, 2u);
  EXPECT_EQ(run.stop, PrecopyDecision::stop_not_shrinking);
  EXPECT_EQ(run.final_dump_parent, 2u);
}

TEST(PrecopyPolicy, StopsAtTheRoundLimit) {
  // Shrinks to 70 % every round and never gets small: only the limit stops it.
  std::vector<uint64_t> rounds = {100'000};
  for (int i = 0; i < 12; ++i) rounds.push_back(rounds.back() * 7 / 10);
  PolicyRun run = run_policy(rounds, 100'000);
  EXPECT_EQ(run.rounds, kMaxPrecopyRounds);
  EXPECT_EQ(run.stop, PrecopyDecision::stop_round_limit);
  EXPECT_EQ(run.final_dump_parent, kMaxPrecopyRounds);
}

TEST(PrecopyPolicy, SkipsPrecopyForATinyJob) {
  PolicyRun run = run_policy({200}, kMinPrecopyPages);
  EXPECT_EQ(run.rounds, 0u);
  EXPECT_EQ(run.stop, PrecopyDecision::skipped_tiny_job);
  EXPECT_EQ(run.final_dump_parent, 0u);  // no parent images
}

TEST(PrecopyPolicy, StopsAfterATinyFirstRound) {
  PolicyRun run = run_policy({200}, 20'000);
  EXPECT_EQ(run.rounds, 1u);
  EXPECT_EQ(run.stop, PrecopyDecision::stop_small);
  EXPECT_EQ(run.final_dump_parent, 1u);
}

TEST(PrecopyPolicy, StopsWhenALaterRoundIsSmall) {
  PolicyRun run = run_policy({20'000, 5'000, 250}, 20'000);
  EXPECT_EQ(run.rounds, 3u);
  EXPECT_EQ(run.stop, PrecopyDecision::stop_small);
}

TEST(TransferTimeout, GrowsWithTheExpectedPages) {
  EXPECT_EQ(transfer_timeout_ms(0), kTransferTimeoutBaseMs);
  // 1 GiB at 1 MB/s: 1073741824 B / 1000 B per ms.
  EXPECT_EQ(transfer_timeout_ms(262'144), kTransferTimeoutBaseMs + 1'073'741);
  // Absurd sizes saturate instead of overflowing.
  EXPECT_GT(transfer_timeout_ms(UINT64_MAX), transfer_timeout_ms(262'144));
}

MigrationCoordinator at_preflight(TimeMs now = 0);

// --- Progress --------------------------------------------------------------------------

TEST(MigrationProgress, FiguresOfAWholeMigration) {
  World world({});
  world.run();
  SCOPED_TRACE(world.trace());
  const MigrationProgress& progress = world.coordinator.progress();
  uint64_t pages = 0;
  for (uint64_t round : kDefaultRounds) pages += round;
  EXPECT_EQ(progress.phase, MigrationPhase::committed);
  EXPECT_EQ(progress.round, 5u);
  EXPECT_EQ(progress.precopy_stop, PrecopyDecision::stop_not_shrinking);
  EXPECT_EQ(progress.total_bytes_sent, (pages + kDefaultFinalPages) * kPageBytes);
  EXPECT_EQ(progress.last_round_bytes, 1'100 * kPageBytes);
  EXPECT_EQ(progress.final_dump_bytes, kDefaultFinalPages * kPageBytes);
  // The world's link moves 4096 bytes per ms, in every transfer.
  EXPECT_EQ(progress.rate_bytes_per_s, kLinkBytesPerMs * 1000);
  EXPECT_EQ(progress.last_rate_bytes_per_s, kLinkBytesPerMs * 1000);
  // Frozen from the final dump to the target's resume: dump 900 ms, restore request 1 ms,
  // restore 300 ms, report 1 ms, record write 10 ms.
  ASSERT_TRUE(progress.freeze_started_at.has_value());
  EXPECT_EQ(*progress.freeze_started_at, world.final_dump_at);
  ASSERT_TRUE(progress.freeze_duration_ms.has_value());
  EXPECT_EQ(*progress.freeze_duration_ms, 1'212);
  EXPECT_EQ(*progress.freeze_duration_ms, world.target_told_to_resume_at - world.final_dump_at);
  EXPECT_FALSE(progress.commit_overdue);
  EXPECT_FALSE(progress.target_lost);
}

TEST(MigrationProgress, RatesFollowTheClock) {
  MigrationCoordinator coordinator = at_preflight();
  coordinator.on_preflight_ok(figures(20'000), 200);
  EXPECT_EQ(coordinator.progress().phase, MigrationPhase::precopy);
  EXPECT_EQ(coordinator.progress().round, 1u);
  EXPECT_EQ(coordinator.progress().rate_bytes_per_s, 0u);  // nothing measured yet

  coordinator.on_round_done(1, 80'000'000, 20'000, 2'200);  // 2 s
  EXPECT_EQ(coordinator.progress().total_bytes_sent, 80'000'000u);
  EXPECT_EQ(coordinator.progress().last_round_bytes, 80'000'000u);
  EXPECT_EQ(coordinator.progress().last_rate_bytes_per_s, 40'000'000u);
  EXPECT_EQ(coordinator.progress().rate_bytes_per_s, 40'000'000u);

  coordinator.on_round_done(2, 10'000'000, 2'000, 3'200);  // 1 s
  EXPECT_EQ(coordinator.progress().total_bytes_sent, 90'000'000u);
  EXPECT_EQ(coordinator.progress().last_round_bytes, 10'000'000u);
  EXPECT_EQ(coordinator.progress().last_rate_bytes_per_s, 10'000'000u);
  EXPECT_EQ(coordinator.progress().rate_bytes_per_s, 30'000'000u);  // 90 MB in 3 s
  EXPECT_EQ(coordinator.progress().round, 3u);
  EXPECT_FALSE(coordinator.progress().freeze_started_at.has_value());

  // A transfer that took no measurable time adds bytes but no rate.
  coordinator.on_round_done(3, 4'096, 1, 3'200);
  EXPECT_EQ(coordinator.progress().last_rate_bytes_per_s, 0u);
  EXPECT_EQ(coordinator.progress().rate_bytes_per_s, 30'001'365u);  // 90004096 B in 3 s
  EXPECT_EQ(coordinator.progress().phase, MigrationPhase::final_dump);
  ASSERT_TRUE(coordinator.progress().freeze_started_at.has_value());
  EXPECT_EQ(*coordinator.progress().freeze_started_at, 3'200);
  EXPECT_FALSE(coordinator.progress().freeze_duration_ms.has_value());

  // Aborted while frozen: the freeze lasted until resume_source.
  coordinator.on_final_dump_failed("criu dump: cannot dump task 4242", 3'700);
  ASSERT_TRUE(coordinator.progress().freeze_duration_ms.has_value());
  EXPECT_EQ(*coordinator.progress().freeze_duration_ms, 500);
}

// --- The coordinator, step by step -----------------------------------------------------

// Drives a coordinator to the preflight phase, at time `now`.
MigrationCoordinator at_preflight(TimeMs now) {
  MigrationCoordinator coordinator(test_job());
  coordinator.start(now);
  coordinator.on_record_prepared(now);
  EXPECT_EQ(coordinator.phase(), MigrationPhase::preflight);
  return coordinator;
}

// Drives a coordinator to the commit phase of a tiny job (no pre-copy), time 1000.
MigrationCoordinator at_commit() {
  MigrationCoordinator coordinator = at_preflight();
  coordinator.on_preflight_ok(figures(10), 100);
  coordinator.on_final_dump_done(40'960, 200);
  coordinator.on_restore_done(1'000);
  EXPECT_EQ(coordinator.phase(), MigrationPhase::commit);
  return coordinator;
}

TEST(MigrationCoordinator, HappyPathActions) {
  MigrationCoordinator coordinator(test_job());
  EXPECT_EQ(coordinator.phase(), MigrationPhase::not_started);
  // The prepared record comes first, before the pre-flight and anything on the target.
  EXPECT_EQ(kinds(coordinator.start(0)), std::vector<K>{K::write_prepared_record});
  EXPECT_EQ(coordinator.phase(), MigrationPhase::prepare);
  EXPECT_EQ(kinds(coordinator.on_record_prepared(10)), std::vector<K>{K::run_preflight});
  EXPECT_EQ(
      coordinator.on_preflight_ok(figures(1'000), 100),
      (std::vector<MigrationAction>{{K::precopy_round, 1, MigrationOutcome::in_progress, ""}}));
  EXPECT_EQ(
      coordinator.on_round_done(1, 4'096'000, 1'000, 1'100),
      (std::vector<MigrationAction>{{K::precopy_round, 2, MigrationOutcome::in_progress, ""}}));
  EXPECT_EQ(coordinator.on_round_done(2, 409'600, 100, 1'200),
            (std::vector<MigrationAction>{{K::final_dump, 2, MigrationOutcome::in_progress, ""}}));
  // Nothing more is written at the restore step.
  EXPECT_EQ(kinds(coordinator.on_final_dump_done(40'960, 1'300)),
            std::vector<K>{K::restore_on_target});
  EXPECT_EQ(kinds(coordinator.on_restore_done(1'600)), std::vector<K>{K::write_commit_record});
  std::vector<MigrationAction> actions =
      coordinator.on_commit_result(RenameResult::done, "", 1'610);
  EXPECT_EQ(kinds(actions),
            (std::vector<K>{K::kill_source_copy, K::tell_target_to_resume, K::finished}));
  EXPECT_EQ(last(actions).outcome, MigrationOutcome::committed);
  EXPECT_EQ(coordinator.phase(), MigrationPhase::committed);
  EXPECT_FALSE(coordinator.next_deadline().has_value());
  EXPECT_EQ(coordinator.progress().fences, 0u);
}

TEST(MigrationCoordinator, AbortUndoesOnlyWhatWasDoneAndFences) {
  // Preflight: nothing frozen, nothing on the target; the prepared record is fenced.
  MigrationCoordinator preflight = at_preflight();
  EXPECT_EQ(kinds(preflight.cancel("user asked", 10)), std::vector<K>{K::fence_prepared_record});
  EXPECT_EQ(preflight.phase(), MigrationPhase::aborting);
  EXPECT_EQ(kinds(preflight.on_fence_result(RenameResult::done, "", 20)),
            std::vector<K>{K::finished});
  EXPECT_EQ(preflight.reason(), "cancelled during preflight: user asked");
  EXPECT_EQ(preflight.outcome(), MigrationOutcome::aborted);

  // Pre-copy, between rounds (CRIU not running): images on the target; a pre-dump may have
  // left the cgroup frozen, so the whole cgroup is resumed.
  MigrationCoordinator precopy = at_preflight();
  precopy.on_preflight_ok(figures(20'000), 10);
  precopy.on_round_failed(1, "criu pre-dump exited with 1", 20);
  EXPECT_EQ(precopy.phase(), MigrationPhase::aborting);
  EXPECT_EQ(precopy.progress().fences, 1u);

  // Restore: frozen here, a copy there.
  MigrationCoordinator restore = at_preflight();
  restore.on_preflight_ok(figures(10), 10);
  restore.on_final_dump_done(40'960, 20);
  EXPECT_EQ(kinds(restore.on_restore_failed("missing file /home/x", 30)),
            (std::vector<K>{K::resume_source, K::discard_target_copy, K::fence_prepared_record}));
  EXPECT_EQ(kinds(restore.on_fence_result(RenameResult::done, "", 40)),
            std::vector<K>{K::finished});
  EXPECT_EQ(restore.reason(), "restore failed on node-c10002: missing file /home/x");
  EXPECT_EQ(restore.outcome(), MigrationOutcome::aborted);
}

TEST(MigrationCoordinator, FailedRoundResumesTheWholeCgroup) {
  MigrationCoordinator coordinator = at_preflight();
  coordinator.on_preflight_ok(figures(20'000), 10);
  EXPECT_EQ(kinds(coordinator.on_round_failed(1, "criu pre-dump exited with 1", 20)),
            (std::vector<K>{K::resume_source, K::discard_target_copy, K::fence_prepared_record}));
}

TEST(MigrationCoordinator, AbortDuringAPreDumpStopsCriuFirst) {
  MigrationCoordinator coordinator = at_preflight();
  coordinator.on_preflight_ok(figures(20'000), 10);
  // Cancelled while the pre-dump runs: stop CRIU, and no resume yet.
  EXPECT_EQ(kinds(coordinator.cancel("user asked", 20)),
            (std::vector<K>{K::stop_criu, K::discard_target_copy, K::fence_prepared_record}));
  // The fence settles first: still no resume, and not finished.
  EXPECT_TRUE(coordinator.on_fence_result(RenameResult::done, "", 30).empty());
  EXPECT_EQ(coordinator.phase(), MigrationPhase::aborting);
  EXPECT_TRUE(coordinator.tick(1'000'000).empty());
  // Late answers of the killed pre-dump are not CRIU's exit.
  EXPECT_TRUE(coordinator.on_round_failed(1, "killed", 40).empty());
  EXPECT_EQ(kinds(coordinator.on_criu_exited(50)), (std::vector<K>{K::resume_source, K::finished}));
  EXPECT_EQ(coordinator.outcome(), MigrationOutcome::aborted);
  EXPECT_TRUE(coordinator.on_criu_exited(60).empty());
}

TEST(MigrationCoordinator, AbortDuringTheDumpResumesOnlyAfterCriuExited) {
  for (int cause = 0; cause < 3; ++cause) {
    SCOPED_TRACE(cause);
    MigrationCoordinator coordinator = at_preflight();
    coordinator.on_preflight_ok(figures(10), 10);  // tiny: straight to the final dump
    ASSERT_EQ(coordinator.phase(), MigrationPhase::final_dump);
    std::vector<MigrationAction> actions =
        cause == 0   ? coordinator.on_target_lost("declared dead", 20)
        : cause == 1 ? coordinator.cancel("node leaving", 20)
                     : coordinator.tick(*coordinator.next_deadline());
    EXPECT_EQ(kinds(actions),
              (std::vector<K>{K::stop_criu, K::discard_target_copy, K::fence_prepared_record}));
    EXPECT_FALSE(coordinator.progress().freeze_duration_ms.has_value());
    EXPECT_TRUE(coordinator.on_fence_result(RenameResult::done, "", 40'000).empty());
    EXPECT_EQ(kinds(coordinator.on_criu_exited(41'000)),
              (std::vector<K>{K::resume_source, K::finished}));
    ASSERT_TRUE(coordinator.progress().freeze_duration_ms.has_value());
    EXPECT_EQ(*coordinator.progress().freeze_duration_ms, 41'000 - 10);
  }
}

TEST(MigrationCoordinator, NoResumeAfterCriuExitsWhenTheRecordNamesAnotherNode) {
  MigrationCoordinator coordinator = at_preflight();
  coordinator.on_preflight_ok(figures(10), 10);
  coordinator.cancel("user asked", 20);  // stop_criu, discard, fence
  coordinator.on_fence_result(RenameResult::not_found, "", 30);
  EXPECT_EQ(kinds(coordinator.on_commit_record_read(CommitRecord{"node-e10003", 3}, 40)),
            (std::vector<K>{K::kill_source_copy, K::discard_target_copy, K::finished}));
  EXPECT_TRUE(coordinator.on_criu_exited(50).empty());
}

TEST(MigrationCoordinator, StopAndCopyWithoutDirtyTracking) {
  MigrationCoordinator coordinator = at_preflight();
  EXPECT_EQ(coordinator.on_preflight_ok(figures(20'000, /*precopy_available=*/false), 10),
            (std::vector<MigrationAction>{{K::final_dump, 0, MigrationOutcome::in_progress, ""}}));
  EXPECT_EQ(coordinator.progress().precopy_stop, PrecopyDecision::skipped_no_dirty_tracking);
  EXPECT_EQ(coordinator.progress().round, 0u);
  // Its deadline expects the whole resident set.
  EXPECT_EQ(coordinator.next_deadline(), 10 + transfer_timeout_ms(20'000));
}

TEST(MigrationCoordinator, RefusesATargetShortOfMemory) {
  MigrationCoordinator coordinator = at_preflight();
  // 51200 pages = 200 MiB resident; the target has 399 MiB: less than 200 %.
  PreflightFigures short_of_memory{51'200, 399 * 1024 * 1024, true};
  std::vector<MigrationAction> actions = coordinator.on_preflight_ok(short_of_memory, 10);
  EXPECT_EQ(kinds(actions), std::vector<K>{K::fence_prepared_record});
  EXPECT_EQ(coordinator.reason(),
            "preflight refused: node-c10002 has 399 MiB available, the job needs 400 MiB "
            "(200 % of its 200 MiB resident)");
  // Exactly 200 % passes.
  MigrationCoordinator enough = at_preflight();
  EXPECT_EQ(kinds(enough.on_preflight_ok({51'200, 400 * 1024 * 1024, true}, 10)),
            std::vector<K>{K::precopy_round});
}

TEST(MigrationCoordinator, DeadlinePerPhase) {
  MigrationCoordinator coordinator(test_job());
  EXPECT_FALSE(coordinator.next_deadline().has_value());
  coordinator.start(500);
  EXPECT_EQ(coordinator.next_deadline(), 500 + kPrepareTimeoutMs);
  coordinator.on_record_prepared(1'000);
  EXPECT_EQ(coordinator.next_deadline(), 1'000 + kPreflightTimeoutMs);
  EXPECT_TRUE(coordinator.tick(1'000 + kPreflightTimeoutMs - 1).empty());
  coordinator.on_preflight_ok(figures(10), 2'000);  // tiny: straight to the final dump
  EXPECT_EQ(coordinator.next_deadline(), 2'000 + transfer_timeout_ms(10));
  coordinator.on_final_dump_done(40'960, 3'000);
  EXPECT_EQ(coordinator.next_deadline(), 3'000 + kRestoreTimeoutMs);
  coordinator.on_restore_done(4'000);
  EXPECT_EQ(coordinator.next_deadline(), 4'000 + kCommitOverdueMs);
}

TEST(MigrationCoordinator, NothingAbortsWhileTheCommitWriteIsOut) {
  MigrationCoordinator coordinator = at_commit();
  EXPECT_TRUE(coordinator.tick(1'000 + kCommitOverdueMs).empty());
  EXPECT_TRUE(coordinator.progress().commit_overdue);
  EXPECT_FALSE(coordinator.next_deadline().has_value());
  EXPECT_TRUE(coordinator.on_target_lost("declared dead", 20'000).empty());
  EXPECT_TRUE(coordinator.cancel("user asked", 20'000).empty());
  EXPECT_EQ(coordinator.phase(), MigrationPhase::commit);
  // A failed rename may still land: fence it before anything is undone.
  EXPECT_EQ(kinds(coordinator.on_commit_result(RenameResult::failed, "disk full", 30'000)),
            std::vector<K>{K::fence_prepared_record});
  EXPECT_TRUE(coordinator.cancel("user asked", 30'001).empty());
  // The fence took the prepared record: the commit cannot land, undo.
  std::vector<MigrationAction> actions =
      coordinator.on_fence_result(RenameResult::done, "", 30'010);
  EXPECT_EQ(kinds(actions),
            (std::vector<K>{K::resume_source, K::discard_target_copy, K::finished}));
  EXPECT_EQ(last(actions).reason, "commit record not written: disk full");
}

TEST(MigrationCoordinator, CommitEnoentIsReadNotTrusted) {
  // ENOENT after our own rename landed (NFS answered a retransmission): the record says
  // committed.
  MigrationCoordinator landed = at_commit();
  EXPECT_EQ(kinds(landed.on_commit_result(RenameResult::not_found, "", 1'010)),
            std::vector<K>{K::read_commit_record});
  EXPECT_EQ(landed.phase(), MigrationPhase::commit);
  EXPECT_EQ(kinds(landed.on_commit_record_read(kTargetRecord, 1'020)),
            (std::vector<K>{K::kill_source_copy, K::tell_target_to_resume, K::finished}));
  EXPECT_EQ(landed.outcome(), MigrationOutcome::committed);

  // ENOENT because the target fenced first: the record names the source.
  MigrationCoordinator fenced = at_commit();
  fenced.on_commit_result(RenameResult::not_found, "ENOENT", 1'010);
  // Unreadable: read again later, the job stays frozen.
  EXPECT_TRUE(fenced.on_commit_record_read(std::nullopt, 1'020).empty());
  EXPECT_EQ(fenced.next_deadline(), 1'020 + kRecordRereadIntervalMs);
  EXPECT_EQ(kinds(fenced.tick(1'020 + kRecordRereadIntervalMs)),
            std::vector<K>{K::read_commit_record});
  std::vector<MigrationAction> actions = fenced.on_commit_record_read(kSourceRecord, 7'000);
  // No second fence: the prepared record is gone already.
  EXPECT_EQ(kinds(actions),
            (std::vector<K>{K::resume_source, K::discard_target_copy, K::finished}));
  EXPECT_EQ(last(actions).reason,
            "commit record not written: the prepared record was gone: ENOENT; the record names "
            "node-a10001");
  EXPECT_EQ(fenced.progress().fences, 0u);

  // The target's name with another attempt is not this attempt's commit.
  MigrationCoordinator other = at_commit();
  other.on_commit_result(RenameResult::not_found, "", 1'010);
  actions = other.on_commit_record_read(CommitRecord{kTarget, 7}, 1'020);
  EXPECT_EQ(kinds(actions),
            (std::vector<K>{K::kill_source_copy, K::discard_target_copy, K::finished}));
  EXPECT_EQ(other.outcome(), MigrationOutcome::aborted);
}

TEST(MigrationCoordinator, CommitFailedThenFenceEnoentReadsTheRecord) {
  // EIO on the commit, but it landed: our fence finds nothing, and the record decides.
  MigrationCoordinator coordinator = at_commit();
  coordinator.on_commit_result(RenameResult::failed, "EIO", 1'010);
  EXPECT_EQ(kinds(coordinator.on_fence_result(RenameResult::not_found, "", 1'020)),
            std::vector<K>{K::read_commit_record});
  EXPECT_EQ(kinds(coordinator.on_commit_record_read(kTargetRecord, 1'030)),
            (std::vector<K>{K::kill_source_copy, K::tell_target_to_resume, K::finished}));

  // A fence that fails is tried again; never guessed.
  MigrationCoordinator retry = at_commit();
  retry.on_commit_result(RenameResult::failed, "EIO", 1'010);
  EXPECT_TRUE(retry.on_fence_result(RenameResult::failed, "EIO", 1'020).empty());
  EXPECT_EQ(retry.phase(), MigrationPhase::commit);
  EXPECT_EQ(kinds(retry.tick(1'020 + kRecordRereadIntervalMs)),
            std::vector<K>{K::fence_prepared_record});
  EXPECT_EQ(retry.progress().fences, 2u);
}

TEST(MigrationCoordinator, AbortFenceEnoentReadsTheRecord) {
  MigrationCoordinator coordinator = at_preflight();
  coordinator.on_preflight_refused("cpu of node-c10002 lacks avx512f", 10);
  // The target fenced it first (or it was never written): read, then finish.
  EXPECT_EQ(kinds(coordinator.on_fence_result(RenameResult::not_found, "", 20)),
            std::vector<K>{K::read_commit_record});
  EXPECT_EQ(coordinator.phase(), MigrationPhase::aborting);
  EXPECT_EQ(kinds(coordinator.on_commit_record_read(kSourceRecord, 30)),
            std::vector<K>{K::finished});
  EXPECT_EQ(coordinator.outcome(), MigrationOutcome::aborted);

  // A failed abort fence is tried again until it settles: the attempt is not over before.
  MigrationCoordinator retry = at_preflight();
  retry.cancel("user asked", 10);
  EXPECT_TRUE(retry.on_fence_result(RenameResult::failed, "EIO", 20).empty());
  EXPECT_EQ(kinds(retry.tick(20 + kRecordRereadIntervalMs)),
            std::vector<K>{K::fence_prepared_record});
  EXPECT_EQ(kinds(retry.on_fence_result(RenameResult::done, "", 5'100)),
            std::vector<K>{K::finished});
}

TEST(MigrationCoordinator, NothingChangesAfterThePointOfNoReturn) {
  MigrationCoordinator coordinator = at_commit();
  coordinator.on_commit_result(RenameResult::done, "", 1'010);
  EXPECT_TRUE(coordinator.on_target_lost("declared dead", 2'000).empty());
  EXPECT_TRUE(coordinator.tick(1'000'000).empty());
  EXPECT_TRUE(coordinator.cancel("user asked", 2'000).empty());
  EXPECT_TRUE(coordinator.on_commit_result(RenameResult::failed, "late", 2'000).empty());
  EXPECT_TRUE(coordinator.on_fence_result(RenameResult::done, "late", 2'000).empty());
  EXPECT_TRUE(coordinator.on_commit_record_read(kSourceRecord, 2'000).empty());
  EXPECT_TRUE(coordinator.on_restore_failed("late", 2'000).empty());
  EXPECT_TRUE(coordinator.on_criu_exited(2'000).empty());
  EXPECT_EQ(coordinator.outcome(), MigrationOutcome::committed);
  EXPECT_EQ(coordinator.reason(), "");
  EXPECT_TRUE(coordinator.progress().target_lost);
}

TEST(MigrationCoordinator, StaleAndEarlyEventsAreIgnored) {
  MigrationCoordinator coordinator(test_job());
  EXPECT_TRUE(coordinator.on_preflight_ok(figures(20'000), 0).empty());  // before start
  coordinator.start(0);
  EXPECT_TRUE(coordinator.start(0).empty());
  EXPECT_TRUE(coordinator.on_preflight_ok(figures(20'000), 0).empty());  // not prepared yet
  coordinator.on_record_prepared(5);
  coordinator.on_preflight_ok(figures(20'000), 10);
  EXPECT_TRUE(coordinator.on_round_done(2, 1, 1, 20).empty());  // not the current round
  EXPECT_TRUE(coordinator.on_round_failed(7, "?", 20).empty());
  EXPECT_TRUE(coordinator.on_restore_done(20).empty());                           // not restoring
  EXPECT_TRUE(coordinator.on_commit_result(RenameResult::done, "", 20).empty());  // no write out
  EXPECT_TRUE(coordinator.on_fence_result(RenameResult::done, "", 20).empty());   // no fence out
  EXPECT_TRUE(coordinator.on_criu_exited(20).empty());                            // not stopped
  EXPECT_EQ(coordinator.phase(), MigrationPhase::precopy);
  EXPECT_EQ(coordinator.progress().ignored_events, 9u);
  coordinator.on_round_failed(1, "criu pre-dump exited with 1", 30);
  EXPECT_TRUE(coordinator.on_round_done(1, 1, 1, 40).empty());
  EXPECT_TRUE(coordinator.on_target_lost("", 40).empty());
  EXPECT_EQ(coordinator.reason(), "precopy round 1 failed: criu pre-dump exited with 1");
}

TEST(MigrationCoordinator, DescribeNamesTheAction) {
  EXPECT_EQ(describe({K::precopy_round, 3, MigrationOutcome::in_progress, ""}), "precopy_round(3)");
  EXPECT_EQ(describe({K::finished, 0, MigrationOutcome::aborted, "disk full"}),
            "finished(aborted, \"disk full\")");
  EXPECT_EQ(describe({K::resume_source, 0, MigrationOutcome::in_progress, ""}), "resume_source");
  EXPECT_EQ(describe({K::stop_criu, 0, MigrationOutcome::in_progress, ""}), "stop_criu");
}

// --- The records on /cluster ---------------------------------------------------------

TEST(CommitRecord, FormatAndParseRoundTrip) {
  EXPECT_EQ(format_commit_record({"node-c10002", 4}), "node-c10002 4\n");
  EXPECT_EQ(format_commit_record({"node-a10001", 0}), "node-a10001 0\n");
  for (const CommitRecord& record : {CommitRecord{"node-c10002", 4}, CommitRecord{"a", 0},
                                     CommitRecord{std::string(63, 'x'), UINT64_MAX}}) {
    EXPECT_EQ(parse_commit_record(format_commit_record(record)), record) << record.node;
  }
  // The trailing newline is optional.
  EXPECT_EQ(parse_commit_record("node-c10002 4"), (CommitRecord{"node-c10002", 4}));
}

TEST(CommitRecord, ParseRefusesMalformedText) {
  const char* const rows[] = {
      "",
      "\n",
      "node-c10002\n",      // the old form: no attempt
      "node-c10002 \n",     // no digits
      " 4\n",               // no node
      "node-c10002  4\n",   // two spaces
      "node-c10002 4 5\n",  // a third field
      "node-c10002 04\n",   // not canonical
      "node-c10002 -4\n",   // a sign
      "node-c10002 +4\n",
      "node-c10002 4x\n",
      "node-c10002 4\n\n",                   // two newlines
      "node-c10002 4\r\n",                   // CR
      "node-c10002\t4\n",                    // a tab
      "Node-C10002 4\n",                     // not a node id (upper case)
      "-node 4\n",                           // not a node id (leading '-')
      "node-c10002 18446744073709551616\n",  // 2^64: overflows
  };
  for (const char* row : rows) {
    EXPECT_EQ(parse_commit_record(row), std::nullopt) << "\"" << row << "\"";
  }
  // Too long: a valid-looking record padded past the limit.
  EXPECT_EQ(parse_commit_record(std::string(kMaxCommitRecordBytes, 'a') + " 1\n"), std::nullopt);
  EXPECT_EQ(parse_commit_record(std::string("node-c10002 4\0", 14)), std::nullopt);  // NUL
}

TEST(CommitRecord, FileNames) {
  EXPECT_EQ(kCommitRecordName, "location");
  EXPECT_EQ(prepared_record_name(4), "location.4");
  EXPECT_EQ(fenced_record_name(4, "node-c10002"), "fenced.4.node-c10002");
  // Two fencers of one attempt never rename onto the same name.
  EXPECT_NE(fenced_record_name(4, "node-c10002"), fenced_record_name(4, "node-a10001"));
}

TEST(CommitRecord, NextAttemptFollowsTheRecordAndTheLeftovers) {
  EXPECT_EQ(next_attempt({"node-a10001", 0}, {}), 1u);
  EXPECT_EQ(next_attempt({"node-c10002", 4}, {"job.json", "location", "stdout", "end"}), 5u);
  // An aborted attempt 5 left its fence (or, after a crash, its prepared record): not reused.
  EXPECT_EQ(next_attempt({"node-c10002", 4}, {"location", "fenced.5.node-c10002"}), 6u);
  EXPECT_EQ(next_attempt({"node-c10002", 4}, {"location.7", "fenced.5.node-e10003"}), 8u);
  // Older leftovers and names that only look alike change nothing.
  EXPECT_EQ(next_attempt({"node-c10002", 4},
                         {"fenced.2.node-a10001", "location.x", "location.07", "fenced.9",
                          "fenced.9.", "fenced.9.BAD", "location.", "fenced..node-a10001",
                          "xlocation.9", "location.99999999999999999999"}),
            5u);
  EXPECT_EQ(next_attempt({"node-c10002", UINT64_MAX}, {}), std::nullopt);
  EXPECT_EQ(next_attempt({"node-c10002", 1}, {"location.18446744073709551615"}), std::nullopt);
}

TEST(CommitRecord, MayRecordEndOnlyForTheNamedCopy) {
  struct Row {
    const char* location;
    const char* node;
    uint64_t attempt;
    bool expected;
  };
  const Row rows[] = {
      {"node-c10002 4\n", "node-c10002", 4, true},   {"node-c10002 4", "node-c10002", 4, true},
      {"node-c10002 4\n", "node-c10002", 3, false},  // a stale copy of an earlier attempt
      {"node-c10002 4\n", "node-c10002", 5, false},  // a copy of an attempt that never committed
      {"node-c10002 4\n", "node-a10001", 4, false},  // another node
      {"node-c10002\n", "node-c10002", 4, false},    // the old form: unreadable
      {"node-c10002 4 \n", "node-c10002", 4, false}, {"", "node-c10002", 0, false},
      {"node-c10002 04\n", "node-c10002", 4, false},
  };
  for (const Row& row : rows) {
    EXPECT_EQ(may_record_end(row.location, row.node, row.attempt), row.expected)
        << "\"" << row.location << "\" for " << row.node << " " << row.attempt;
  }
}

TEST(MemoryHeadroom, RefusesBelowTwiceTheResidentSet) {
  constexpr uint64_t kMiB = 1024 * 1024;
  EXPECT_EQ(kMemoryHeadroomPercent, 200u);
  EXPECT_EQ(memory_headroom_refusal(200 * kMiB, 400 * kMiB, "node-c10002"), std::nullopt);
  EXPECT_EQ(memory_headroom_refusal(200 * kMiB, 1000 * kMiB, "node-c10002"), std::nullopt);
  EXPECT_EQ(memory_headroom_refusal(0, 0, "node-c10002"), std::nullopt);
  EXPECT_EQ(memory_headroom_refusal(200 * kMiB, 300 * kMiB, "node-c10002"),
            "node-c10002 has 300 MiB available, the job needs 400 MiB (200 % of its 200 MiB "
            "resident)");
  // One byte short still refuses, and the figures never look sufficient.
  EXPECT_EQ(memory_headroom_refusal(200 * kMiB, 400 * kMiB - 1, "node-c10002"),
            "node-c10002 has 399 MiB available, the job needs 400 MiB (200 % of its 200 MiB "
            "resident)");
  EXPECT_EQ(memory_headroom_refusal(1, 1, "node-c10002"),
            "node-c10002 has 0 MiB available, the job needs 1 MiB (200 % of its 1 MiB resident)");
  // An absurd resident set refuses instead of wrapping around.
  EXPECT_NE(memory_headroom_refusal(UINT64_MAX, UINT64_MAX - 1, "node-c10002"), std::nullopt);
  EXPECT_NE(memory_headroom_refusal(UINT64_MAX / 2 + 1, UINT64_MAX - 1, "node-c10002"),
            std::nullopt);
}

// --- Recovery after a coordinator crash ------------------------------------------------

TEST(RecoverCoordinator, TheRecordDecides) {
  const CommitRecord kThird{"node-e10003", 0};
  struct Row {
    const char* name;
    RenameResult fence;
    std::optional<CommitRecord> record;
    bool holds_copy;
    TargetCopy target;
    std::vector<K> actions;
    MigrationOutcome outcome;  // in_progress: no finished action
  };
  const Row rows[] = {
      {"unreadable",
       RenameResult::done,
       std::nullopt,
       true,
       TargetCopy::present,
       {K::fence_prepared_record, K::read_commit_record},
       MigrationOutcome::in_progress},
      {"fence failed: the old commit may still land",
       RenameResult::failed,
       kSourceRecord,
       true,
       TargetCopy::present,
       {K::fence_prepared_record, K::read_commit_record},
       MigrationOutcome::in_progress},
      {"names source, both hold",
       RenameResult::done,
       kSourceRecord,
       true,
       TargetCopy::present,
       {K::resume_source, K::discard_target_copy, K::finished},
       MigrationOutcome::aborted},
      {"fence found nothing, names source",
       RenameResult::not_found,
       kSourceRecord,
       true,
       TargetCopy::present,
       {K::resume_source, K::discard_target_copy, K::finished},
       MigrationOutcome::aborted},
      {"names source, target unknown",
       RenameResult::done,
       kSourceRecord,
       true,
       TargetCopy::unknown,
       {K::resume_source, K::discard_target_copy, K::finished},
       MigrationOutcome::aborted},
      {"names source, target has none",
       RenameResult::done,
       kSourceRecord,
       true,
       TargetCopy::absent,
       {K::resume_source, K::finished},
       MigrationOutcome::aborted},
      {"names source, source copy gone",
       RenameResult::done,
       kSourceRecord,
       false,
       TargetCopy::present,
       {K::discard_target_copy, K::finished},
       MigrationOutcome::lost},
      {"names target, both hold",
       RenameResult::not_found,
       kTargetRecord,
       true,
       TargetCopy::present,
       {K::kill_source_copy, K::tell_target_to_resume, K::finished},
       MigrationOutcome::committed},
      {"names target, source already killed",
       RenameResult::not_found,
       kTargetRecord,
       false,
       TargetCopy::present,
       {K::tell_target_to_resume, K::finished},
       MigrationOutcome::committed},
      {"names target, target unknown",
       RenameResult::not_found,
       kTargetRecord,
       true,
       TargetCopy::unknown,
       {K::kill_source_copy, K::tell_target_to_resume, K::finished},
       MigrationOutcome::committed},
      {"names target, target has none",
       RenameResult::not_found,
       kTargetRecord,
       true,
       TargetCopy::absent,
       {K::kill_source_copy, K::finished},
       MigrationOutcome::lost},
      {"names the target by another attempt",
       RenameResult::not_found,
       CommitRecord{kTarget, 7},
       true,
       TargetCopy::present,
       {K::kill_source_copy, K::discard_target_copy, K::finished},
       MigrationOutcome::aborted},
      {"names a third node",
       RenameResult::not_found,
       kThird,
       true,
       TargetCopy::present,
       {K::kill_source_copy, K::discard_target_copy, K::finished},
       MigrationOutcome::aborted},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.name);
    std::vector<MigrationAction> actions =
        recover_coordinator(test_job(), row.fence, row.record, row.holds_copy, row.target);
    EXPECT_EQ(kinds(actions), row.actions);
    if (row.outcome != MigrationOutcome::in_progress) {
      ASSERT_FALSE(actions.empty());
      EXPECT_EQ(last(actions).outcome, row.outcome);
      EXPECT_FALSE(actions.back().reason.empty());
    }
    // The source is resumed only where the record names it, killed only where it does not,
    // the target resumed only where the record names it and this attempt.
    for (const MigrationAction& action : actions) {
      if (action.kind == K::resume_source) {
        EXPECT_EQ(row.record->node, kSource);
      }
      if (action.kind == K::kill_source_copy) {
        EXPECT_NE(row.record->node, kSource);
      }
      if (action.kind == K::tell_target_to_resume) {
        EXPECT_EQ(row.record, kTargetRecord);
      }
    }
  }
}

// --- The participant -------------------------------------------------------------------

TEST(RefuseParticipant, OnePerJobAndAttempt) {
  MigrationJob request = test_job();  // job-17 attempt 1
  EXPECT_EQ(refuse_participant(request, {}), std::nullopt);
  // Other jobs do not matter.
  EXPECT_EQ(refuse_participant(request, {{"job-18", 1, false}, {"job-19", 3, false}}),
            std::nullopt);
  // The same attempt again: a duplicate request, even after the first one decided.
  EXPECT_EQ(refuse_participant(request, {{"job-17", 1, false}}),
            "refused job-17 attempt 1: job-17 attempt 1 already has a participant here");
  EXPECT_EQ(refuse_participant(request, {{"job-17", 1, true}}),
            "refused job-17 attempt 1: job-17 attempt 1 already has a participant here");
  // A later attempt already seen: this request is stale.
  EXPECT_NE(refuse_participant(request, {{"job-17", 2, true}}), std::nullopt);
  // An earlier attempt still undecided: one cgroup per job.
  request.attempt = 3;
  EXPECT_EQ(refuse_participant(request, {{"job-17", 2, false}}),
            "refused job-17 attempt 3: job-17 attempt 2 is still undecided here (one cgroup per "
            "job)");
  // An earlier attempt that decided is no obstacle.
  EXPECT_EQ(refuse_participant(request, {{"job-17", 2, true}}), std::nullopt);
  // A participant describes itself for the registry.
  MigrationParticipant participant(test_job(), 0);
  EXPECT_NE(refuse_participant(test_job(), {participant.entry()}), std::nullopt);
  participant.on_discard_request(10);
  EXPECT_TRUE(participant.entry().decided);
  EXPECT_NE(refuse_participant(test_job(), {participant.entry()}), std::nullopt);
}

// A participant whose restore finished at time 1000.
MigrationParticipant restored() {
  MigrationParticipant participant(test_job(), 0);
  EXPECT_EQ(kinds(participant.on_restore_request(500)), std::vector<P>{P::start_restore});
  EXPECT_TRUE(participant.on_restore_done(1'000).empty());
  EXPECT_EQ(participant.phase(), ParticipantPhase::restored);
  return participant;
}

constexpr TimeMs kDecisionAt = 1'000 + kParticipantIdleTimeoutMs;

// Fences at the deadline and expects the read after `fence_result`.
void fence_then_read(MigrationParticipant& participant, TimeMs at, RenameResult fence_result) {
  EXPECT_EQ(kinds(participant.tick(at)), std::vector<P>{P::fence_prepared_record});
  EXPECT_EQ(kinds(participant.on_fence_result(fence_result, at)),
            std::vector<P>{P::read_commit_record});
}

TEST(MigrationParticipant, TimeoutRecordNamesUs) {
  MigrationParticipant participant = restored();
  EXPECT_EQ(participant.next_deadline(), kDecisionAt);
  EXPECT_TRUE(participant.tick(kDecisionAt - 1).empty());
  EXPECT_EQ(kinds(participant.tick(kDecisionAt)), std::vector<P>{P::fence_prepared_record});
  EXPECT_TRUE(participant.tick(kDecisionAt + 10'000).empty()) << "one fence at a time";
  // ENOENT: the coordinator's commit took it first. Not a failure: read.
  EXPECT_EQ(kinds(participant.on_fence_result(RenameResult::not_found, kDecisionAt)),
            std::vector<P>{P::read_commit_record});
  std::vector<ParticipantAction> actions =
      participant.on_commit_record_read(kTargetRecord, kDecisionAt);
  EXPECT_EQ(kinds(actions), (std::vector<P>{P::resume_local_copy, P::finished}));
  EXPECT_EQ(last(actions).outcome, MigrationOutcome::committed);
  EXPECT_EQ(participant.reason(), "resumed: the record names node-c10002");
  EXPECT_EQ(participant.phase(), ParticipantPhase::resumed);
}

TEST(MigrationParticipant, TimeoutRecordNamesTheSource) {
  MigrationParticipant participant = restored();
  fence_then_read(participant, kDecisionAt, RenameResult::done);
  std::vector<ParticipantAction> actions =
      participant.on_commit_record_read(kSourceRecord, kDecisionAt);
  EXPECT_EQ(kinds(actions), (std::vector<P>{P::discard_local_copy, P::finished}));
  EXPECT_EQ(last(actions).outcome, MigrationOutcome::aborted);
  EXPECT_EQ(participant.reason(), "discarded: the record names node-a10001 attempt 0");
  // A resume request now has nothing to resume.
  EXPECT_TRUE(participant.on_resume_request(kDecisionAt + 1).empty());
  EXPECT_EQ(participant.phase(), ParticipantPhase::discarded);
}

TEST(MigrationParticipant, OurNodeByAnotherAttemptIsNotUs) {
  MigrationParticipant participant = restored();
  fence_then_read(participant, kDecisionAt, RenameResult::done);
  EXPECT_EQ(kinds(participant.on_commit_record_read(CommitRecord{kTarget, 0}, kDecisionAt)),
            (std::vector<P>{P::discard_local_copy, P::finished}));
  EXPECT_EQ(participant.reason(), "discarded: the record names node-c10002 attempt 0");
}

TEST(MigrationParticipant, TimeoutRecordUnreadableKeepsWaiting) {
  MigrationParticipant participant = restored();
  fence_then_read(participant, kDecisionAt, RenameResult::done);
  TimeMs now = kDecisionAt;
  for (int i = 0; i < 5; ++i) {
    EXPECT_TRUE(participant.on_commit_record_read(std::nullopt, now).empty());
    EXPECT_EQ(participant.phase(), ParticipantPhase::restored) << "never guesses";
    EXPECT_EQ(participant.next_deadline(), now + kRecordRereadIntervalMs);
    EXPECT_TRUE(participant.tick(now + kRecordRereadIntervalMs - 1).empty());
    now += kRecordRereadIntervalMs;
    EXPECT_EQ(kinds(participant.tick(now)), std::vector<P>{P::read_commit_record});
  }
  EXPECT_EQ(participant.record_reads(), 6u);
  EXPECT_EQ(participant.fences(), 1u);
  EXPECT_EQ(kinds(participant.on_commit_record_read(kTargetRecord, now)),
            (std::vector<P>{P::resume_local_copy, P::finished}));
}

TEST(MigrationParticipant, FailedFenceIsRetriedBeforeAnyRead) {
  MigrationParticipant participant = restored();
  EXPECT_EQ(kinds(participant.tick(kDecisionAt)), std::vector<P>{P::fence_prepared_record});
  // EIO: the commit could still land after a read, so no read yet.
  EXPECT_TRUE(participant.on_fence_result(RenameResult::failed, kDecisionAt).empty());
  EXPECT_EQ(participant.record_reads(), 0u);
  EXPECT_EQ(kinds(participant.tick(kDecisionAt + kRecordRereadIntervalMs)),
            std::vector<P>{P::fence_prepared_record});
  EXPECT_EQ(participant.fences(), 2u);
}

TEST(MigrationParticipant, IdleDeadlineFromRoundOne) {
  // Created at round 1's page server: the coordinator goes silent before any restore.
  MigrationParticipant participant(test_job(), 0);
  EXPECT_EQ(participant.phase(), ParticipantPhase::receiving);
  EXPECT_EQ(participant.next_deadline(), kParticipantIdleTimeoutMs);
  // Pages arriving and requests push the deadline.
  participant.on_heard_from_coordinator(20'000);
  EXPECT_EQ(participant.next_deadline(), 20'000 + kParticipantIdleTimeoutMs);
  EXPECT_TRUE(participant.tick(20'000 + kParticipantIdleTimeoutMs - 1).empty());
  fence_then_read(participant, 20'000 + kParticipantIdleTimeoutMs, RenameResult::done);
  // Hearing from the coordinator now changes nothing: our fence has landed.
  participant.on_heard_from_coordinator(50'001);
  EXPECT_TRUE(participant.on_restore_request(50'002).empty()) << "no restore while deciding";
  std::vector<ParticipantAction> actions = participant.on_commit_record_read(kSourceRecord, 50'010);
  EXPECT_EQ(kinds(actions), (std::vector<P>{P::discard_local_copy, P::finished}));
  EXPECT_EQ(participant.outcome(), MigrationOutcome::aborted);
  EXPECT_TRUE(participant.on_restore_request(50'020).empty()) << "no restore after a discard";
}

TEST(MigrationParticipant, RecordNamingUsWithoutACopyIsLost) {
  MigrationParticipant participant(test_job(), 0);
  fence_then_read(participant, kParticipantIdleTimeoutMs, RenameResult::not_found);
  std::vector<ParticipantAction> actions =
      participant.on_commit_record_read(kTargetRecord, kParticipantIdleTimeoutMs);
  EXPECT_EQ(kinds(actions), (std::vector<P>{P::discard_local_copy, P::finished}));
  EXPECT_EQ(participant.outcome(), MigrationOutcome::lost);
}

TEST(MigrationParticipant, RequestsFromTheCoordinator) {
  MigrationParticipant resumed = restored();
  EXPECT_EQ(kinds(resumed.on_resume_request(2'000)),
            (std::vector<P>{P::resume_local_copy, P::finished}));
  EXPECT_EQ(resumed.reason(), "resumed: asked by node-a10001");
  EXPECT_TRUE(resumed.on_discard_request(2'001).empty()) << "a running job is never discarded";
  EXPECT_TRUE(resumed.tick(1'000'000).empty());
  EXPECT_EQ(resumed.phase(), ParticipantPhase::resumed);

  MigrationParticipant discarded = restored();
  EXPECT_EQ(kinds(discarded.on_discard_request(2'000)),
            (std::vector<P>{P::discard_local_copy, P::finished}));
  EXPECT_EQ(discarded.reason(), "discarded: asked by node-a10001");
  EXPECT_FALSE(discarded.next_deadline().has_value());

  // Before any restore: the images go (there is no copy yet).
  MigrationParticipant receiving(test_job(), 0);
  EXPECT_EQ(kinds(receiving.on_discard_request(10)),
            (std::vector<P>{P::discard_local_copy, P::finished}));
  EXPECT_TRUE(receiving.on_resume_request(20).empty());
}

TEST(MigrationParticipant, RequestWhileAReadIsOutWinsAndTheAnswerIsIgnored) {
  MigrationParticipant participant = restored();
  fence_then_read(participant, kDecisionAt, RenameResult::not_found);
  EXPECT_EQ(kinds(participant.on_resume_request(kDecisionAt + 1)),
            (std::vector<P>{P::resume_local_copy, P::finished}));
  EXPECT_TRUE(participant.on_commit_record_read(kTargetRecord, kDecisionAt + 2).empty());
  EXPECT_EQ(participant.ignored_events(), 1u);
}

TEST(MigrationParticipant, RestoreFailsOrFinishesLate) {
  MigrationParticipant failed(test_job(), 0);
  failed.on_restore_request(0);
  std::vector<ParticipantAction> actions = failed.on_restore_failed("missing file /home/x", 100);
  EXPECT_EQ(kinds(actions), (std::vector<P>{P::discard_local_copy, P::finished}));
  EXPECT_EQ(last(actions).reason, "discarded: restore failed: missing file /home/x");

  // The restore hangs past the target's patience: it decides by the record, discards (which
  // cgroup.kills the restore), and kills whatever the restore still makes afterwards.
  MigrationParticipant slow(test_job(), 0);
  slow.on_restore_request(0);
  EXPECT_EQ(slow.next_deadline(), kParticipantRestoreTimeoutMs);
  // The coordinator waits for us meanwhile: hearing from it does not shorten the restore.
  slow.on_heard_from_coordinator(1'000);
  EXPECT_EQ(slow.next_deadline(), kParticipantRestoreTimeoutMs);
  fence_then_read(slow, kParticipantRestoreTimeoutMs, RenameResult::done);
  EXPECT_EQ(kinds(slow.on_commit_record_read(kSourceRecord, kParticipantRestoreTimeoutMs)),
            (std::vector<P>{P::discard_local_copy, P::finished}));
  EXPECT_EQ(kinds(slow.on_restore_done(kParticipantRestoreTimeoutMs + 1)),
            std::vector<P>{P::discard_local_copy});
}

TEST(MigrationParticipant, NamedWhileStillRestoringResumesWhenRestored) {
  MigrationParticipant by_request(test_job(), 0);
  by_request.on_restore_request(0);
  EXPECT_TRUE(by_request.on_resume_request(10).empty());
  EXPECT_TRUE(by_request.on_discard_request(11).empty()) << "the record already named us";
  EXPECT_EQ(kinds(by_request.on_restore_done(20)),
            (std::vector<P>{P::resume_local_copy, P::finished}));

  MigrationParticipant by_record(test_job(), 0);
  by_record.on_restore_request(0);
  fence_then_read(by_record, kParticipantRestoreTimeoutMs, RenameResult::not_found);
  EXPECT_TRUE(by_record.on_commit_record_read(kTargetRecord, kParticipantRestoreTimeoutMs).empty());
  EXPECT_EQ(by_record.phase(), ParticipantPhase::restoring);
  EXPECT_EQ(kinds(by_record.on_restore_done(kParticipantRestoreTimeoutMs + 5)),
            (std::vector<P>{P::resume_local_copy, P::finished}));
}

TEST(MigrationParticipant, AfterRestartFencesAndReadsAtOnce) {
  MigrationParticipant participant = MigrationParticipant::after_restart(test_job(), 5'000);
  EXPECT_EQ(participant.phase(), ParticipantPhase::restored);
  fence_then_read(participant, 5'000, RenameResult::done);
  EXPECT_EQ(kinds(participant.on_commit_record_read(kSourceRecord, 5'010)),
            (std::vector<P>{P::discard_local_copy, P::finished}));
}

TEST(MigrationParticipant, AfterRestartWithACopyResumesItWhenTheRecordNamesUs) {
  MigrationParticipant participant = MigrationParticipant::after_restart(test_job(), 5'000);
  fence_then_read(participant, 5'000, RenameResult::not_found);
  EXPECT_EQ(kinds(participant.on_commit_record_read(kTargetRecord, 5'010)),
            (std::vector<P>{P::resume_local_copy, P::finished}));
  EXPECT_EQ(participant.outcome(), MigrationOutcome::committed);
}

TEST(MigrationParticipant, AfterRestartWithoutACopyNeverResumes) {
  // The copy the dead worker vouched for is gone: a record naming us means the job is lost,
  // one naming the source means there is nothing here to discard but the images.
  MigrationParticipant named = MigrationParticipant::after_restart(test_job(), 5'000, false);
  EXPECT_EQ(named.phase(), ParticipantPhase::receiving);
  fence_then_read(named, 5'000, RenameResult::not_found);
  EXPECT_EQ(kinds(named.on_commit_record_read(kTargetRecord, 5'010)),
            (std::vector<P>{P::discard_local_copy, P::finished}));
  EXPECT_EQ(named.outcome(), MigrationOutcome::lost);

  MigrationParticipant other = MigrationParticipant::after_restart(test_job(), 5'000, false);
  fence_then_read(other, 5'000, RenameResult::done);
  EXPECT_EQ(kinds(other.on_commit_record_read(kSourceRecord, 5'010)),
            (std::vector<P>{P::discard_local_copy, P::finished}));
  EXPECT_EQ(other.outcome(), MigrationOutcome::aborted);
}

TEST(MigrationParticipant, UnaskedAnswersAreIgnored) {
  MigrationParticipant participant = restored();
  EXPECT_TRUE(participant.on_commit_record_read(kTargetRecord, 1'500).empty());
  EXPECT_TRUE(participant.on_fence_result(RenameResult::done, 1'500).empty());
  EXPECT_EQ(participant.phase(), ParticipantPhase::restored);
  EXPECT_EQ(participant.ignored_events(), 2u);
}

}  // namespace
}  // namespace clusterlive
