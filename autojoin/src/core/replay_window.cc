#include "core/replay_window.h"

#include "core/membership_constants.h"

namespace clusterlive {

static_assert(kReplayWindowSize >= kMaxSyncDatagramsPerRequest,
              "a member table burst must fit the replay window");

bool ReplayWindow::accept(uint64_t sequence) {
  if (!any_seen_) {
    any_seen_ = true;
    highest_ = sequence;
    seen_.reset();
    seen_.set(0);
    return true;
  }
  if (sequence > highest_) {
    uint64_t shift = sequence - highest_;
    if (shift >= kReplayWindowSize) {
      seen_.reset();
    } else {
      seen_ <<= static_cast<size_t>(shift);
    }
    seen_.set(0);
    highest_ = sequence;
    return true;
  }
  uint64_t age = highest_ - sequence;
  if (age >= kReplayWindowSize) return false;  // too old to tell: refuse
  if (seen_.test(static_cast<size_t>(age))) return false;
  seen_.set(static_cast<size_t>(age));
  return true;
}

}  // namespace clusterlive
