#include "migrate/progress_file.h"

#include "core/job_spool.h"
#include "sys/file_io.h"

namespace clusterlive {

bool publish_progress(const std::string& local_path, const std::string& spool,
                      const nlohmann::json& progress, std::string& error) {
  const std::string text = progress.dump() + "\n";
  if (!local_path.empty() &&
      !write_file_atomically(local_path, text, {0644, true, 0755}, error)) {
    return false;
  }
  if (!spool.empty()) {
    write_file_atomically(spool + "/" + std::string(kSpoolMigrationFile), text, {0644, false, 0755},
                          error);
  }
  return true;
}

}  // namespace clusterlive
