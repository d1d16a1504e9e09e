#include "core/migration.h"

#include <gtest/gtest.h>

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
// the participant ask for, as the daemon's edge will. Every answer arrives later on a clock
// (an event queue), so faults can strike between a request and its answer. The world checks
// the invariants after every action: never two running copies, the source never resumed once
// the record names the target, never killed before, the target never resumed unless named.

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
enum class Step { none, preflight, precopy_round, final_dump, restore, commit_write, after_commit };

// What goes wrong there.
enum class Fault {
  none,
  link_lost,       // the target lives on, cut off for good; membership says so 2 s later
  target_crashes,  // the target dies and its copies with it; membership says so 2 s later
  fails,           // the step answers with a failure (commit_write: "disk full")
  hangs,           // the step never answers (commit_write: lands after 60 s, storage fine)
  link_lost_then_write_fails,  // commit_write: cut off, then the write fails
  storage_down,                // commit_write: /cluster hangs 120 s, the write lands then
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
constexpr TimeMs kMessageMs = 1;
constexpr TimeMs kTickMs = 100;
constexpr uint64_t kLinkBytesPerMs = 4096;

// The default job: 20000 resident pages; the rounds write these pages (the 5th does not shrink
// enough: 1100 >= 0.8 * 1200), the final dump 900.
const std::vector<uint64_t> kDefaultRounds = {20'000, 8'000, 3'000, 1'200, 1'100};
constexpr uint64_t kDefaultResidentPages = 20'000;
constexpr uint64_t kDefaultFinalPages = 900;

class World {
 public:
  explicit World(FaultPlan plan, std::vector<uint64_t> round_pages = kDefaultRounds,
                 uint64_t resident_pages = kDefaultResidentPages,
                 uint64_t final_pages = kDefaultFinalPages)
      : plan_(plan),
        round_pages_(std::move(round_pages)),
        resident_pages_(resident_pages),
        final_pages_(final_pages) {}

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

  TimeMs now = 0;
  MigrationCoordinator coordinator{test_job()};
  std::optional<MigrationParticipant> participant;
  Copy source = Copy::running;
  Copy target = Copy::none;
  bool link_up = true;
  bool target_alive = true;
  TimeMs storage_down_until = 0;   // /cluster hangs before this time
  std::string location = kSource;  // the commit record
  bool prepared = false;           // location.<attempt> exists
  bool fenced = false;             // it was renamed away by a fence
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

  // A message over the mesh to the target: lost when the link is down on arrival.
  void to_target(TimeMs delay, std::string label, std::function<void()> fn) {
    at(delay, label, [this, label, fn] {
      if (!link_up || !target_alive) {
        log.push_back(std::to_string(now) + " lost on the way: " + label);
        return;
      }
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

  void carry_out(const MigrationAction& action) {
    switch (action.kind) {
      case K::run_preflight:
        if (strike_loss(Step::preflight)) {
          to_coordinator(kStaleFailureDelayMs, "preflight refused (stale)", [this] {
            return coordinator.on_preflight_refused("target unreachable", now);
          });
        } else if (faulted(Step::preflight) && plan_.fault == Fault::fails) {
          to_coordinator(kPreflightMs, "preflight refused", [this] {
            return coordinator.on_preflight_refused("cpu of node-c10002 lacks avx512f", now);
          });
        } else if (!faulted(Step::preflight)) {
          to_coordinator(kPreflightMs, "preflight ok",
                         [this] { return coordinator.on_preflight_ok(resident_pages_, now); });
        }
        break;

      case K::precopy_round: {
        ++rounds_requested;
        uint32_t round = action.round;
        size_t index = std::min<size_t>(round - 1, round_pages_.size() - 1);
        uint64_t pages = round_pages_[index];
        if (source != Copy::running) violation("pre-dump of a job that is not running");
        if (strike_loss(Step::precopy_round, round)) {
          to_coordinator(kStaleFailureDelayMs, "round failed (stale)", [this, round] {
            return coordinator.on_round_failed(round, "page server connection reset", now);
          });
        } else if (faulted(Step::precopy_round, round) && plan_.fault == Fault::fails) {
          to_coordinator(100, "round failed", [this, round] {
            return coordinator.on_round_failed(round, "criu pre-dump exited with 1", now);
          });
        } else if (!faulted(Step::precopy_round, round)) {
          to_coordinator(static_cast<TimeMs>(pages * kPageBytes / kLinkBytesPerMs), "round done",
                         [this, round, pages] {
                           return coordinator.on_round_done(round, pages * kPageBytes, pages, now);
                         });
        }
        break;
      }

      case K::final_dump:
        final_dump_at = now;
        if (source != Copy::running) violation("final dump of a job that is not running");
        source = Copy::stopped;  // frozen, and left stopped
        if (strike_loss(Step::final_dump)) {
          to_coordinator(kStaleFailureDelayMs, "final dump failed (stale)", [this] {
            return coordinator.on_final_dump_failed("page server connection reset", now);
          });
        } else if (faulted(Step::final_dump) && plan_.fault == Fault::fails) {
          to_coordinator(100, "final dump failed", [this] {
            return coordinator.on_final_dump_failed("criu dump: cannot dump task 4242", now);
          });
        } else if (!faulted(Step::final_dump)) {
          to_coordinator(
              static_cast<TimeMs>(final_pages_ * kPageBytes / kLinkBytesPerMs), "final dump done",
              [this] { return coordinator.on_final_dump_done(final_pages_ * kPageBytes, now); });
        }
        break;

      case K::restore_on_target:
        if (!storage_up()) {
          to_coordinator(kWriteMs, "restore failed", [this] {
            return coordinator.on_restore_failed("cannot prepare the commit record", now);
          });
          break;
        }
        prepared = true;
        to_target(kMessageMs, "restore request", [this] { target_restores(); });
        break;

      case K::write_commit_record:
        write_record();
        break;

      case K::resume_source:
        ++source_resumes;
        if (location == kTarget) violation("source resumed after the commit");
        if (source == Copy::stopped) source = Copy::running;
        break;

      case K::discard_target_copy:
        to_target(kMessageMs, "discard request", [this] {
          if (participant) apply(participant->on_discard_request(now));
        });
        break;

      case K::kill_source_copy:
        if (location != kTarget) violation("source killed before the commit");
        source = Copy::none;
        break;

      case K::tell_target_to_resume:
        target_told_to_resume_at = now;
        if (location != kTarget) violation("target told to resume before the commit");
        strike_loss(Step::after_commit);
        to_target(kMessageMs, "resume request", [this] {
          if (participant) apply(participant->on_resume_request(now));
        });
        break;

      case K::read_commit_record:
        violation("the coordinator asked to read the record outside recovery");
        break;

      case K::finished:
        if (finished) violation("finished twice");
        finished = action;
        break;
    }
  }

  // The target's edge: a restore request arrived.
  void target_restores() {
    participant.emplace(test_job(), now);
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
    target = Copy::stopped;
    apply(participant->on_restore_done(now));  // the participant first, then the report
    from_target(kMessageMs, "restore done report",
                [this] { return coordinator.on_restore_done(now); });
  }

  // The source's edge: write_commit_record, with the fault of the commit step.
  void write_record() {
    TimeMs lands_after = kWriteMs;
    bool fails = false;
    std::string failure;
    if (faulted(Step::commit_write)) {
      switch (plan_.fault) {
        case Fault::fails:
          fails = true;
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
          fails = true;
          failure = "/cluster unreachable";
          break;
        case Fault::hangs:
          lands_after = 60'000;
          break;
        case Fault::storage_down:
          storage_down_until = now + 120'000;
          lands_after = 120'000;
          break;
        case Fault::none:
          break;
      }
    }
    at(lands_after, "commit record write answers", [this, fails, failure] {
      if (fails) {
        apply(coordinator.on_commit_record_failed(failure, now));
      } else if (prepared && !fenced) {
        // rename(location.<attempt>, location)
        location = kTarget;
        prepared = false;
        apply(coordinator.on_commit_record_written(now));
      } else {
        // The prepared record was fenced away: the rename failed, the record names the source.
        apply(coordinator.on_commit_record_failed("attempt fenced by " + kTarget, now));
      }
    });
  }

  void carry_out(const ParticipantAction& action) {
    switch (action.kind) {
      case P::resume_local_copy:
        if (location != kTarget) violation("target resumed while the record names " + location);
        if (target != Copy::stopped) {
          violation(std::string("target resumed with its copy ") + name(target));
        }
        target = Copy::running;
        break;
      case P::discard_local_copy:
        if (target == Copy::running) violation("a running target copy discarded");
        target = Copy::none;
        break;
      case P::read_commit_record:
        if (!storage_up()) {
          at(1'000, "record read fails", [this] {
            if (participant && target_alive) {
              apply(participant->on_commit_record_read(std::nullopt, now));
            }
          });
          break;
        }
        // Fence: rename(location.<attempt>, fenced.<attempt>), then read.
        if (prepared) {
          prepared = false;
          fenced = true;
        }
        at(5, "record read answers", [this, named = location] {
          if (participant && target_alive) apply(participant->on_commit_record_read(named, now));
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
      EXPECT_EQ(world.location, kSource);
      EXPECT_EQ(world.coordinator.phase(), MigrationPhase::aborted);
      break;
    case JobOn::target:
      EXPECT_EQ(world.source, Copy::none) << name(world.source);
      EXPECT_EQ(world.target, Copy::running) << name(world.target);
      EXPECT_EQ(world.location, kTarget);
      EXPECT_EQ(world.coordinator.phase(), MigrationPhase::committed);
      break;
    case JobOn::nowhere:  // committed, then the target died with the job
      EXPECT_EQ(world.running_copies(), 0u);
      EXPECT_EQ(world.source, Copy::none) << name(world.source);
      EXPECT_EQ(world.location, kTarget);
      EXPECT_EQ(scenario.outcome, MigrationOutcome::committed);
      break;
  }
  EXPECT_LE(world.source_resumes, 1u);
  // The target's own view agrees with the record whenever it survived to decide.
  if (world.participant && world.target_alive) {
    ASSERT_TRUE(world.target_finished.has_value());
    EXPECT_EQ(world.target_finished->outcome,
              world.location == kTarget ? MigrationOutcome::committed : MigrationOutcome::aborted);
  }
  // The freeze is measured whenever the job was frozen.
  EXPECT_EQ(world.coordinator.progress().freeze_duration_ms.has_value(), world.final_dump_at >= 0);
}

// Deadlines of the default job, spelled out: round 2 expects round 1's 20000 pages, the final
// dump round 5's 1100 (30000 ms + pages * 4096 B / 1 MB/s).
const Scenario kScenarios[] = {
    {"NoFault", {}, MigrationOutcome::committed, "", JobOn::target},

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
    {"CommitWriteHangsTargetFencesFirst",
     {Step::commit_write, 0, Fault::hangs},
     MigrationOutcome::aborted,
     "commit record not written: attempt fenced by node-c10002",
     JobOn::source},
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
  EXPECT_EQ(world.participant->record_reads(), 1u);
  ASSERT_TRUE(world.target_finished.has_value());
  EXPECT_EQ(world.target_finished->reason, "discarded: the record names node-a10001");
  EXPECT_TRUE(world.fenced) << "the target must fence before it trusts what it reads";
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

TEST(MigrationWorld, CommitHangIsFlaggedNotAborted) {
  World world({Step::commit_write, 0, Fault::storage_down});
  world.run();
  SCOPED_TRACE(world.trace());
  EXPECT_TRUE(world.coordinator.progress().commit_overdue);
  ASSERT_TRUE(world.participant.has_value());
  // Unreadable all along: it read again and again, and never guessed.
  EXPECT_GE(world.participant->record_reads(), 10u);
  EXPECT_EQ(world.participant->outcome(), MigrationOutcome::committed);
  // The job was frozen (not running anywhere) for the whole outage, and that is measured.
  ASSERT_TRUE(world.coordinator.progress().freeze_duration_ms.has_value());
  EXPECT_GT(*world.coordinator.progress().freeze_duration_ms, 120'000);
}

TEST(MigrationWorld, LateAnswersAfterAnAbortAreIgnored) {
  // The round's own failure arrives 5 s after the loss aborted the migration.
  World world({Step::precopy_round, 2, Fault::link_lost});
  world.run();
  SCOPED_TRACE(world.trace());
  EXPECT_EQ(world.coordinator.progress().ignored_events, 1u);
  EXPECT_EQ(last(world.coordinator_actions).kind, K::finished);
  EXPECT_EQ(world.coordinator_actions.size(),
            5u);  // preflight, round 1, round 2, discard, finished
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
  MigrationCoordinator coordinator(test_job());
  coordinator.start(0);
  coordinator.on_preflight_ok(20'000, 200);
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

// Drives a coordinator to the commit phase of a tiny job (no pre-copy), time 1000.
MigrationCoordinator at_commit() {
  MigrationCoordinator coordinator(test_job());
  coordinator.start(0);
  coordinator.on_preflight_ok(10, 100);
  coordinator.on_final_dump_done(40'960, 200);
  coordinator.on_restore_done(1'000);
  EXPECT_EQ(coordinator.phase(), MigrationPhase::commit);
  return coordinator;
}

TEST(MigrationCoordinator, HappyPathActions) {
  MigrationCoordinator coordinator(test_job());
  EXPECT_EQ(coordinator.phase(), MigrationPhase::not_started);
  EXPECT_EQ(kinds(coordinator.start(0)), std::vector<K>{K::run_preflight});
  EXPECT_EQ(
      coordinator.on_preflight_ok(1'000, 100),
      (std::vector<MigrationAction>{{K::precopy_round, 1, MigrationOutcome::in_progress, ""}}));
  EXPECT_EQ(
      coordinator.on_round_done(1, 4'096'000, 1'000, 1'100),
      (std::vector<MigrationAction>{{K::precopy_round, 2, MigrationOutcome::in_progress, ""}}));
  EXPECT_EQ(coordinator.on_round_done(2, 409'600, 100, 1'200),
            (std::vector<MigrationAction>{{K::final_dump, 2, MigrationOutcome::in_progress, ""}}));
  EXPECT_EQ(kinds(coordinator.on_final_dump_done(40'960, 1'300)),
            std::vector<K>{K::restore_on_target});
  EXPECT_EQ(kinds(coordinator.on_restore_done(1'600)), std::vector<K>{K::write_commit_record});
  std::vector<MigrationAction> actions = coordinator.on_commit_record_written(1'610);
  EXPECT_EQ(kinds(actions),
            (std::vector<K>{K::kill_source_copy, K::tell_target_to_resume, K::finished}));
  EXPECT_EQ(last(actions).outcome, MigrationOutcome::committed);
  EXPECT_EQ(coordinator.phase(), MigrationPhase::committed);
  EXPECT_FALSE(coordinator.next_deadline().has_value());
}

TEST(MigrationCoordinator, AbortUndoesOnlyWhatWasDone) {
  // Preflight: nothing frozen, nothing on the target.
  MigrationCoordinator preflight(test_job());
  preflight.start(0);
  EXPECT_EQ(kinds(preflight.cancel("user asked", 10)), std::vector<K>{K::finished});
  EXPECT_EQ(preflight.reason(), "cancelled during preflight: user asked");

  // Pre-copy: images on the target, job still running.
  MigrationCoordinator precopy(test_job());
  precopy.start(0);
  precopy.on_preflight_ok(20'000, 10);
  EXPECT_EQ(kinds(precopy.on_target_lost("", 20)),
            (std::vector<K>{K::discard_target_copy, K::finished}));
  EXPECT_EQ(precopy.reason(), "target node-c10002 lost during precopy round 1");

  // Restore: frozen here, a copy there.
  MigrationCoordinator restore(test_job());
  restore.start(0);
  restore.on_preflight_ok(10, 10);
  restore.on_final_dump_done(40'960, 20);
  EXPECT_EQ(kinds(restore.on_restore_failed("missing file /home/x", 30)),
            (std::vector<K>{K::resume_source, K::discard_target_copy, K::finished}));
  EXPECT_EQ(restore.reason(), "restore failed on node-c10002: missing file /home/x");
  EXPECT_EQ(restore.outcome(), MigrationOutcome::aborted);
}

TEST(MigrationCoordinator, DeadlinePerPhase) {
  MigrationCoordinator coordinator(test_job());
  EXPECT_FALSE(coordinator.next_deadline().has_value());
  coordinator.start(1'000);
  EXPECT_EQ(coordinator.next_deadline(), 1'000 + kPreflightTimeoutMs);
  EXPECT_TRUE(coordinator.tick(1'000 + kPreflightTimeoutMs - 1).empty());
  coordinator.on_preflight_ok(10, 2'000);  // tiny: straight to the final dump
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
  // Only the write's answer decides.
  std::vector<MigrationAction> actions = coordinator.on_commit_record_failed("disk full", 30'000);
  EXPECT_EQ(kinds(actions),
            (std::vector<K>{K::resume_source, K::discard_target_copy, K::finished}));
  EXPECT_EQ(last(actions).reason, "commit record not written: disk full");
}

TEST(MigrationCoordinator, NothingChangesAfterThePointOfNoReturn) {
  MigrationCoordinator coordinator = at_commit();
  coordinator.on_commit_record_written(1'010);
  EXPECT_TRUE(coordinator.on_target_lost("declared dead", 2'000).empty());
  EXPECT_TRUE(coordinator.tick(1'000'000).empty());
  EXPECT_TRUE(coordinator.cancel("user asked", 2'000).empty());
  EXPECT_TRUE(coordinator.on_commit_record_failed("late", 2'000).empty());
  EXPECT_TRUE(coordinator.on_restore_failed("late", 2'000).empty());
  EXPECT_EQ(coordinator.outcome(), MigrationOutcome::committed);
  EXPECT_EQ(coordinator.reason(), "");
  EXPECT_TRUE(coordinator.progress().target_lost);
}

TEST(MigrationCoordinator, StaleAndEarlyEventsAreIgnored) {
  MigrationCoordinator coordinator(test_job());
  EXPECT_TRUE(coordinator.on_preflight_ok(20'000, 0).empty());  // before start
  coordinator.start(0);
  EXPECT_TRUE(coordinator.start(0).empty());
  coordinator.on_preflight_ok(20'000, 10);
  EXPECT_TRUE(coordinator.on_round_done(2, 1, 1, 20).empty());  // not the current round
  EXPECT_TRUE(coordinator.on_round_failed(7, "?", 20).empty());
  EXPECT_TRUE(coordinator.on_restore_done(20).empty());           // not restoring
  EXPECT_TRUE(coordinator.on_commit_record_written(20).empty());  // no write out
  EXPECT_EQ(coordinator.phase(), MigrationPhase::precopy);
  EXPECT_EQ(coordinator.progress().ignored_events, 6u);
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
}

// --- Recovery after a coordinator crash ------------------------------------------------

TEST(RecoverCoordinator, TheRecordDecides) {
  struct Row {
    const char* name;
    std::optional<std::string> record;
    bool holds_copy;
    TargetCopy target;
    std::vector<K> actions;
    MigrationOutcome outcome;  // in_progress: no finished action
  };
  const Row rows[] = {
      {"unreadable",
       std::nullopt,
       true,
       TargetCopy::present,
       {K::read_commit_record},
       MigrationOutcome::in_progress},
      {"names source, both hold",
       kSource,
       true,
       TargetCopy::present,
       {K::resume_source, K::discard_target_copy, K::finished},
       MigrationOutcome::aborted},
      {"names source, target unknown",
       kSource,
       true,
       TargetCopy::unknown,
       {K::resume_source, K::discard_target_copy, K::finished},
       MigrationOutcome::aborted},
      {"names source, target has none",
       kSource,
       true,
       TargetCopy::absent,
       {K::resume_source, K::finished},
       MigrationOutcome::aborted},
      {"names source, source copy gone",
       kSource,
       false,
       TargetCopy::present,
       {K::discard_target_copy, K::finished},
       MigrationOutcome::lost},
      {"names target, both hold",
       kTarget,
       true,
       TargetCopy::present,
       {K::kill_source_copy, K::tell_target_to_resume, K::finished},
       MigrationOutcome::committed},
      {"names target, source already killed",
       kTarget,
       false,
       TargetCopy::present,
       {K::tell_target_to_resume, K::finished},
       MigrationOutcome::committed},
      {"names target, target unknown",
       kTarget,
       true,
       TargetCopy::unknown,
       {K::kill_source_copy, K::tell_target_to_resume, K::finished},
       MigrationOutcome::committed},
      {"names target, target has none",
       kTarget,
       true,
       TargetCopy::absent,
       {K::kill_source_copy, K::finished},
       MigrationOutcome::lost},
      {"names a third node",
       std::string("node-e10003"),
       true,
       TargetCopy::present,
       {K::kill_source_copy, K::discard_target_copy, K::finished},
       MigrationOutcome::aborted},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.name);
    std::vector<MigrationAction> actions =
        recover_coordinator(test_job(), row.record, row.holds_copy, row.target);
    EXPECT_EQ(kinds(actions), row.actions);
    if (row.outcome != MigrationOutcome::in_progress) {
      ASSERT_FALSE(actions.empty());
      EXPECT_EQ(last(actions).outcome, row.outcome);
      EXPECT_FALSE(actions.back().reason.empty());
    }
    // The source is resumed only where the record names it, killed only where it does not.
    for (const MigrationAction& action : actions) {
      if (action.kind == K::resume_source) {
        EXPECT_EQ(row.record, kSource);
      }
      if (action.kind == K::kill_source_copy) {
        EXPECT_NE(row.record, kSource);
      }
      if (action.kind == K::tell_target_to_resume) {
        EXPECT_EQ(row.record, kTarget);
      }
    }
  }
}

// --- The participant -------------------------------------------------------------------

// A participant whose restore finished at time 1000.
MigrationParticipant restored() {
  MigrationParticipant participant(test_job(), 0);
  EXPECT_TRUE(participant.on_restore_done(1'000).empty());
  EXPECT_EQ(participant.phase(), ParticipantPhase::restored);
  return participant;
}

constexpr TimeMs kDecisionAt = 1'000 + kParticipantDecisionTimeoutMs;

TEST(MigrationParticipant, TimeoutRecordNamesUs) {
  MigrationParticipant participant = restored();
  EXPECT_EQ(participant.next_deadline(), kDecisionAt);
  EXPECT_TRUE(participant.tick(kDecisionAt - 1).empty());
  EXPECT_EQ(kinds(participant.tick(kDecisionAt)), std::vector<P>{P::read_commit_record});
  EXPECT_TRUE(participant.tick(kDecisionAt + 10'000).empty()) << "one read at a time";
  std::vector<ParticipantAction> actions = participant.on_commit_record_read(kTarget, kDecisionAt);
  EXPECT_EQ(kinds(actions), (std::vector<P>{P::resume_local_copy, P::finished}));
  EXPECT_EQ(last(actions).outcome, MigrationOutcome::committed);
  EXPECT_EQ(participant.reason(), "resumed: the record names node-c10002");
  EXPECT_EQ(participant.phase(), ParticipantPhase::resumed);
}

TEST(MigrationParticipant, TimeoutRecordNamesTheSource) {
  MigrationParticipant participant = restored();
  participant.tick(kDecisionAt);
  std::vector<ParticipantAction> actions = participant.on_commit_record_read(kSource, kDecisionAt);
  EXPECT_EQ(kinds(actions), (std::vector<P>{P::discard_local_copy, P::finished}));
  EXPECT_EQ(last(actions).outcome, MigrationOutcome::aborted);
  EXPECT_EQ(participant.reason(), "discarded: the record names node-a10001");
  // A resume request now has nothing to resume.
  EXPECT_TRUE(participant.on_resume_request(kDecisionAt + 1).empty());
  EXPECT_EQ(participant.phase(), ParticipantPhase::discarded);
}

TEST(MigrationParticipant, TimeoutRecordUnreadableKeepsWaiting) {
  MigrationParticipant participant = restored();
  participant.tick(kDecisionAt);
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
  EXPECT_EQ(kinds(participant.on_commit_record_read(kTarget, now)),
            (std::vector<P>{P::resume_local_copy, P::finished}));
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
}

TEST(MigrationParticipant, RequestWhileAReadIsOutWinsAndTheAnswerIsIgnored) {
  MigrationParticipant participant = restored();
  participant.tick(kDecisionAt);
  EXPECT_EQ(kinds(participant.on_resume_request(kDecisionAt + 1)),
            (std::vector<P>{P::resume_local_copy, P::finished}));
  EXPECT_TRUE(participant.on_commit_record_read(kTarget, kDecisionAt + 2).empty());
  EXPECT_EQ(participant.ignored_events(), 1u);
}

TEST(MigrationParticipant, RestoreFailsOrFinishesLate) {
  MigrationParticipant failed(test_job(), 0);
  std::vector<ParticipantAction> actions = failed.on_restore_failed("missing file /home/x", 100);
  EXPECT_EQ(kinds(actions), (std::vector<P>{P::discard_local_copy, P::finished}));
  EXPECT_EQ(last(actions).reason, "discarded: restore failed: missing file /home/x");

  // The restore hangs past the target's patience: it decides by the record, discards (which
  // kills the restore), and kills whatever the restore still makes afterwards.
  MigrationParticipant slow(test_job(), 0);
  EXPECT_EQ(slow.next_deadline(), kParticipantRestoreTimeoutMs);
  EXPECT_EQ(kinds(slow.tick(kParticipantRestoreTimeoutMs)), std::vector<P>{P::read_commit_record});
  EXPECT_EQ(kinds(slow.on_commit_record_read(kSource, kParticipantRestoreTimeoutMs)),
            (std::vector<P>{P::discard_local_copy, P::finished}));
  EXPECT_EQ(kinds(slow.on_restore_done(kParticipantRestoreTimeoutMs + 1)),
            std::vector<P>{P::discard_local_copy});
}

TEST(MigrationParticipant, NamedWhileStillRestoringResumesWhenRestored) {
  MigrationParticipant by_request(test_job(), 0);
  EXPECT_TRUE(by_request.on_resume_request(10).empty());
  EXPECT_TRUE(by_request.on_discard_request(11).empty()) << "the record already named us";
  EXPECT_EQ(kinds(by_request.on_restore_done(20)),
            (std::vector<P>{P::resume_local_copy, P::finished}));

  MigrationParticipant by_record(test_job(), 0);
  by_record.tick(kParticipantRestoreTimeoutMs);
  EXPECT_TRUE(by_record.on_commit_record_read(kTarget, kParticipantRestoreTimeoutMs).empty());
  EXPECT_EQ(by_record.phase(), ParticipantPhase::restoring);
  EXPECT_EQ(kinds(by_record.on_restore_done(kParticipantRestoreTimeoutMs + 5)),
            (std::vector<P>{P::resume_local_copy, P::finished}));
}

TEST(MigrationParticipant, AfterRestartReadsTheRecordAtOnce) {
  MigrationParticipant participant = MigrationParticipant::after_restart(test_job(), 5'000);
  EXPECT_EQ(participant.phase(), ParticipantPhase::restored);
  EXPECT_EQ(kinds(participant.tick(5'000)), std::vector<P>{P::read_commit_record});
  EXPECT_EQ(kinds(participant.on_commit_record_read(kSource, 5'010)),
            (std::vector<P>{P::discard_local_copy, P::finished}));
}

TEST(MigrationParticipant, UnaskedReadAnswersAreIgnored) {
  MigrationParticipant participant = restored();
  EXPECT_TRUE(participant.on_commit_record_read(kTarget, 1'500).empty());
  EXPECT_EQ(participant.phase(), ParticipantPhase::restored);
  EXPECT_EQ(participant.ignored_events(), 1u);
}

}  // namespace
}  // namespace clusterlive
