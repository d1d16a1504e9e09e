#include "tray_summary.h"

#include <cstdio>

namespace clusterlive::view {
namespace {

void add_problem(TraySummary& summary, Health health, std::string problem) {
  if (health == Health::broken || summary.health == Health::good) summary.health = health;
  summary.problems.push_back(std::move(problem));
}

}  // namespace

TraySummary summarize(bool connected, const std::optional<api::StatusView>& status,
                      const std::vector<api::NodeView>& nodes,
                      const std::string& why_not_connected) {
  TraySummary summary;
  if (!connected) {
    add_problem(summary, Health::broken, "clusterlived is not answering: " + why_not_connected);
    return summary;
  }
  for (const api::NodeView& node : nodes) {
    if (node.state == "foreign") continue;
    ++summary.nodes_known;
    if (node.state != "up") continue;
    ++summary.nodes_up;
    summary.load += node.load.value_or(0);
    summary.cores += node.cores.value_or(0);
  }
  if (!status) return summary;
  if (!status->cluster_id)
    add_problem(summary, Health::broken, "this PC runs alone: " + status->alone_reason);
  if (status->members_dead > 0)
    add_problem(summary, Health::warning, std::to_string(status->members_dead) + " node(s) dead");
  if (status->members_suspect > 0)
    add_problem(summary, Health::warning,
                std::to_string(status->members_suspect) + " node(s) not answering");
  if (status->cluster_id && !status->storage.mounted)
    add_problem(summary, Health::warning,
                "/cluster is not mounted here" +
                    (status->storage.error.empty() ? "" : ": " + status->storage.error));
  if (status->criu.known && !status->criu.ok)
    add_problem(summary, Health::warning, "jobs cannot move from this PC: " + status->criu.detail);
  return summary;
}

std::string tray_tooltip(const TraySummary& summary) {
  char head[128];
  std::snprintf(head, sizeof head, "clusterlive: %d of %d nodes up, load %.1f on %u cores",
                summary.nodes_up, summary.nodes_known, summary.load, summary.cores);
  std::string text = head;
  for (const std::string& problem : summary.problems) text += "\n" + problem;
  return text;
}

}  // namespace clusterlive::view
