// Settling an attempt whose target worker died undecided (SIGKILL, OOM, a crash): clusterlive-
// migrate target-recover, started by the daemon when a claim (target_claim.h) names no live
// worker. The worker may have left a restored, stopped copy of the job, which nobody would
// ever resume or kill. The recovery stops what CRIU requests the worker left, takes over the
// attempt as MigrationParticipant::after_restart (fence, read the commit record) and then
// resumes the copy, when the record names this node and attempt, or kills it. A resumed copy
// is followed to its end as its shim would have (supervise_adopted_job).
#pragma once

#include <string>

namespace clusterlive {

struct TargetRecoveryOptions {
  std::string job;   ///< job id
  std::string node;  ///< this node's id: the target's, the fencer's
  std::string jobs_root = "/cluster/jobs";
  std::string work_root = "/var/lib/clusterlive/migrations";  ///< images, per job and attempt
  std::string pid_dir = "/run/clusterlive/jobs";              ///< <job>.pid, as the shim's
  std::string lock_dir = "/run/clusterlive/migrations";       ///< <job>.lock and <job>.claim
};

/// Returns 0 when there was nothing to settle (no claim, or its worker or another recovery
/// holds the job's lock) or the attempt was settled (and a resumed job has ended); 1 when it
/// could not be (an unreadable claim, a CRIU request that would not die): the daemon starts
/// another recovery later. The caller ignores SIGTERM and the like first (main does).
int run_target_recovery(const TargetRecoveryOptions& options);

}  // namespace clusterlive
