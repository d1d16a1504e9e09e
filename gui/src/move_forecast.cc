#include "move_forecast.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "core/placement.h"

namespace clusterlive::view {
namespace {

constexpr uint64_t kBytesPerKib = 1024;
constexpr double kBytesPerMib = 1024.0 * 1024.0;

PlacementNode placement_node(const api::NodeView& node) {
  PlacementNode placed;
  placed.id = node.name;
  placed.up = node.state == "up";
  placed.cores = node.cores.value_or(0);
  placed.cpu_speed = node.cpu_speed.value_or(0);
  placed.load_milli = static_cast<uint64_t>(std::llround(std::max(0.0, node.load.value_or(0)) * 1000));
  placed.free_memory_mib = node.free_memory_mib.value_or(0);
  return placed;
}

const api::NodeView* find_node(const std::vector<api::NodeView>& nodes, const std::string& name) {
  auto it = std::find_if(nodes.begin(), nodes.end(),
                         [&](const api::NodeView& node) { return node.name == name; });
  return it == nodes.end() ? nullptr : &*it;
}

MoveForecast refused(std::string why) {
  MoveForecast forecast;
  forecast.refusal = std::move(why);
  return forecast;
}

std::string format_mib(uint64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.0f MiB", static_cast<double>(bytes) / kBytesPerMib);
  return text;
}

}  // namespace

MoveForecast forecast_move(const api::JobView& job, const std::string& target,
                           const std::vector<api::NodeView>& nodes,
                           const ForecastContext& context) {
  // The daemon's own refusals, in the order a person can act on them.
  if (job.ended()) return refused(job.id + " has ended");
  if (context.caller_uid != 0 && context.caller_uid != job.owner_uid)
    return refused(job.id + " is " + job.owner + "'s job");
  if (job.where == target) return refused(job.id + " already runs on " + target);
  if (job.state == api::kJobMigrating) return refused(job.id + " is being moved already");
  if (job.state != api::kJobRunning) return refused(job.id + " is " + job.state);
  if (job.locked) return refused(job.id + " is locked to " + job.where);
  const api::NodeView* to = find_node(nodes, target);
  if (to == nullptr) return refused(target + " is not a member any more");
  if (to->state != "up") return refused(target + " is " + to->state);

  PlacementJob placed_job{job.id, job.where, job.rss_kib * kBytesPerKib, job.cpu_percent};
  PlacementNode placed_target = placement_node(*to);
  uint64_t needed_mib = memory_needed_mib(placed_job);
  if (to->free_memory_mib && *to->free_memory_mib < needed_mib)
    return refused(target + " has " + std::to_string(*to->free_memory_mib) + " MiB free; " +
                   job.id + " needs " + std::to_string(needed_mib));

  MoveForecast forecast;
  forecast.possible = true;
  forecast.bytes_to_move = placed_job.rss_bytes;
  if (job.migration && job.migration->freeze_ms)
    forecast.estimated_freeze_ms = job.migration->freeze_ms;
  else
    forecast.estimated_freeze_ms = context.last_freeze_ms_seen;

  const api::NodeView* here = find_node(nodes, job.where);
  if (here != nullptr) {
    double speed_here = expected_speed_where_it_runs(placed_job, placement_node(*here));
    double speed_there = expected_task_speed(
        placed_target, static_cast<double>(placed_target.load_milli) / 1000.0);
    if (speed_here > 0 && speed_there > 0) forecast.speedup = speed_there / speed_here;
  }
  return forecast;
}

std::optional<int64_t> latest_freeze_ms(const std::vector<api::JobView>& jobs) {
  const api::MigrationView* latest = nullptr;
  for (const api::JobView& job : jobs) {
    if (!job.migration || !job.migration->freeze_ms) continue;
    if (latest == nullptr || job.migration->updated_unix_ms > latest->updated_unix_ms)
      latest = &*job.migration;
  }
  if (latest == nullptr) return std::nullopt;
  return latest->freeze_ms;
}

std::string describe_forecast(const MoveForecast& forecast) {
  if (!forecast.possible) return "cannot take it: " + forecast.refusal;
  std::string text = "can take it: " + format_mib(forecast.bytes_to_move) + " to send";
  char part[64];
  if (forecast.estimated_freeze_ms) {
    std::snprintf(part, sizeof part, ", frozen about %.1f s",
                  static_cast<double>(*forecast.estimated_freeze_ms) / 1000.0);
    text += part;
  } else {
    text += ", freeze not known yet";
  }
  if (forecast.speedup) {
    double speedup = *forecast.speedup;
    if (speedup >= 1.0)
      std::snprintf(part, sizeof part, ", %.1fx as fast", speedup);
    else
      std::snprintf(part, sizeof part, ", %.1fx slower", 1.0 / speedup);
    text += part;
  }
  return text;
}

}  // namespace clusterlive::view
