// Finishing a migration whose source worker died (SIGKILL, OOM, a crash) half way:
// clusterlive-migrate recover, started by the daemon when a progress file says in_progress and
// names no live worker. It stops what the dead worker left running (a CRIU dump could still
// freeze or change the job), fences the attempt's prepared record, reads `location` and lets
// recover_coordinator (core/migration.h) decide: resume the job here, kill it here, or nothing.
// Then it writes the outcome to the progress file, as the worker would have.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

namespace clusterlive {

/// How long a SIGKILLed CRIU request may take to go, in milliseconds. Longer than that it is
/// stuck in the kernel (a hung NFS write, say): a recovery gives up without deciding and the
/// daemon starts another one later.
constexpr int64_t kCriuExitTimeoutMs = 10'000;

struct RecoveryOptions {
  std::string job;            ///< job id
  std::string node;           ///< this node's id: the coordinator's, the fencer's
  pid_t init = 0;             ///< the job's init, as this node numbers it (0: not here)
  std::string progress_path;  ///< the dead worker's progress file, rewritten here
  std::string jobs_root = "/cluster/jobs";
  std::string work_root = "/var/lib/clusterlive/migrations";
};

/// Returns 0 when there was nothing to recover (the migration ended, its worker lives, another
/// recovery of the job runs) or the recovery decided; 1 when it could not (an unreadable
/// progress file, a CRIU request that would not die): the daemon starts another one later.
/// The caller ignores SIGTERM and the like first (main does): a daemon restart must not end a
/// recovery half way.
int run_migration_recovery(const RecoveryOptions& options);

}  // namespace clusterlive
