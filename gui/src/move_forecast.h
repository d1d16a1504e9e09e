// What the window shows while a job is dragged over a node's card, before the drop: whether
// the node can take the job and, if so, what the move costs (bytes to send, the freeze) and
// what it gains (expected speed-up). Pure: the snapshot of the cluster comes in, text and
// numbers go out. The daemon decides for real; this only warns before a doomed drop.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "api/api_types.h"

namespace clusterlive::view {

struct MoveForecast {
  bool possible = false;
  /// Why not, for a person, when !possible: e.g. "node-b is suspect".
  std::string refusal;
  uint64_t bytes_to_move = 0;  ///< the job's resident memory: what pre-copy sends at least
  /// Expected freeze, ms: the job's own last freeze if it moved before, else the last freeze
  /// seen in the cluster; nullopt when no move was seen yet.
  std::optional<int64_t> estimated_freeze_ms;
  /// Expected speed on the target over the speed where it runs (1.5: half again as fast);
  /// nullopt when either node's cores or CPU speed are unknown.
  std::optional<double> speedup;
};

/// Who is dragging, and what the cluster has shown of past moves.
struct ForecastContext {
  uid_t caller_uid = 0;  ///< the GUI's user: root may move any job, others their own
  /// The freeze of the most recent migration seen anywhere in the cluster, ms.
  std::optional<int64_t> last_freeze_ms_seen;
};

/// Forecast of moving `job` to the node named `target`, given every node of the cluster.
MoveForecast forecast_move(const api::JobView& job, const std::string& target,
                           const std::vector<api::NodeView>& nodes,
                           const ForecastContext& context);

/// The latest freeze_ms among `jobs`' migrations (by updated_unix_ms), nullopt if none.
std::optional<int64_t> latest_freeze_ms(const std::vector<api::JobView>& jobs);

/// One line for the card under the cursor, e.g. "can take it: 512 MiB to send, frozen about
/// 0.9 s, 1.8x as fast" or "cannot take it: node-b is suspect".
std::string describe_forecast(const MoveForecast& forecast);

}  // namespace clusterlive::view
