#include "migration_log.h"

#include <algorithm>
#include <cstdio>

namespace clusterlive::view {

void MigrationLog::observe(const std::vector<api::JobView>& jobs) {
  std::vector<MigrationLogEntry> ended;
  for (const api::JobView& job : jobs) {
    if (!job.migration || !job.migration->ended()) continue;
    const api::MigrationView& migration = *job.migration;
    if (!logged_.insert({job.id, migration.attempt}).second) continue;
    ended.push_back(MigrationLogEntry{migration.updated_unix_ms, job.id, job.name,
                                      migration.target, migration.attempt, migration.outcome,
                                      migration.freeze_ms, migration.reason});
  }
  // Oldest first, so that the newest ends up on top.
  std::sort(ended.begin(), ended.end(), [](const auto& a, const auto& b) {
    return a.at_unix_ms < b.at_unix_ms;
  });
  for (MigrationLogEntry& entry : ended) push(std::move(entry));
}

void MigrationLog::add_refusal(int64_t at_unix_ms, const std::string& job,
                               const std::string& target, const std::string& reason) {
  push(MigrationLogEntry{at_unix_ms, job, "", target, 0, "refused", std::nullopt, reason});
}

void MigrationLog::push(MigrationLogEntry entry) {
  entries_.push_front(std::move(entry));
  // `logged_` keeps every key: forgetting one would log that migration again.
  while (entries_.size() > kMigrationLogLimit) entries_.pop_back();
}

std::string describe_log_entry(const MigrationLogEntry& entry) {
  std::string text = entry.job;
  if (!entry.job_name.empty()) text += " (" + entry.job_name + ")";
  text += " \u2192 " + entry.target + ": " + entry.outcome;
  if (entry.freeze_ms) {
    char part[48];
    std::snprintf(part, sizeof part, ", frozen %.1f s",
                  static_cast<double>(*entry.freeze_ms) / 1000.0);
    text += part;
  }
  if (!entry.reason.empty()) text += " (" + entry.reason + ")";
  return text;
}

}  // namespace clusterlive::view
