// The jobs of this node, as the daemon's API sees them: starts a job (spool + shim), lists
// every job of the shared spool with what this node can add (CPU, memory of the jobs it runs),
// kills a job it runs, and locks a job to its node (wherever it runs). Ownership rules live here: a
// user acts on own jobs, root on all.
#pragma once

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "api/api_types.h"
#include "core/random_source.h"

namespace clusterlive {

struct JobManagerOptions {
  std::string node_id;
  /// Must be a mount point (the cluster's shared storage) for a job to start: a job whose
  /// spool is on this node's own disk could never move. Empty: not checked (tests).
  std::string shared_root = "/cluster";
  std::string jobs_root = "/cluster/jobs";
  std::string runtime_dir = "/run/clusterlive/jobs";  ///< pid files of the jobs run here
  std::string shim_path = "/usr/libexec/clusterlive/clusterlive-job";
  /// Progress files of the migrations this node coordinates (<job>.json, written by the
  /// source worker, clusterlive-migrate).
  std::string migrations_dir = "/run/clusterlive/migrations";
};

class JobManager {
 public:
  JobManager(JobManagerOptions options, RandomSource& random);

  /// Starts `request` as a job of `caller` on this node.
  api::JobResult run(const api::Caller& caller, const api::RunRequest& request);
  /// Every job in the spool, newest first.
  std::vector<api::JobView> list();
  /// One job, error "not_found" if there is none.
  api::JobResult get(const std::string& id);
  /// Kills a job this node runs (SIGKILL to its init ends its whole PID namespace).
  api::JobResult kill(const api::Caller& caller, const std::string& id);
  /// Locks the job to the node it runs on, or unlocks it (the kJobLockedFile of its spool,
  /// which every node sees), if `caller` owns it or is root. Not for an ended job; locking a
  /// locked job (or unlocking an unlocked one) is fine.
  api::JobResult set_locked(const api::Caller& caller, const std::string& id, bool locked);
  /// The job's init, if this node runs it now (its pid file names a live process).
  std::optional<pid_t> running_pid(const std::string& id) { return local_pid(id); }
  /// Where the progress of a migration of `id` coordinated here is written.
  std::string migration_progress_path(const std::string& id) const {
    return options_.migrations_dir + "/" + id + ".json";
  }
  /// Where the progress files of the migrations coordinated here are (<job>.json).
  const std::string& migrations_dir() const { return options_.migrations_dir; }
  /// Samples the CPU time of the jobs run here, for their CPU % (call about once a second).
  void sample(int64_t now_ms);

 private:
  struct CpuSample {
    uint64_t ticks = 0;
    int64_t at_ms = 0;
    double percent = 0;
  };
  std::optional<api::JobView> load(const std::string& id);
  std::optional<pid_t> local_pid(const std::string& id);
  api::JobResult start_shim(const api::JobView& job, gid_t gid, const std::string& cwd,
                            const std::string& env);

  JobManagerOptions options_;
  RandomSource& random_;
  std::map<std::string, CpuSample> cpu_;  ///< by job id, jobs running here only
};

}  // namespace clusterlive
