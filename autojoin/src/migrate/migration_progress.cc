#include "migrate/migration_progress.h"

#include <nlohmann/json.hpp>

#include "api/api_types.h"

namespace clusterlive {

std::string protocol_name(std::string_view text) {
  std::string name(text);
  for (char& c : name) {
    if (c == ' ') c = '_';
  }
  return name;
}

std::optional<ProgressSummary> parse_progress_summary(std::string_view text) {
  nlohmann::json json = nlohmann::json::parse(text, nullptr, false);
  if (!json.is_object() || !json.contains("outcome") || !json["outcome"].is_string()) {
    return std::nullopt;
  }
  ProgressSummary summary;
  summary.outcome = json["outcome"].get<std::string>();
  if (json.contains("worker_pid") && json["worker_pid"].is_number_integer()) {
    summary.worker_pid = json["worker_pid"].get<pid_t>();
  }
  return summary;
}

bool needs_recovery(const ProgressSummary& progress,
                    const std::function<bool(pid_t)>& worker_alive) {
  if (progress.outcome != api::kMigrationInProgress) return false;
  return progress.worker_pid <= 0 || !worker_alive(progress.worker_pid);
}

std::vector<std::string> RecoveryScheduler::due(
    const std::map<std::string, ProgressSummary>& progress,
    const std::function<bool(pid_t)>& worker_alive, TimeMs now) {
  // Forget jobs whose progress file went, so the map stays as small as the directory.
  std::erase_if(last_started_, [&](const auto& entry) { return !progress.contains(entry.first); });
  std::vector<std::string> jobs;
  for (const auto& [job, summary] : progress) {
    if (!needs_recovery(summary, worker_alive)) continue;
    auto last = last_started_.find(job);
    if (last != last_started_.end() && now - last->second < kRecoveryRespawnIntervalMs) continue;
    last_started_[job] = now;
    jobs.push_back(job);
  }
  return jobs;
}

}  // namespace clusterlive
