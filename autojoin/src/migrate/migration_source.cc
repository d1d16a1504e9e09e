#include "migrate/migration_source.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <deque>
#include <iostream>
#include <thread>

#include "core/migration.h"
#include "core/preflight.h"
#include "criu/criu_commands.h"
#include "criu/criu_stats.h"
#include "migrate/commit_records.h"
#include "migrate/criu_process.h"
#include "migrate/job_inspection.h"
#include "migrate/migration_progress.h"
#include "migrate/peer_link.h"
#include "migrate/progress_file.h"
#include "sys/file_io.h"
#include "sys/wall_clock.h"

namespace clusterlive {
namespace {

constexpr TimeMs kConnectTimeoutMs = 10'000;
constexpr TimeMs kAnswerTimeoutMs = 30'000;
constexpr TimeMs kBestEffortAnswerMs = 10'000;
// How long a failed dump waits for the target's side of the story (its page server's error).
constexpr TimeMs kTargetReasonWaitMs = 5'000;
constexpr const char* kDirtyTrackingFeature = "mem_dirty_track";

// Image files of the source's final set the target needs besides the pages its page server
// wrote: everything but the pages, the parent link, logs and the source's own statistics.
bool is_sent_image(const std::string& name) {
  return !name.starts_with("pages-") && !name.starts_with("pagemap") && name != "parent" &&
         !name.ends_with(".log") && name != "stats-dump";
}

class Source {
 public:
  explicit Source(const SourceOptions& options) : options_(options) {}
  int run();

 private:
  void execute(std::deque<MigrationAction> actions);
  std::vector<MigrationAction> preflight();
  std::vector<MigrationAction> transfer(const criu::ImageSet& set);
  std::vector<MigrationAction> restore_on_target();
  void best_effort(const nlohmann::json& message, const char* answer);
  std::optional<nlohmann::json> ask(const nlohmann::json& message, TimeMs timeout,
                                    std::string& error);
  void write_progress();
  void log(const std::string& text) const {
    std::cerr << "clusterlive-migrate: " << options_.job << " attempt " << attempt_
              << " (source): " << text << std::endl;
  }
  std::string attempt_dir() const {
    return options_.work_root + "/" + options_.job + "/" + std::to_string(attempt_);
  }

