// The progress file of a migration this node coordinates (/run/clusterlive/migrations/<job>.json,
// written by the source worker): what of it tells whether the migration was left unfinished by
// a worker that died, and which such migrations the daemon should start a recovery for now.
// Pure: the caller reads the files and says which pids are live workers.
#pragma once

#include <sys/types.h>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/migration.h"

namespace clusterlive {

/// A recovery of the same job is started again after this long at the soonest, in
/// milliseconds: one that is still running holds the job's lock and exits at once anyway, so
/// this only keeps the daemon from starting a process a second for nothing.
constexpr TimeMs kRecoveryRespawnIntervalMs = 10'000;

/// What the daemon needs of a progress file.
struct ProgressSummary {
  std::string outcome;   ///< "in_progress", "committed", "aborted", "lost"
  pid_t worker_pid = 0;  ///< the process that writes the file (0: none named)
};

/// The progress file's (and api::MigrationView's) spelling of a phase or an outcome of
/// core/migration.h: its words joined by '_' ("in progress" -> "in_progress").
std::string protocol_name(std::string_view text);

/// Parses the progress file's JSON text; nullopt if it is not JSON or lacks `outcome`.
std::optional<ProgressSummary> parse_progress_summary(std::string_view text);

/// True if the migration is unfinished and nobody is working on it: outcome in_progress and
/// `worker_alive`(worker_pid) false.
bool needs_recovery(const ProgressSummary& progress,
                    const std::function<bool(pid_t)>& worker_alive);

/// Which orphaned migrations to start a recovery for, at most one start per job every
/// kRecoveryRespawnIntervalMs.
class RecoveryScheduler {
 public:
  /// `progress`: every job's progress file, by job id. Returns the jobs that need a recovery
  /// worker started now (and counts them as started at `now`).
  std::vector<std::string> due(const std::map<std::string, ProgressSummary>& progress,
                               const std::function<bool(pid_t)>& worker_alive, TimeMs now);

 private:
  std::map<std::string, TimeMs> last_started_;  ///< by job id, jobs with a progress file only
};

}  // namespace clusterlive
