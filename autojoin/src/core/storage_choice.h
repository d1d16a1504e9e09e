// Which member serves the shared /cluster (NFSv4 over the mesh), decided by every node alone
// from the same gossiped facts, so they all agree without a vote (issue 4, "Shared /cluster").
//
// The rules, in order:
//   1. A storage node that is serving stays the storage node while it is live: a node joining
//      later, whatever its id, never moves the storage (moving it would lose every job's files,
//      which live in the server's memory).
//   2. If several live nodes serve (two halves of a split cluster met again), the winner is the
//      one with the oldest store: the lowest storage epoch. A node elected while cut off from
//      the server serves an empty store with a higher epoch than the server it lost, so when
//      the halves meet again the store that holds every job's files wins. Equal epochs (two
//      elected at once): a pinned one (`clusterlive.role=storage`) before an unpinned one, then
//      the lowest node id. The others stop serving; their clients remount from the winner.
//   3. If nobody serves, the pinned live node with the lowest id is elected, else the live node
//      with the lowest id. It serves with an epoch one above the highest it has seen. Only once this node has settled (has run long enough to hear of the
//      others, and knows every live member's flags), so a booting node does not serve just because it has not yet heard
//      of the others.
// Pure: no I/O. The daemon feeds the live members' gossiped flags and carries out the decision.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace clusterlive {

// --- Storage policy constants -------------------------------------------------

/// How long a node waits after its start before it may take part in an election, in
/// milliseconds: long enough for mDNS, the hellos and a first sync to bring in the others
/// (joins take 2-3 s here), short enough that a lone node gets its /cluster soon.
constexpr int64_t kStorageSettleMs = 10'000;

/// One live node (a member that is up or suspect, or this node) as the storage choice sees it.
struct StorageCandidate {
  std::string node_id;
  bool pinned = false;   ///< booted with clusterlive.role=storage
  bool serving = false;  ///< exports /cluster right now
  /// While serving: the epoch of its store (see kNoStorageEpoch). Lower is older.
  uint32_t epoch = 0;
};

/// The epoch of a node that does not serve, or whose epoch is not known yet: ranks after
/// every known one.
constexpr uint32_t kNoStorageEpoch = 0;

struct StorageDecision {
  /// The node whose export every node should mount; nullopt while there is none to mount yet
  /// (nobody serves: either one is being elected, or it is this node and it is starting).
  std::optional<std::string> mount_from;
  /// True if this node should serve (start serving, or keep serving).
  bool serve_here = false;
  /// True while this node waits to hear of the others (no server known, not settled): a
  /// /cluster already mounted stays as it is. After a restart of the daemon the mount its
  /// previous run made is still in place, under running jobs, while membership is learnt anew;
  /// taking it down for those seconds would pull the spool from under them.
  bool keep_mount = false;
  /// The epoch this node serves with if it starts serving now: one above `highest_epoch_seen`.
  uint32_t epoch_if_elected = 1;
  /// One line for the journal and `clusterlive status`, e.g. "node-a1 serves (elected)".
  std::string reason;

  bool operator==(const StorageDecision&) const = default;
};

/// The decision of node `self_id`. `live` holds every live node including this one (an entry
/// for `self_id` is required; without one this node is treated as an unpinned, idle member).
/// `settled`: this node has run kStorageSettleMs and knows every live member's flags.
/// `highest_epoch_seen`: the highest storage epoch this node has heard of from any node since
/// it started, dead ones included (the server it lost counts).
StorageDecision choose_storage(const std::string& self_id,
                               const std::vector<StorageCandidate>& live, bool settled,
                               uint32_t highest_epoch_seen = kNoStorageEpoch);

}  // namespace clusterlive
