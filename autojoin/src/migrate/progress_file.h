// Where a migration's progress is written: the source node's own file, which its daemon reads
// to tell whether the worker still lives (and to recover the migration if not), and a copy in
// the job's spool on /cluster, which every other node shows (a node that asked for the
// migration on behalf of a user follows it there).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace clusterlive {

/// Writes `progress` to `local_path` (atomically; false with `error` if that fails), then its
/// copy to `spool`/kSpoolMigrationFile (best effort: `error` says why it failed, the result
/// stays true: the local file is what the migration's safety rests on).
bool publish_progress(const std::string& local_path, const std::string& spool,
                      const nlohmann::json& progress, std::string& error);

}  // namespace clusterlive
