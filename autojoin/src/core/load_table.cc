#include "core/load_table.h"

#include "core/membership_constants.h"

namespace clusterlive {

bool LoadTable::update(const LoadVector& load, TimeMs now) {
  auto found = entries_.find(load.node_id);
  if (found != entries_.end()) {
    if (load.stamp <= found->second.load.stamp) return false;
    by_arrival_.erase({found->second.received_at, load.node_id});
    found->second = Entry{load, now};
  } else {
    entries_.emplace(load.node_id, Entry{load, now});
  }
  by_arrival_.insert({now, load.node_id});
  return true;
}

void LoadTable::remove(const std::string& node_id) {
  auto found = entries_.find(node_id);
  if (found == entries_.end()) return;
  by_arrival_.erase({found->second.received_at, node_id});
  entries_.erase(found);
}

std::vector<LoadVector> LoadTable::freshest(size_t count, TimeMs now,
                                            const std::string& exclude_node_id) const {
  std::vector<LoadVector> picked;
  for (auto it = by_arrival_.rbegin(); it != by_arrival_.rend() && picked.size() < count; ++it) {
    if (now - it->first > kLoadMaxAgeMs) break;  // the rest are older still
    if (it->second == exclude_node_id) continue;
    picked.push_back(entries_.at(it->second).load);
  }
  return picked;
}

std::vector<LoadVector> LoadTable::all() const {
  std::vector<LoadVector> loads;
  loads.reserve(entries_.size());
  for (const auto& [id, entry] : entries_) loads.push_back(entry.load);
  return loads;
}

}  // namespace clusterlive
