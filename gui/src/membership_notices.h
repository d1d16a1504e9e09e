// The desktop notifications about the cluster's members: who joined, who left (died), who
// came back, between two snapshots. Pure.
#pragma once

#include <string>
#include <vector>

#include "api/api_types.h"

namespace clusterlive::view {

/// One line per change from `before` to `after`, e.g. "node-b joined the cluster",
/// "node-c is dead", "node-c is back". Foreign nodes and this node are left out; a node
/// that was suspect and is up again is no news (that happens under load).
std::vector<std::string> membership_notices(const std::vector<api::NodeView>& before,
                                            const std::vector<api::NodeView>& after);

}  // namespace clusterlive::view
