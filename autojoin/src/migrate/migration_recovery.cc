#include "migrate/migration_recovery.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>
#include <vector>

#include "api/api_types.h"
#include "core/migration.h"
#include "migrate/commit_records.h"
#include "migrate/criu_process.h"
#include "migrate/job_inspection.h"
#include "migrate/migration_progress.h"
#include "migrate/peer_link.h"  // monotonic_ms
#include "migrate/progress_file.h"
#include "sys/file_io.h"
#include "sys/wall_clock.h"

namespace clusterlive {
namespace {

/// A fence that failed or a record that was unreadable is tried again after this long, in
/// milliseconds. Shorter than kRecordRereadIntervalMs: the job may be frozen meanwhile.
constexpr TimeMs kRecoveryRetryIntervalMs = 2'000;
/// Longest progress file read, in bytes (the worker's are a few hundred).
constexpr size_t kMaxProgressBytes = 64 * 1024;

constexpr const char* kRecoveringReason = "recovering: the migration worker died";

class Recovery {
 public:
  explicit Recovery(const RecoveryOptions& options)
      : options_(options), spool_(options.jobs_root + "/" + options.job) {}
  ~Recovery() {
    if (lock_ >= 0) close(lock_);  // releases the job's recovery lock
  }
  Recovery(const Recovery&) = delete;
  Recovery& operator=(const Recovery&) = delete;
  int run();

 private:
  /// True if the dead-looking worker, or any source worker of the job, still runs.
  bool worker_still_running() const;
  /// SIGKILLs the CRIU requests of the attempt still running; false if one would not go.
  bool stop_criu_of_attempt();
  /// Fences, reads the record and asks recover_coordinator until it decides.
  std::vector<MigrationAction> decide() const;
  void carry_out(const std::vector<MigrationAction>& actions);
  void finish(MigrationOutcome outcome, const std::string& reason);
  void write_progress();
  void log(const std::string& text) const {
    std::cerr << "clusterlive-migrate: " << options_.job << " attempt " << attempt_
              << " (recovery): " << text << std::endl;
  }
  std::string attempt_dir() const {
    return options_.work_root + "/" + options_.job + "/" + std::to_string(attempt_);
  }