  const SourceOptions& options_;
  std::string spool_;
  uint64_t attempt_ = 0;
  std::optional<MigrationCoordinator> coordinator_;
  std::optional<PeerLink> link_;
  std::optional<JobSnapshot> snapshot_;
  std::optional<pid_t> criu_;  // a pre-dump or dump still running
  bool finished_ = false;
  MigrationOutcome outcome_ = MigrationOutcome::in_progress;
  std::string reason_;
};

void Source::write_progress() {
  MigrationProgress p;
  if (coordinator_) p = coordinator_->progress();
  nlohmann::json progress = {{"target", options_.target},
                             {"attempt", attempt_},
                             // "starting", as the daemon's first file says, until the
                             // coordinator starts (api::MigrationView knows no not_started).
                             {"phase", p.phase == MigrationPhase::not_started
                                           ? std::string("starting")
                                           : protocol_name(to_string(p.phase))},
                             {"round", p.round},
                             {"bytes_sent", p.total_bytes_sent},
                             {"rate_bytes_per_s", p.rate_bytes_per_s},
                             {"outcome", protocol_name(to_string(outcome_))},
                             {"reason", reason_},
                             {"updated_unix_ms", unix_time_ms()},
                             {"worker_pid", getpid()}};
  if (p.freeze_duration_ms) progress["freeze_ms"] = *p.freeze_duration_ms;
  std::string error;
  publish_progress(options_.progress_path, spool_, progress, error);
  if (!error.empty()) log(error);
}

std::optional<nlohmann::json> Source::ask(const nlohmann::json& message, TimeMs timeout,
                                          std::string& error) {
  if (!link_ || link_->closed()) {
    error = "the link to " + options_.target + " is down";
    return std::nullopt;
  }
  if (!link_->send(message, error)) return std::nullopt;
  return link_->receive(monotonic_ms() + timeout, error);
}

void Source::best_effort(const nlohmann::json& message, const char* answer) {
  std::string error;
  auto reply = ask(message, kBestEffortAnswerMs, error);
  if (!reply || !reply->value(answer, false)) {
    log(std::string("the target did not confirm ") + answer +
        (error.empty() ? "" : ": " + error) + " (it decides by the record alone)");
  }
}

std::vector<MigrationAction> Source::preflight() {
  TimeMs now = monotonic_ms();
  std::string error;
  snapshot_ = snapshot_job(options_.init, options_.job, spool_, error);
  if (!snapshot_) return coordinator_->on_preflight_refused(error, now);
  PreflightResult files = preflight_files_to_check(*snapshot_);
  if (!files.ok) return coordinator_->on_preflight_refused(files.refusal, monotonic_ms());
  bool precopy = gather_node_facts(options_.node, {}, {kDirtyTrackingFeature})
                     .criu_features.size() == 1;
  std::vector<std::string> features;
  if (precopy) features.push_back(kDirtyTrackingFeature);
  link_ = PeerLink::connect_privileged(options_.target_address, options_.port,
                                       monotonic_ms() + kConnectTimeoutMs, error);
  if (!link_) {
    return coordinator_->on_preflight_refused(options_.target + " cannot be reached: " + error,
                                              monotonic_ms());
  }
  nlohmann::json hello = {{"hello",
                           {{"job", options_.job},
                            {"attempt", attempt_},
                            {"source", options_.node},
                            {"paths", files.files_to_check},
                            {"criu_features", features}}}};
  auto answer = ask(hello, kAnswerTimeoutMs, error);
  if (!answer) {
    return coordinator_->on_preflight_refused(options_.target + " did not answer: " + error,
                                              monotonic_ms());
  }
  if (!answer->value("ok", false)) {
    return coordinator_->on_preflight_refused(answer->value("error", "refused"), monotonic_ms());
  }
  std::optional<NodeFacts> target_facts;
  if (answer->contains("facts")) target_facts = node_facts_from_json(answer->at("facts"));
  if (!target_facts) {
    return coordinator_->on_preflight_refused(options_.target + " sent malformed facts",
                                              monotonic_ms());
  }
  NodeFacts source_facts = gather_node_facts(options_.node, files.files_to_check, features);
  PreflightResult decision = preflight_decide(*snapshot_, source_facts, *target_facts);
  if (!decision.ok) return coordinator_->on_preflight_refused(decision.refusal, monotonic_ms());
  PreflightFigures figures;
  figures.resident_pages = snapshot_->rss_bytes / kPageBytes;
  figures.target_available_bytes = target_facts->available_bytes;
  figures.precopy_available = precopy;
  return coordinator_->on_preflight_ok(figures, monotonic_ms());
}

std::vector<MigrationAction> Source::transfer(const criu::ImageSet& set) {
  auto failed = [&](const std::string& why) {
    return set.final_dump ? coordinator_->on_final_dump_failed(why, monotonic_ms())
                          : coordinator_->on_round_failed(set.round, why, monotonic_ms());
  };
  std::string error;
  // At most the job's resident pages cross in one set: the target's page server waits that
  // long (transfer_timeout_ms) before it gives up on us.
  uint64_t expected_pages = snapshot_ ? snapshot_->rss_bytes / kPageBytes : 0;
  auto ready = ask({{"set", set.name()}, {"parent", set.parent_round()},
                    {"expected_pages", expected_pages}},
                   kAnswerTimeoutMs, error);
  if (!ready) return failed("no page server on " + options_.target + ": " + error);
  if (!ready->value("ready", false)) return failed(ready->value("error", "no page server"));
  uint16_t port = ready->value("port", uint16_t{0});
  std::string dir = criu::images_dir(attempt_dir(), set);
  mkdir(dir.c_str(), 0700);
  criu::DumpRequest request{options_.init, attempt_dir(), set, options_.target_address, port};
  std::vector<std::string> argv =
      set.final_dump ? criu::dump_command(request) : criu::pre_dump_command(request);
  criu_ = start_process(argv, -1, error);
  if (!criu_) return failed(error);
  std::optional<int> status;
  for (;;) {
    TimeMs deadline = coordinator_->next_deadline().value_or(monotonic_ms() + 1000);
    status = wait_process(*criu_, deadline);
    if (status) break;
    // The phase deadline passed with CRIU still running: the coordinator aborts (stop_criu).
    std::vector<MigrationAction> actions = coordinator_->tick(monotonic_ms());
    if (!actions.empty()) return actions;
  }
  criu_.reset();
  std::string log_path = criu::log_path(attempt_dir(), set.final_dump ? "dump" : "pre-dump", set);
  if (!WIFEXITED(*status) || WEXITSTATUS(*status) != 0) {
    std::string why = "criu " + std::string(set.final_dump ? "dump" : "pre-dump") + " " +
                      describe_status(*status) + ": " + criu_log_error(log_path);
    // When the target's page server failed first (its image space full, say), our CRIU saw
    // only the connection drop; the target's answer names the cause. Read it also so that it
    // is not taken for the answer to the next request (the discard).
    std::string ignored;
    auto target_side = link_->receive(monotonic_ms() + kTargetReasonWaitMs, ignored);
    if (target_side && !target_side->value("stored", true) && target_side->contains("error")) {
      why += "; " + target_side->value("error", std::string());
    }
    return failed(why);
  }
  auto stored = link_->receive(monotonic_ms() + kAnswerTimeoutMs, error);
  if (!stored) return failed("the target did not confirm the pages: " + error);
  if (!stored->value("stored", false)) return failed(stored->value("error", "pages not stored"));
  if (set.final_dump) {
    // What the frozen job wrote to /cluster may still sit in this node's NFS cache: it must
    // reach the storage node before the copy on the target appends after it.
    int shared = open(options_.jobs_root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    bool flushed = shared >= 0 && syncfs(shared) == 0;
    int saved = errno;
    if (shared >= 0) close(shared);
    if (!flushed) return failed("cannot flush the job's files to /cluster: " + errno_text(saved));
  }
  criu::CriuStats stats = criu::read_criu_stats(dir + "/stats-dump");
  uint64_t pages = stats.dump ? stats.dump->pages_written + stats.dump->shpages_written : 0;
  log("sent set " + set.name() + ": " + std::to_string(pages) + " pages" +
      (stats.dump ? " (" + criu::describe(*stats.dump) + ")" : ""));
  if (set.final_dump) return coordinator_->on_final_dump_done(pages * kPageBytes, monotonic_ms());
  return coordinator_->on_round_done(set.round, pages * kPageBytes, pages, monotonic_ms());
}

std::vector<MigrationAction> Source::restore_on_target() {
  std::string error;
  std::string dir = criu::images_dir(attempt_dir(), criu::ImageSet::final_after(0));
  for (const std::string& name : directory_entries(dir)) {
    if (!is_sent_image(name)) continue;
    if (!link_ || !link_->send_file(name, dir + "/" + name, error)) {
      return coordinator_->on_restore_failed("sending " + name + ": " + error, monotonic_ms());
    }
  }
  // The target says "restoring" every kRestoreHeartbeatMs until it answers; a silence of
  // kRestoreSilenceMs means it is gone (a cut link, a dead node).
  TimeMs deadline = monotonic_ms() + kRestoreTimeoutMs;
  auto answer = ask({{"restore", true}}, std::min(kRestoreTimeoutMs, kRestoreSilenceMs), error);
  while (answer && answer->value("restoring", false)) {
    TimeMs now = monotonic_ms();
    if (now >= deadline) {
      answer.reset();
      error = "the restore took longer than " + std::to_string(kRestoreTimeoutMs / 1000) + " s";
      break;
    }
    answer = link_->receive(std::min(deadline, now + kRestoreSilenceMs), error);
  }
  if (!answer) {
    return coordinator_->on_restore_failed("no answer from " + options_.target + ": " + error,
                                           monotonic_ms());
  }
  if (!answer->value("restored", false)) {
    return coordinator_->on_restore_failed(answer->value("error", "restore failed"),
                                           monotonic_ms());
  }
  return coordinator_->on_restore_done(monotonic_ms());
}

void Source::execute(std::deque<MigrationAction> actions) {
  while (!actions.empty()) {
    MigrationAction action = actions.front();
    actions.pop_front();
    log(describe(action));
    std::string error;
    std::vector<MigrationAction> next;
    switch (action.kind) {
      case MigrationActionKind::write_prepared_record:
        if (create_prepared_record(spool_, {options_.target, attempt_}, error)) {
          next = coordinator_->on_record_prepared(monotonic_ms());
        } else {
          next = coordinator_->on_prepare_failed(error, monotonic_ms());
        }
        break;
      case MigrationActionKind::run_preflight:
        next = preflight();
        break;
      case MigrationActionKind::precopy_round:
        next = transfer(criu::ImageSet::precopy(action.round));
        break;
      case MigrationActionKind::final_dump:
        next = transfer(criu::ImageSet::final_after(action.round));
        break;
      case MigrationActionKind::restore_on_target:
        next = restore_on_target();
        break;
      case MigrationActionKind::write_commit_record: {
        RenameResult result = rename_record(spool_, prepared_record_name(attempt_),
                                            std::string(kCommitRecordName), error);
        next = coordinator_->on_commit_result(result, error, monotonic_ms());
        break;
      }
      case MigrationActionKind::stop_criu:
        if (criu_) kill_process(*criu_);
        criu_.reset();
        next = coordinator_->on_criu_exited(monotonic_ms());
        break;
      case MigrationActionKind::resume_source:
        signal_job(options_.init, SIGCONT);
        break;
      case MigrationActionKind::discard_target_copy:
        best_effort({{"discard", true}}, "discarded");
        break;
      case MigrationActionKind::fence_prepared_record: {
        RenameResult result = rename_record(spool_, prepared_record_name(attempt_),
                                            fenced_record_name(attempt_, options_.node), error);
        next = coordinator_->on_fence_result(result, error, monotonic_ms());
        break;
      }
      case MigrationActionKind::read_commit_record:
        next = coordinator_->on_commit_record_read(read_location(spool_), monotonic_ms());
        break;
      case MigrationActionKind::kill_source_copy:
        kill(options_.init, SIGKILL);  // the init: its whole PID namespace goes with it
        break;
      case MigrationActionKind::tell_target_to_resume:
        best_effort({{"resume", true}}, "resumed");
        break;
      case MigrationActionKind::finished:
        finished_ = true;
        outcome_ = action.outcome;
        reason_ = action.reason;
        break;
    }
    write_progress();
    for (auto& follow : next) actions.push_back(follow);
  }
}

int Source::run() {
  spool_ = options_.jobs_root + "/" + options_.job;
  std::optional<CommitRecord> location = read_location(spool_);
  std::optional<uint64_t> attempt;
  if (location) attempt = next_attempt(*location, directory_entries(spool_));
  if (!location || location->node != options_.node || !attempt) {
    outcome_ = MigrationOutcome::aborted;
    reason_ = options_.job + " does not run on " + options_.node + " (its record names " +
              (location ? location->node : "nothing readable") + ")";
    log(reason_);
    write_progress();
    return 1;
  }
  // The daemon (or the node that asked it) chose the attempt, so that whoever watches knows
  // which migration is theirs. A lower one than the record allows is stale: another
  // migration of the job got there first.
  if (options_.attempt != 0 && options_.attempt < *attempt) {
    attempt_ = options_.attempt;
    outcome_ = MigrationOutcome::aborted;
    reason_ = "attempt " + std::to_string(options_.attempt) + " of " + options_.job +
              " is stale: another migration of it came first";
    log(reason_);
    write_progress();
    return 1;
  }
  attempt_ = options_.attempt != 0 ? options_.attempt : *attempt;
  coordinator_.emplace(MigrationJob{options_.job, options_.node, options_.target, attempt_});
  mkdir(options_.work_root.c_str(), 0700);
  mkdir((options_.work_root + "/" + options_.job).c_str(), 0700);
  remove_tree(attempt_dir());
  mkdir(attempt_dir().c_str(), 0700);
  log("moving to " + options_.target + " (" + options_.target_address + ")");
  // The attempt is in the progress file before its prepared record exists, so a recovery
  // after this worker died knows which record to fence (attempt 0 there: nothing prepared).
  write_progress();
  auto first = coordinator_->start(monotonic_ms());
  execute({first.begin(), first.end()});
  while (!finished_) {
    // Waiting on a retry (a fence or a record read that failed): sleep to the deadline.
    TimeMs deadline = coordinator_->next_deadline().value_or(monotonic_ms() + 1000);
    TimeMs wait = deadline - monotonic_ms();
    if (wait > 0) std::this_thread::sleep_for(std::chrono::milliseconds(wait));
    auto actions = coordinator_->tick(monotonic_ms());
    execute({actions.begin(), actions.end()});
  }
  // The images go; the logs stay for a failed attempt.
  remove_tree(attempt_dir(), outcome_ == MigrationOutcome::committed ? "" : ".log");
  const MigrationProgress& p = coordinator_->progress();
  if (outcome_ == MigrationOutcome::committed) {
    log("moved to " + options_.target + ": " + std::to_string(p.total_bytes_sent) +
        " bytes sent, frozen " + std::to_string(p.freeze_duration_ms.value_or(0)) + " ms");
    append_move(spool_, {attempt_, options_.node, options_.target,
                         p.freeze_duration_ms.value_or(0), p.total_bytes_sent});
    return 0;
  }
  log(std::string(to_string(outcome_)) + ": " + reason_);
  return 1;
}

}  // namespace

int run_migration_source(const SourceOptions& options) {
  // A restart of the daemon must not end a migration half way.
  std::signal(SIGTERM, SIG_IGN);
  std::signal(SIGINT, SIG_IGN);
  std::signal(SIGHUP, SIG_IGN);
  std::signal(SIGPIPE, SIG_IGN);
  Source source(options);
  return source.run();
}

}  // namespace clusterlive
