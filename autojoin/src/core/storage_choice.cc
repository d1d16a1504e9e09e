#include "core/storage_choice.h"

#include <algorithm>
#include <cstdint>
#include <string>

namespace clusterlive {
namespace {

// An unknown epoch ranks after every known one.
uint64_t epoch_rank(const StorageCandidate& node) {
  return node.epoch == kNoStorageEpoch ? UINT64_MAX : node.epoch;
}

// The oldest store (servers only), then pinned before unpinned, then the lowest node id: the
// order of rules 2 and 3.
bool ranks_before(const StorageCandidate& a, const StorageCandidate& b, bool serving_only) {
  if (serving_only && epoch_rank(a) != epoch_rank(b)) return epoch_rank(a) < epoch_rank(b);
  if (a.pinned != b.pinned) return a.pinned;
  return a.node_id < b.node_id;
}

const StorageCandidate* best_of(const std::vector<StorageCandidate>& nodes, bool serving_only) {
  const StorageCandidate* best = nullptr;
  for (const StorageCandidate& node : nodes) {
    if (serving_only && !node.serving) continue;
    if (!best || ranks_before(node, *best, serving_only)) best = &node;
  }
  return best;
}

}  // namespace

StorageDecision choose_storage(const std::string& self_id,
                               const std::vector<StorageCandidate>& live, bool settled,
                               uint32_t highest_epoch_seen) {
  std::vector<StorageCandidate> nodes = live;
  if (std::none_of(nodes.begin(), nodes.end(),
                   [&](const StorageCandidate& node) { return node.node_id == self_id; })) {
    nodes.push_back(StorageCandidate{self_id, false, false, kNoStorageEpoch});
  }

  StorageDecision decision;
  decision.epoch_if_elected = highest_epoch_seen + 1;
  if (const StorageCandidate* server = best_of(nodes, true)) {
    decision.mount_from = server->node_id;
    decision.serve_here = server->node_id == self_id;
    size_t serving = static_cast<size_t>(std::count_if(
        nodes.begin(), nodes.end(), [](const StorageCandidate& node) { return node.serving; }));
    decision.reason = server->node_id + " serves";
    if (serving > 1) {
      decision.reason += " (" + std::to_string(serving - 1) +
                         " other node(s) also serve: they stop, " +
                         "this one holds the oldest store, epoch " + std::to_string(server->epoch) + ")";
    }
    return decision;
  }

  if (!settled) {
    decision.reason = "no node serves yet; waiting to hear of the other members before electing";
    decision.keep_mount = true;
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
