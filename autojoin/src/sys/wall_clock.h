// unix_time_ms: the wall clock, for time stamps written where other nodes and processes read
// them (a job's start, a migration's last update). Intervals use a steady clock instead: the
// wall clock can step.
#pragma once

#include <chrono>
#include <cstdint>

namespace clusterlive {

/// Milliseconds since the Unix epoch.
inline int64_t unix_time_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace clusterlive
