// Sliding-window replay filter for one sender's sequence numbers.
#pragma once

#include <bitset>
#include <cstdint>

#include "core/membership_constants.h"

namespace clusterlive {

/// Accepts each sequence number at most once. Numbers may arrive out of
/// order as long as they are within kReplayWindowSize of the highest seen
/// (UDP reorders); older ones are refused, as in IPsec and WireGuard.
class ReplayWindow {
 public:
  /// True (and remembered) if `sequence` was not seen before and is not
  /// too old; false for a replay.
  bool accept(uint64_t sequence);

 private:
  bool any_seen_ = false;
  uint64_t highest_ = 0;
  /// Bit i set: sequence highest_ - i was seen.
  std::bitset<kReplayWindowSize> seen_;
};

}  // namespace clusterlive
