// The load vectors a node knows about other nodes.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/wire_message.h"

namespace clusterlive {

using TimeMs = int64_t;  ///< monotonic time in milliseconds, passed in by the caller

/// Latest load vector per node (highest stamp wins), and which ones arrived
/// most recently, to fill the gossip window.
class LoadTable {
 public:
  /// Stores `load` if it is newer than what we hold; true if stored.
  bool update(const LoadVector& load, TimeMs now);
  /// Forgets `node_id`'s vector.
  void remove(const std::string& node_id);
  /// Up to `count` vectors received most recently and not older than
  /// kLoadMaxAgeMs, skipping `exclude_node_id` (the message's recipient).
  std::vector<LoadVector> freshest(size_t count, TimeMs now,
                                   const std::string& exclude_node_id) const;
  /// Every vector held, by node id.
  std::vector<LoadVector> all() const;

 private:
  struct Entry {
    LoadVector load;
    TimeMs received_at = 0;
  };
  std::map<std::string, Entry> entries_;
  std::set<std::pair<TimeMs, std::string>> by_arrival_;  // (received_at, node id)
};

}  // namespace clusterlive
