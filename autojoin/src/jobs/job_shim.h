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
};

/// Runs the job and waits for it; the job's environment is read from stdin (NUL-separated
/// KEY=VALUE entries). Returns the shim's exit code: 0 once the job's end is recorded
/// (whatever the job's own status), 1 when the spool is unsafe or the end could not be
/// recorded anywhere (the reason is on the shim's stderr, i.e. in the journal).
int run_shim(const ShimOptions& options);

/// Where the shim records the end when the spool cannot take it: beside the pid file
/// ("/run/clusterlive/jobs/j-x.pid" -> "/run/clusterlive/jobs/j-x.end").
std::string local_end_path(const std::string& pid_file);

/// Exit codes a shell gives when it cannot run a command; a job that could not be started
/// ends with one of them and the reason on its stderr.
constexpr int kCannotExecute = 126;  ///< found but not executable, or its directory unusable
constexpr int kCommandNotFound = 127;

}  // namespace clusterlive
