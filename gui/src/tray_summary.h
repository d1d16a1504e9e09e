// What the tray icon says at a glance: how many nodes are up, the cluster's load, and
// whether something needs a look (and what). Pure.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "api/api_types.h"

namespace clusterlive::view {

enum class Health { good, warning, broken };

struct TraySummary {
  int nodes_up = 0;      ///< live members, this node included
  int nodes_known = 0;   ///< members in any state, this node included; foreign nodes left out
  double load = 0;       ///< runnable tasks over the live members
  unsigned cores = 0;    ///< their cores
  Health health = Health::good;
  std::vector<std::string> problems;  ///< for the tooltip, worst first
};

/// `connected`: the daemon answers; `status`/`nodes`: its last answers (nullopt before any).
TraySummary summarize(bool connected, const std::optional<api::StatusView>& status,
                      const std::vector<api::NodeView>& nodes, const std::string& why_not_connected);

/// The tooltip: "clusterlive: 3 of 4 nodes up, load 2.5 on 8 cores" and a line per problem.
std::string tray_tooltip(const TraySummary& summary);

}  // namespace clusterlive::view
