// The claim a target worker writes into its job's lock file (/run/clusterlive/migrations/
// <job>.lock, flock'ed while the attempt is undecided): which attempt it holds, its own pid,
// and, once restored, the stopped copy's init. The file is emptied when the attempt is
// decided. A claim left in a lock nobody holds is the trace of a worker that died with the
// attempt undecided, perhaps with a stopped copy of the job here: the daemon starts a target
// recovery for it (migrate/target_recovery.h). Pure: the callers read and write the file.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace clusterlive {

struct TargetClaim {
  uint64_t attempt = 0;
  std::string source;             ///< the coordinating node
  pid_t worker_pid = 0;           ///< the target worker that holds the attempt
  pid_t restored_pid = 0;         ///< the restored init, as this node numbers it (0: none yet)
  uint64_t restored_start = 0;    ///< its start time in clock ticks (/proc/PID/stat field 22)

  bool operator==(const TargetClaim&) const = default;
};

/// The claim of `job`'s attempt held here: "<lock_dir>/<job>.claim", beside "<job>.lock".
std::string target_claim_path(const std::string& lock_dir, const std::string& job);

/// One line of JSON.
std::string format_target_claim(const TargetClaim& claim);

/// nullopt for an empty (decided) or malformed claim.
std::optional<TargetClaim> parse_target_claim(std::string_view text);

}  // namespace clusterlive
