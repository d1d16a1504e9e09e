#include "migrate/target_recovery.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <iostream>
#include <optional>
#include <thread>

#include "core/decimal.h"
#include "core/migration.h"
#include "core/proc_parsers.h"
#include "jobs/job_shim.h"
#include "migrate/commit_records.h"
#include "migrate/criu_process.h"
#include "migrate/job_inspection.h"
#include "migrate/migration_recovery.h"  // kCriuExitTimeoutMs
#include "migrate/peer_link.h"           // monotonic_ms
#include "migrate/target_claim.h"
#include "sys/file_io.h"

namespace clusterlive {
namespace {

/// Longest claim read, in bytes (a claim is about a hundred).
constexpr size_t kMaxClaimBytes = 4096;
/// How long a SIGKILLed copy of the job may take to go, in milliseconds.
constexpr int64_t kCopyExitTimeoutMs = 10'000;

// The state letter of `pid` ("State:" of /proc/PID/status), '?' if it is gone.
char state_of(pid_t pid) {
  ReadResult text = read_file_bounded("/proc/" + std::to_string(pid) + "/status", 64 * 1024);
  std::optional<ProcessStatus> status = parse_process_status(text.text);
  return status ? status->state : '?';
}

class TargetRecovery {
 public:
  explicit TargetRecovery(const TargetRecoveryOptions& options)
      : options_(options), spool_(options.jobs_root + "/" + options.job) {}
  ~TargetRecovery() {
    if (lock_ >= 0) close(lock_);  // releases the job's lock: another attempt may come
  }
  TargetRecovery(const TargetRecovery&) = delete;
  TargetRecovery& operator=(const TargetRecovery&) = delete;
  int run();

 private:
  /// The copy the dead worker vouched for, if that very process is still here; 0 if not.
  pid_t vouched_copy() const;
  /// Kills a copy CRIU restored that the worker died before checking and vouching for: the
  /// coordinator never heard of it, so it cannot have committed to it.
  void kill_unvouched_copy();
  void kill_copy(pid_t init);
  /// Drives the participant until it decides.
  void decide(MigrationParticipant& participant, pid_t copy);
  void log(const std::string& text) const {
    std::cerr << "clusterlive-migrate: " << options_.job << " attempt " << claim_.attempt
              << " (target recovery): " << text << std::endl;
  }
  std::string attempt_dir() const {
    return options_.work_root + "/" + options_.job + "/" + std::to_string(claim_.attempt);
  }
  std::string pid_file() const { return options_.pid_dir + "/" + options_.job + ".pid"; }

