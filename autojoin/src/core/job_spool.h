// The job spool: where a job's files live on the shared /cluster, and the small text formats
// of the files that say where a job runs and how it ended. Pure: paths and text only.
//
// Layout of one job (every node sees the same, /cluster being shared):
//   /cluster/jobs/<id>/job.json   what was started, by whom, where (written once, at start)
//   /cluster/jobs/<id>/stdout     its standard output (owned by the job's user, 0600)
//   /cluster/jobs/<id>/stderr     its standard error (same)
//   /cluster/jobs/<id>/location   "<node> <attempt>": the node that runs it, the commit record
//                                 of migration.h (format_commit_record; attempt 0 at start),
//                                 replaced by an atomic rename only
//   /cluster/jobs/<id>/end        how it ended, e.g. "exited 0" or "killed 9" (atomic rename)
//   /cluster/jobs/<id>/locked     present (empty) while the job is locked to its node: it may
//                                 not be moved (`clusterlive lock`, openMosix's "cantmove")
// The directory and everything but stdout/stderr belong to root. The job's environment is
// not kept there: it may hold tokens (the daemon hands it to the job's shim in memory).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/random_source.h"

namespace clusterlive {

/// In a job's spool: present while the job is locked to the node it runs on.
constexpr std::string_view kJobLockedFile = "locked";

/// Where the spools of all jobs live.
constexpr std::string_view kDefaultJobsRoot = "/cluster/jobs";
/// In a job's spool: the progress of its newest migration, copied there by the migration's
/// source worker so that every node shows it (the original is on the source node).
constexpr std::string_view kSpoolMigrationFile = "migration.json";
/// Hex digits after "j-" in a job id: 32 random bits, so ids of one cluster do not collide
/// in practice; a collision is detected (mkdir fails) and another id drawn.
constexpr size_t kJobIdHexDigits = 8;

/// A fresh job id, e.g. "j-3f9a0c12".
std::string make_job_id(RandomSource& random);
/// True when `text` has the shape of a job id: "j-" and kJobIdHexDigits lower-case hex digits.
/// Ids come from users and peers and become path components: nothing else is accepted.
bool is_job_id(std::string_view text);

/// How a job ended.
struct JobEnd {
  bool killed = false;  ///< ended by a signal (then `code` is the signal number)
  int code = 0;         ///< exit code, or the signal number when killed
  /// The exit status a shell would give: the code, or 128 + signal.
  int shell_status() const { return killed ? 128 + code : code; }
  bool operator==(const JobEnd&) const = default;
};

/// "exited N\n" or "killed N\n".
std::string format_job_end(const JobEnd& end);
/// Parses the end file; nullopt unless it is exactly one of those two forms (a code of
/// 0..255, a signal of 1..64).
std::optional<JobEnd> parse_job_end(std::string_view text);

}  // namespace clusterlive
