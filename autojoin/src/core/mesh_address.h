// Mesh (WireGuard interface) addresses: IPv6 unique local addresses that
// every node can compute for every other node from ids alone.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace clusterlive {

using Ipv6Address = std::array<uint8_t, 16>;

/// The mesh address of `node_id` in the cluster `cluster_id` (16 hex
/// digits, see ClusterSecret::cluster_id):
///   fd | first 40 bits of the cluster id | subnet 0000 | 64-bit interface
///   id = first 8 bytes of BLAKE2b("clusterlive/mesh-iid/v1" || node_id).
/// So a cluster is one /48 (RFC 4193 style global id) and nodes never need
/// to agree on addresses. nullopt if `cluster_id` is not 16 hex digits.
std::optional<Ipv6Address> mesh_address(std::string_view cluster_id, std::string_view node_id);

/// RFC 5952 text (compressed, lower case), e.g. "fd12:3456:789a::1".
std::string format_ipv6(const Ipv6Address& address);

/// Parses IPv6 text; nullopt if it is not an IPv6 address.
std::optional<Ipv6Address> parse_ipv6(std::string_view text);

}  // namespace clusterlive
