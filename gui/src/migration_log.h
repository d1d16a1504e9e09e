// Every migration the window has seen end, newest first, for the migrations log: from the
// `ps` snapshots (anyone's moves, including the balancer's) and from this window's own
// refused requests. Pure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "api/api_types.h"

namespace clusterlive::view {

/// Entries kept; older ones are dropped.
constexpr size_t kMigrationLogLimit = 500;

struct MigrationLogEntry {
  int64_t at_unix_ms = 0;  ///< when it ended
  std::string job;
  std::string job_name;
  std::string target;
  uint64_t attempt = 0;  ///< 0 for a request the daemon refused before starting it
  std::string outcome;   ///< "committed", "aborted", "lost", "refused"
  std::optional<int64_t> freeze_ms;
  std::string reason;
};

class MigrationLog {
 public:
  /// Logs each migration in `jobs` that has ended and was not logged before (a job's
  /// attempt is logged once). Those that had ended before the first snapshot are logged too:
  /// the log shows the cluster's recent past from the start.
  void observe(const std::vector<api::JobView>& jobs);
  /// Logs a request the daemon refused.
  void add_refusal(int64_t at_unix_ms, const std::string& job, const std::string& target,
                   const std::string& reason);

  const std::deque<MigrationLogEntry>& entries() const { return entries_; }

 private:
  void push(MigrationLogEntry entry);

  std::deque<MigrationLogEntry> entries_;      // newest first
  std::set<std::pair<std::string, uint64_t>> logged_;  // (job, attempt)
};

/// One line for the log, e.g. "j-3f9a0c12 (render) → node-b: committed, frozen 0.9 s".
std::string describe_log_entry(const MigrationLogEntry& entry);

}  // namespace clusterlive::view
