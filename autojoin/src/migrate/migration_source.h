// The source half of one migration (clusterlive-migrate source): started by the daemon for
// `clusterlive migrate`, it drives the MigrationCoordinator with blocking I/O in a process of
// its own: the prepared record, the pre-flight (here and on the target), the CRIU pre-dump
// rounds and final dump into the target's page servers, the restore there, the commit, and
// every abort. It writes its progress to a file the daemon shows in `ps` and `job`.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

namespace clusterlive {

struct SourceOptions {
  std::string job;             ///< job id
  std::string node;            ///< this node's id (the job's location names it)
  std::string target;          ///< the target node's id
  std::string target_address;  ///< its mesh address
  uint16_t port = 0;           ///< its migration port
  pid_t init = 0;              ///< the job's init, as this node numbers it
  uint64_t attempt = 0;        ///< the attempt to make; 0: the next the job's record allows
  std::string jobs_root = "/cluster/jobs";
  std::string work_root = "/var/lib/clusterlive/migrations";
  std::string progress_path;  ///< JSON progress, rewritten at every step
};

/// Returns 0 when the job moved (committed), 1 otherwise; the reason is in the progress
/// file and on stderr (the journal).
int run_migration_source(const SourceOptions& options);

}  // namespace clusterlive