  const RecoveryOptions& options_;
  const std::string spool_;
  int lock_ = -1;            ///< flock'ed <progress>.recover: one recovery per job at a time
  nlohmann::json progress_;  ///< the dead worker's progress, rewritten with ours
  uint64_t attempt_ = 0;
  std::string target_;
};

bool Recovery::worker_still_running() const {
  pid_t worker = progress_.value("worker_pid", pid_t{0});
  if (is_migration_worker(worker)) return true;
  // The daemon names itself in the file until the worker it starts writes its own pid; a
  // daemon restarted in that moment would take the worker for dead. Look for it by its job.
  return !source_workers_of(options_.job).empty();
}

bool Recovery::stop_criu_of_attempt() {
  for (pid_t pid : processes_using_directory(attempt_dir())) {
    log("killing CRIU request " + std::to_string(pid) + " left by the worker");
  }
  return stop_processes_using_directory(attempt_dir(), kCriuExitTimeoutMs);
}

std::vector<MigrationAction> Recovery::decide() const {
  MigrationJob job{options_.job, options_.node, target_, attempt_};
  for (;;) {
    std::string error;
    RenameResult fence = rename_record(spool_, prepared_record_name(attempt_),
                                       fenced_record_name(attempt_, options_.node), error);
    std::optional<CommitRecord> record = read_location(spool_);
    bool holds_copy = options_.init > 0 && kill(options_.init, 0) == 0;
    // The target cannot be asked from here: it decides by the record itself once it has
    // heard nothing for kParticipantIdleTimeoutMs.
    std::vector<MigrationAction> actions =
        recover_coordinator(job, fence, record, holds_copy, TargetCopy::unknown);
    if (!actions.empty() && actions.back().kind == MigrationActionKind::finished) return actions;
    // Never guess: the commit sent before the worker died may still land.
    log("cannot decide yet (fence " + std::string(to_string(fence)) +
        (error.empty() ? "" : ": " + error) + ", record " +
        (record ? record->node + " " + std::to_string(record->attempt) : "unreadable") +
        "); trying again");
    std::this_thread::sleep_for(std::chrono::milliseconds(kRecoveryRetryIntervalMs));
  }
}

void Recovery::carry_out(const std::vector<MigrationAction>& actions) {
  for (const MigrationAction& action : actions) {
    log(describe(action));
    switch (action.kind) {
      case MigrationActionKind::resume_source:
        signal_job(options_.init, SIGCONT);
        break;
      case MigrationActionKind::kill_source_copy:
        kill(options_.init, SIGKILL);  // the init: its whole PID namespace goes with it
        break;
      case MigrationActionKind::discard_target_copy:
      case MigrationActionKind::tell_target_to_resume:
        log("not asked of " + target_ + ": it fences and decides by the record itself");
        break;
      case MigrationActionKind::finished:
        finish(action.outcome, action.reason);
        break;
      default:
        log("unexpected action " + describe(action) + ", ignored");
        break;
    }
  }
}

void Recovery::finish(MigrationOutcome outcome, const std::string& reason) {
  progress_["outcome"] = protocol_name(to_string(outcome));
  progress_["phase"] = outcome == MigrationOutcome::committed ? "committed" : "aborted";
  progress_["reason"] = reason;
  write_progress();
  // The images go; the logs stay, to see what the dead worker was doing.
  if (attempt_ > 0) remove_tree(attempt_dir(), ".log");
  if (outcome == MigrationOutcome::committed) {
    append_move(spool_, {attempt_, options_.node, target_, progress_.value("freeze_ms", 0),
                         progress_.value("bytes_sent", uint64_t{0})});
  }
  log(std::string(to_string(outcome)) + ": " + reason);
}

void Recovery::write_progress() {
  progress_["updated_unix_ms"] = unix_time_ms();
  progress_["worker_pid"] = getpid();
  std::string error;
  publish_progress(options_.progress_path, spool_, progress_, error);
  if (!error.empty()) log(error);
}

int Recovery::run() {
  // One recovery per job at a time: the daemon may start another before this one is done.
  // The lock file stays (removing it would let a third recovery lock a new one beside ours).
  std::string lock_path = options_.progress_path + ".recover";
  lock_ = open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_ < 0) {
    std::cerr << "clusterlive-migrate: " << options_.job << " (recovery): " << lock_path << ": "
              << errno_text(errno) << std::endl;
    return 1;
  }
  if (flock(lock_, LOCK_EX | LOCK_NB) != 0) return 0;  // held until we return

  ReadResult text = read_file_bounded(options_.progress_path, kMaxProgressBytes);
  if (text.status == ReadStatus::not_found) return 0;
  progress_ = nlohmann::json::parse(text.text, nullptr, false);
  if (text.status != ReadStatus::ok || !progress_.is_object()) {
    std::cerr << "clusterlive-migrate: " << options_.job
              << " (recovery): " << options_.progress_path << " is unreadable" << std::endl;
    return 1;
  }
  if (progress_.value("outcome", "") != api::kMigrationInProgress) return 0;
  if (worker_still_running()) return 0;
  attempt_ = progress_.value("attempt", uint64_t{0});
  target_ = progress_.value("target", "");

  log("the worker " + std::to_string(progress_.value("worker_pid", 0)) + " died; recovering");
  progress_["reason"] = kRecoveringReason;
  write_progress();
  if (attempt_ == 0) {
    // It died before it prepared anything (the worker names the attempt before it writes the
    // prepared record): nothing can have reached the target. A SIGCONT is harmless.
    if (options_.init > 0) signal_job(options_.init, SIGCONT);
    finish(MigrationOutcome::aborted, "the migration worker died before it prepared anything");
    return 0;
  }
  // A CRIU dump left running could still freeze or change the job: nothing is decided or
  // resumed while one runs.
  if (!stop_criu_of_attempt()) {
    log("a CRIU request of the attempt does not die; the job stays as it is for now");
    return 1;
  }
  carry_out(decide());
  return 0;
}

}  // namespace

int run_migration_recovery(const RecoveryOptions& options) {
  Recovery recovery(options);
  return recovery.run();
}

}  // namespace clusterlive
