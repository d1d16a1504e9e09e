// The job shim (program clusterlive-job): starts one job as the init of its own PID
// namespace, as the job's user, with its output in the spool, then waits for it and records
// how it ended. clusterlived starts one per job by a double fork, so the shim is adopted by
// PID 1: it neither waits on the daemon nor dies with it, and the job's end is recorded by a
// process that outlives daemon restarts (the unit has KillMode=process).
//
// The shim runs as root and the spool is on shared storage, so it trusts nothing there: the
// spool directory must be a real directory owned by root, every file in it is opened
// relative to it without following symlinks, and the job's environment does not come from
// the spool at all but from the shim's stdin (a memfd the daemon fills).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace clusterlive {

struct ShimOptions {
  std::string spool;     ///< the job's spool directory (stdout, stderr, end)
  std::string pid_file;  ///< where "PID STARTTIME" of the job (as this node sees it) goes
  uid_t uid = 0;         ///< the job runs as this user...
  gid_t gid = 0;         ///< ...with this primary group and the user's supplementary groups
  std::string cwd;       ///< absolute; the job starts there
  std::vector<std::string> argv;  ///< CMD and its arguments; CMD is looked up in the job's PATH
  /// This node's id: the end is recorded only while the job's commit record names this node
  /// and `attempt` (may_record_end), so a copy that was migrated away never speaks for the job.
  /// Empty: not checked (tests without a record).
  std::string node;
  uint64_t attempt = 0;  ///< the attempt that put this copy here (0: started here)
};

/// Runs the job and waits for it; the job's environment is read from stdin (NUL-separated
/// KEY=VALUE entries). Returns the shim's exit code: 0 once the job's end is recorded
/// (whatever the job's own status), 1 when the spool is unsafe or the end could not be
/// recorded anywhere (the reason is on the shim's stderr, i.e. in the journal).
int run_shim(const ShimOptions& options);

/// Waits for `job` (a child of the caller, which is a subreaper) and every orphan that comes
/// to the caller, then records the job's end in the spool `spool_fd` if the commit record
/// still names this copy (options.node, options.attempt). Removes options.pid_file before the
/// job's pid is freed. Returns the shim's exit code (as run_shim).
int supervise_job(pid_t job, int spool_fd, const ShimOptions& options);

/// As supervise_job, for a job that is not the caller's child: its init was restored by a
/// target worker that died, and PID 1 adopted it (migrate/target_recovery.h). Follows it by a
/// pidfd while it is still the process that started at `start_ticks` (/proc/PID/stat), then
/// records its end the same way: the init's word in init_end_path, or, without it, killed by
/// SIGKILL (the one way an init ends without writing it).
int supervise_adopted_job(pid_t job, uint64_t start_ticks, int spool_fd,
                          const ShimOptions& options);

/// Opens the spool directory if it is safe for root to work in: a real directory (not a
/// symlink) owned by root and writable by root only. Returns -1 and says why on stderr.
int open_spool(const std::string& path);

/// "PID STARTTIME\n" of `pid`: the start time tells the daemon whether a pid is still the job's.
std::string pid_line(pid_t pid);

/// Where the job's init (PID 1 of its namespace) writes how the user's command ended, on the
/// node it runs on ("/run/clusterlive/jobs/j-x.pid" -> "/run/clusterlive/jobs/j-x.exit").
std::string init_end_path(const std::string& pid_file);

/// Where the shim records the end when the spool cannot take it: beside the pid file
/// ("/run/clusterlive/jobs/j-x.pid" -> "/run/clusterlive/jobs/j-x.end").
std::string local_end_path(const std::string& pid_file);

/// Exit codes a shell gives when it cannot run a command; a job that could not be started
/// ends with one of them and the reason on its stderr.
constexpr int kCannotExecute = 126;  ///< found but not executable, or its directory unusable
constexpr int kCommandNotFound = 127;

}  // namespace clusterlive
