// The commit record files of a job on /cluster (the protocol: core/migration.h): creating a
// prepared record, the two renames (commit, fence) and reading `location`. Blocking file I/O,
// for the migration workers only (never the daemon's event loop: /cluster may hang).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/migration.h"

namespace clusterlive {

/// Creates `spool`/location.<attempt> holding `record` (O_EXCL: an existing one is an error),
/// synced to the storage. False with `error` otherwise.
bool create_prepared_record(const std::string& spool, const CommitRecord& record,
                            std::string& error);

/// rename(`spool`/from, `spool`/to), as RenameResult (ENOENT -> not_found). `error` says why
/// on failed.
RenameResult rename_record(const std::string& spool, const std::string& from,
                           const std::string& to, std::string& error);

/// What `spool`/location names; nullopt if unreadable or malformed.
std::optional<CommitRecord> read_location(const std::string& spool);
/// What `spool`/location.<attempt> names; nullopt if absent, unreadable or malformed.
std::optional<CommitRecord> read_prepared_record(const std::string& spool, uint64_t attempt);

/// One committed move of a job, a line of its `moves` history.
struct MoveEntry {
  uint64_t attempt = 0;
  std::string source;
  std::string target;
  int64_t freeze_ms = 0;    ///< how long the job did not run, in milliseconds (0: unknown)
  uint64_t bytes_sent = 0;  ///< all rounds and the final dump, in bytes
};

/// Appends "<attempt> <source> <target> <freeze_ms> <bytes_sent>\n" to `spool`/moves, the
/// job's move history for `ps`. Best effort: the record is the truth, this only counts.
void append_move(const std::string& spool, const MoveEntry& move);

/// The names in the directory `path` (next_attempt's input); empty if unreadable.
std::vector<std::string> directory_entries(const std::string& path);

}  // namespace clusterlive
