#include "load_history.h"

namespace clusterlive::view {

void LoadHistory::add(const std::vector<api::NodeView>& nodes, int64_t now_ms) {
  if (!samples_.empty() && now_ms < samples_.back().at_ms) samples_.clear();
  LoadSample sample;
  sample.at_ms = now_ms;
  for (const api::NodeView& node : nodes) {
    if (node.state != "up" || !node.load) continue;
    sample.load += *node.load;
    sample.cores += node.cores.value_or(0);
  }
  samples_.push_back(sample);
  while (!samples_.empty() && samples_.front().at_ms < now_ms - span_ms_) samples_.pop_front();
}

}  // namespace clusterlive::view
