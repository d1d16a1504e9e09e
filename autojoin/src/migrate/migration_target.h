// The target half of one migration (clusterlive-migrate target): started by the daemon for
// each connection to its migration port, it takes the job's images (a CRIU page server per
// set, the other image files over the link), restores the job stopped, and waits for the
// coordinator's decision, or decides alone by the commit record when the coordinator goes
// quiet (MigrationParticipant). Once the job is resumed here it stays as the job's shim:
// the restored init is its child (it is a subreaper), and it records the job's end.
#pragma once

#include <cstdint>
#include <string>

namespace clusterlive {

struct TargetOptions {
  int connection_fd = 3;  ///< the accepted connection from the coordinator
  std::string node;       ///< this node's id
  std::string jobs_root = "/cluster/jobs";
  std::string work_root = "/var/lib/clusterlive/migrations";  ///< images, per job and attempt
  std::string pid_dir = "/run/clusterlive/jobs";              ///< <job>.pid, as the shim's
  std::string lock_dir = "/run/clusterlive/migrations";       ///< one undecided attempt per job
  std::string api_socket = "/run/clusterlive/api.sock";       ///< this node's daemon, for relays
};

/// Returns the process exit code: 0 when the job ran here to its end or the attempt was
/// settled (discarded), 1 on a refusal or an error.
int run_migration_target(const TargetOptions& options);

}  // namespace clusterlive
