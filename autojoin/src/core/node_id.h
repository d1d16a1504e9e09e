// Node ids: the node's hostname, e.g. "node-3a9f01".
#pragma once

#include <cstddef>
#include <string_view>

namespace clusterlive {

/// Longest node id: one DNS label.
constexpr size_t kMaxNodeIdLength = 63;

/// True if `id` is a valid DNS label in lower case: 1..63 characters of
/// a-z, 0-9 and '-', not starting or ending with '-'. Node ids come from
/// peers, so everything that stores one checks it first.
bool is_valid_node_id(std::string_view id);

}  // namespace clusterlive
