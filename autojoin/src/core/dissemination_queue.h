// Membership updates waiting to be piggy-backed on outgoing messages.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/wire_message.h"

namespace clusterlive {

/// Holds the latest update per node and hands each out a limited number of
/// times (SWIM's "lambda log n" retransmissions), least-sent first so new
/// rumours overtake old ones.
class DisseminationQueue {
 public:
  /// Queues `update`, replacing any queued update about the same node.
  /// When full (kMaxQueuedUpdates), drops the update sent most often.
  void push(const MemberUpdate& update);

  /// Removes what is queued about `node_id` (e.g. a forgotten node).
  void remove(const std::string& node_id);

  /// Picks updates for one message: least-sent first, at most `max_count`,
  /// together at most `byte_budget` bytes on the wire. Each pick counts as
  /// one transmission; an update sent `retransmit_limit` times is dropped.
  std::vector<MemberUpdate> take_for_message(size_t byte_budget, size_t max_count,
                                             int retransmit_limit);

  /// Number of queued updates.
  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    MemberUpdate update;
    int transmissions = 0;
    uint64_t queued_order = 0;  // ties: older rumour first
  };
  std::vector<Entry> entries_;
  uint64_t next_order_ = 0;
};

}  // namespace clusterlive
