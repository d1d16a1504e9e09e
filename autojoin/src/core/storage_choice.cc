#include "core/storage_choice.h"

#include <algorithm>

namespace clusterlive {
namespace {

// Pinned before unpinned, then the lowest node id: the order of rules 2 and 3.
bool ranks_before(const StorageCandidate& a, const StorageCandidate& b) {
  if (a.pinned != b.pinned) return a.pinned;
  return a.node_id < b.node_id;
}

const StorageCandidate* best_of(const std::vector<StorageCandidate>& nodes, bool serving_only) {
  const StorageCandidate* best = nullptr;
  for (const StorageCandidate& node : nodes) {
    if (serving_only && !node.serving) continue;
    if (!best || ranks_before(node, *best)) best = &node;
  }
  return best;
}

}  // namespace

StorageDecision choose_storage(const std::string& self_id,
                               const std::vector<StorageCandidate>& live, bool settled) {
  std::vector<StorageCandidate> nodes = live;
  if (std::none_of(nodes.begin(), nodes.end(),
                   [&](const StorageCandidate& node) { return node.node_id == self_id; })) {
    nodes.push_back(StorageCandidate{self_id, false, false});
  }

  StorageDecision decision;
  if (const StorageCandidate* server = best_of(nodes, true)) {
    decision.mount_from = server->node_id;
    decision.serve_here = server->node_id == self_id;
    size_t serving = static_cast<size_t>(std::count_if(
        nodes.begin(), nodes.end(), [](const StorageCandidate& node) { return node.serving; }));
    decision.reason = server->node_id + " serves";
    if (serving > 1) {
      decision.reason += " (" + std::to_string(serving - 1) +
                         " other node(s) also serve: they stop, " +
                         (server->pinned ? "this one is pinned)" : "this one has the lowest id)");
    }
    return decision;
  }

  if (!settled) {
    decision.reason = "no node serves yet; waiting to hear of the other members before electing";
    return decision;
  }
  const StorageCandidate* elected = best_of(nodes, false);
  decision.serve_here = elected->node_id == self_id;
  decision.reason = elected->node_id + " elected to serve (" +
                    (elected->pinned ? "pinned with clusterlive.role=storage" : "lowest node id") +
                    "), starting";
  return decision;
}

}  // namespace clusterlive
