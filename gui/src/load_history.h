// The cluster's load over the last minutes, for the window's chart. Pure.
#pragma once

#include <cstdint>
#include <deque>
#include <vector>

#include "api/api_types.h"

namespace clusterlive::view {

/// How far back the chart looks, ms.
constexpr int64_t kLoadHistorySpanMs = 10 * 60 * 1000;

struct LoadSample {
  int64_t at_ms = 0;
  double load = 0;    ///< runnable tasks summed over the live members
  uint32_t cores = 0; ///< their cores summed: the load they can run without waiting
};

class LoadHistory {
 public:
  explicit LoadHistory(int64_t span_ms = kLoadHistorySpanMs) : span_ms_(span_ms) {}

  /// Adds the sum over `nodes` that are up (and report a load) at `now_ms`; drops samples
  /// older than the span. A time before the last sample's (a clock step) starts afresh.
  void add(const std::vector<api::NodeView>& nodes, int64_t now_ms);

  const std::deque<LoadSample>& samples() const { return samples_; }
  int64_t span_ms() const { return span_ms_; }

 private:
  int64_t span_ms_;
  std::deque<LoadSample> samples_;
};

}  // namespace clusterlive::view
