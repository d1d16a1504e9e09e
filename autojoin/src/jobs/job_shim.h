// The job shim (program clusterlive-job): starts one job as the init of its own PID
// namespace, as the job's user, with its output in the spool, then waits for it and records
// how it ended. One shim per job, a child of clusterlived, so that clusterlived can restart
// without touching running jobs (its unit has KillMode=process), and the job's end is
// recorded by a process that outlives the daemon.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace clusterlive {

struct ShimOptions {
  std::string spool;     ///< the job's spool directory (stdout, stderr, env, end)
  std::string pid_file;  ///< where the job's pid (as this node sees it) is written
  uid_t uid = 0;         ///< the job runs as this user...
  gid_t gid = 0;         ///< ...with this primary group and the user's supplementary groups
  std::string cwd;       ///< absolute; the job starts there
  std::vector<std::string> argv;  ///< CMD and its arguments; CMD is looked up in the job's PATH
};

/// Runs the job and waits for it. Returns the shim's exit code: 0 once the job's end is
/// recorded (whatever the job's own status), 1 when the job could not be started or its
/// end could not be written (the reason is on the shim's stderr and in the job's stderr).
int run_shim(const ShimOptions& options);

}  // namespace clusterlive