  const TargetRecoveryOptions& options_;
  const std::string spool_;
  int lock_ = -1;
  TargetClaim claim_;
};

pid_t TargetRecovery::vouched_copy() const {
  if (claim_.restored_pid <= 0) return 0;
  uint64_t start = start_time_of(claim_.restored_pid);
  if (start == 0 || start != claim_.restored_start) return 0;
  return state_of(claim_.restored_pid) == 'Z' ? 0 : claim_.restored_pid;
}

void TargetRecovery::kill_unvouched_copy() {
  ReadResult text = read_file_bounded(attempt_dir() + "/restored.pid", 64);
  if (text.status != ReadStatus::ok) return;
  std::string digits = text.text;
  while (!digits.empty() && (digits.back() == '\n' || digits.back() == ' ')) digits.pop_back();
  std::optional<pid_t> pid = parse_decimal<pid_t>(digits, true);
  // CRIU wrote the pid moments before the worker died, and the copy is left stopped: a
  // stopped process under that pid is it (a reused pid would have to be stopped too).
  if (!pid || *pid <= 1 || state_of(*pid) != 'T') return;
  log("killing the copy CRIU restored as pid " + std::to_string(*pid) +
      ": the worker died before it checked it");
  kill_copy(*pid);
}

void TargetRecovery::kill_copy(pid_t init) {
  kill(init, SIGKILL);  // the init: the kernel kills its whole PID namespace
  // Not our child (PID 1 adopted it): wait until it is gone from /proc.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kCopyExitTimeoutMs);
  while (state_of(init) != '?' && state_of(init) != 'Z' &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

void TargetRecovery::decide(MigrationParticipant& participant, pid_t copy) {
  std::vector<ParticipantAction> actions = participant.tick(monotonic_ms());
  for (;;) {
    for (size_t i = 0; i < actions.size(); ++i) {
      const ParticipantAction action = actions[i];
      std::vector<ParticipantAction> next;
      std::string error;
      switch (action.kind) {
        case ParticipantActionKind::fence_prepared_record: {
          RenameResult result =
              rename_record(spool_, prepared_record_name(claim_.attempt),
                            fenced_record_name(claim_.attempt, options_.node), error);
          log("fenced the prepared record: " + std::string(to_string(result)) +
              (error.empty() ? "" : " (" + error + ")"));
          next = participant.on_fence_result(result, monotonic_ms());
          break;
        }
        case ParticipantActionKind::read_commit_record:
          next = participant.on_commit_record_read(read_location(spool_), monotonic_ms());
          break;
        case ParticipantActionKind::resume_local_copy:
          if (!write_file_atomically(pid_file(), pid_line(copy), {0644, true, 0755}, error)) {
            log(error);  // the job runs, but kill and ps cannot find it here
          }
          signal_job(copy, SIGCONT);
          log("resumed pid " + std::to_string(copy) + ": the job runs here");
          break;
        case ParticipantActionKind::discard_local_copy:
          if (copy > 0) kill_copy(copy);
          remove_tree(attempt_dir(), ".log");
          break;
        case ParticipantActionKind::finished:
          log(std::string(to_string(action.outcome)) + ": " + action.reason);
          return;
        default:
          log("unexpected action " + describe(action) + ", ignored");
          break;
      }
      actions.insert(actions.end(), next.begin(), next.end());
    }
    // A failed fence or an unreadable record (storage failing over): never guess, wait.
    std::optional<TimeMs> due = participant.next_deadline();
    if (!due) {
      log("undecided and nothing timed: giving up for now");
      return;
    }
    TimeMs wait = *due - monotonic_ms();
    if (wait > 0) std::this_thread::sleep_for(std::chrono::milliseconds(wait));
    actions = participant.tick(monotonic_ms());
  }
}

int TargetRecovery::run() {
  std::string lock_path = options_.lock_dir + "/" + options_.job + ".lock";
  std::string claim_path = target_claim_path(options_.lock_dir, options_.job);
  lock_ = open(lock_path.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW);
  if (lock_ < 0) return errno == ENOENT ? 0 : 1;
  // Held by the worker (alive after all) or another recovery: theirs to settle.
  if (flock(lock_, LOCK_EX | LOCK_NB) != 0) return 0;
  ReadResult text = read_file_bounded(claim_path, kMaxClaimBytes);
  if (text.status == ReadStatus::not_found) return 0;  // settled meanwhile
  std::optional<TargetClaim> claim = parse_target_claim(text.text);
  if (text.status != ReadStatus::ok || !claim) {
    std::cerr << "clusterlive-migrate: " << options_.job << " (target recovery): " << claim_path
              << " is unreadable; removing it\n";
    unlink(claim_path.c_str());
    return 1;
  }
  claim_ = *claim;
  log("the target worker " + std::to_string(claim_.worker_pid) +
      " died with the attempt undecided; settling it");
  // A page server or a restore left running could still write a copy here.
  if (!stop_processes_using_directory(attempt_dir(), kCriuExitTimeoutMs)) {
    log("a CRIU request of the attempt does not die; trying again later");
    return 1;
  }
  pid_t copy = vouched_copy();
  if (copy == 0) kill_unvouched_copy();
  uint64_t copy_start = copy > 0 ? claim_.restored_start : 0;
  MigrationJob job{options_.job, claim_.source, options_.node, claim_.attempt};
  MigrationParticipant participant =
      MigrationParticipant::after_restart(job, monotonic_ms(), copy > 0);
  decide(participant, copy);
  if (participant.phase() != ParticipantPhase::resumed &&
      participant.phase() != ParticipantPhase::discarded) {
    return 1;  // the claim stays: the next recovery decides
  }
  unlink(claim_path.c_str());
  if (participant.phase() != ParticipantPhase::resumed) return 0;
  remove_tree(attempt_dir(), ".log");  // the job is ours now: its images go, the logs stay
  close(lock_);  // decided: the job may move on from here
  lock_ = -1;
  int spool_fd = open_spool(spool_);
  if (spool_fd < 0) return 1;
  ShimOptions shim;
  shim.spool = spool_;
  shim.pid_file = pid_file();
  shim.node = options_.node;
  shim.attempt = claim_.attempt;
  return supervise_adopted_job(copy, copy_start, spool_fd, shim);
}

}  // namespace

int run_target_recovery(const TargetRecoveryOptions& options) {
  TargetRecovery recovery(options);
  return recovery.run();
}

}  // namespace clusterlive
