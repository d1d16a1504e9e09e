#include "core/placement.h"

#include <algorithm>
#include <cmath>

namespace clusterlive {
namespace {

constexpr uint64_t kBytesPerMib = 1024 * 1024;

/// True when the policy can judge `node`: it reports its cores and speed.
bool is_known(const PlacementNode& node) { return node.cores > 0 && node.cpu_speed > 0; }

/// "3 % faster" or "20 % slower": `speed` against `reference` (> 0), rounded.
std::string gain_text(double speed, double reference) {
  long percent = std::lround((speed / reference - 1.0) * 100.0);
  if (percent < 0) return std::to_string(-percent) + " % slower";
  return std::to_string(percent) + " % faster";
}

}  // namespace

uint64_t memory_needed_mib(const PlacementJob& job, const PlacementPolicy& policy) {
  uint64_t needed_bytes = job.rss_bytes / 100 * policy.memory_headroom_percent +
                          job.rss_bytes % 100 * policy.memory_headroom_percent / 100;
  return (needed_bytes + kBytesPerMib - 1) / kBytesPerMib;
}

double expected_speed_where_it_runs(const PlacementJob& job, const PlacementNode& here) {
  if (!is_known(here)) return 0;
  // The job's own share of its node's load: what it runs of one task, at most the load.
  double load_here = static_cast<double>(here.load_milli) / 1000.0;
  double job_share = std::clamp(job.cpu_percent / 100.0, 0.0, std::min(1.0, load_here));
  return expected_task_speed(here, load_here - job_share);
}

double expected_task_speed(const PlacementNode& node, double other_tasks) {
  if (node.cores == 0) return 0;
  double share = std::min(1.0, node.cores / (std::max(0.0, other_tasks) + 1.0));
  return node.cpu_speed * share;
}

PlacementChoice choose_fastest_node(const PlacementJob& job,
                                    const std::vector<PlacementNode>& nodes,
                                    const PlacementPolicy& policy) {
  PlacementChoice choice;
  auto here = std::find_if(nodes.begin(), nodes.end(),
                           [&](const PlacementNode& node) { return node.id == job.node; });
  if (here == nodes.end() || !is_known(*here)) {
    choice.reason = "the load of " + job.node + ", where " + job.id + " runs, is not known";
    return choice;
  }
  double speed_here = expected_speed_where_it_runs(job, *here);

  const uint64_t needed = memory_needed_mib(job, policy);
  const PlacementNode* best = nullptr;
  double best_speed = 0;
  bool any_up = false;
  for (const PlacementNode& node : nodes) {
    if (node.id == job.node || !node.up || !is_known(node)) continue;
    any_up = true;
    if (node.free_memory_mib < needed) continue;
    double speed = expected_task_speed(node, static_cast<double>(node.load_milli) / 1000.0);
    if (!best || speed > best_speed || (speed == best_speed && node.id < best->id)) {
      best = &node;
      best_speed = speed;
    }
  }
  if (!best) {
    choice.reason = any_up ? "no other live node has the " + std::to_string(needed) +
                                 " MiB free that " + job.id + " needs"
                           : "no other live node to move " + job.id + " to";
    return choice;
  }
  if (speed_here <= 0) {  // defensive: a known node always has a positive speed
    choice.target = best->id;
    choice.reason = best->id + ": faster than " + job.node;
    return choice;
  }
  if (best_speed * 100 <= speed_here * (100 + policy.min_gain_percent)) {
    choice.reason = "no node would run " + job.id + " faster than " + job.node +
                    " (best: " + best->id + ", " + gain_text(best_speed, speed_here) + ")";
    return choice;
  }
  choice.target = best->id;
  choice.reason = best->id + ": " + gain_text(best_speed, speed_here) + " than " + job.node;
  return choice;
}

}  // namespace clusterlive
