#include "core/dissemination_queue.h"

#include <algorithm>

namespace clusterlive {

void DisseminationQueue::push(const MemberUpdate& update) {
  for (Entry& entry : entries_) {
    if (entry.update.node_id == update.node_id) {
      entry = Entry{update, 0, next_order_++};
      return;
    }
  }
  if (entries_.size() >= kMaxQueuedUpdates) {
    auto most_sent = std::max_element(
        entries_.begin(), entries_.end(),
        [](const Entry& a, const Entry& b) { return a.transmissions < b.transmissions; });
    entries_.erase(most_sent);
  }
  entries_.push_back(Entry{update, 0, next_order_++});
}

void DisseminationQueue::remove(const std::string& node_id) {
  std::erase_if(entries_, [&](const Entry& entry) { return entry.update.node_id == node_id; });
}

std::vector<MemberUpdate> DisseminationQueue::take_for_message(size_t byte_budget, size_t max_count,
                                                               int retransmit_limit) {
  std::sort(entries_.begin(), entries_.end(), [](const Entry& a, const Entry& b) {
    if (a.transmissions != b.transmissions) return a.transmissions < b.transmissions;
    return a.queued_order < b.queued_order;
  });
  std::vector<MemberUpdate> picked;
  size_t bytes_used = 0;
  for (Entry& entry : entries_) {
    if (picked.size() >= max_count) break;
    size_t size = encoded_update_size(entry.update);
    if (bytes_used + size > byte_budget) continue;  // a smaller one may still fit
    bytes_used += size;
    picked.push_back(entry.update);
    ++entry.transmissions;
  }
  std::erase_if(entries_,
                [&](const Entry& entry) { return entry.transmissions >= retransmit_limit; });
  return picked;
}

}  // namespace clusterlive
