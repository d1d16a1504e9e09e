// The mDNS TXT record of service _clusterlive._tcp: who a node is and how
// to reach it over the mesh, authenticated with the cluster secret.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/mac.h"
#include "core/mesh_address.h"

namespace clusterlive {

/// Version in the "v" entry. A record with another version is not parsed.
constexpr uint32_t kRecordProtocolVersion = 1;
/// DNS-SD limit on one TXT entry ("key=value"), in bytes.
constexpr size_t kMaxTxtEntryBytes = 255;
/// Most entries we accept in one record (we publish 8).
constexpr size_t kMaxTxtEntries = 16;
/// Most capabilities in a record, and the longest capability name (bytes).
constexpr size_t kMaxCapabilities = 16;
constexpr size_t kMaxCapabilityLength = 32;

using WireguardKey = std::array<uint8_t, 32>;

/// What one node publishes about itself.
struct NodeRecord {
  std::string cluster_id;                 ///< 16 hex digits, ClusterSecret::cluster_id()
  std::string node_id;                    ///< e.g. "node-3a9f01", see is_valid_node_id
  WireguardKey wireguard_public_key{};    ///< Curve25519 public key
  Ipv6Address mesh_address{};             ///< must equal mesh_address(cluster_id, node_id)
  std::vector<std::string> capabilities;  ///< e.g. {"criu", "nfs-server"}; [a-z0-9-]+, no repeats
  uint64_t counter = 0;                   ///< raised on every change; replays carry an old one

  bool operator==(const NodeRecord&) const = default;
};

/// Why a TXT record was accepted or dropped.
enum class RecordStatus {
  ok,
  malformed,            ///< missing, repeated, unknown or badly formed entry
  oversized,            ///< an entry over 255 bytes or too many entries
  unsupported_version,  ///< "v" is not kRecordProtocolVersion
  foreign_cluster,      ///< well formed but of another cluster (not authenticated)
  bad_mac,              ///< our cluster id but the MAC does not verify
};

/// Name of a status for counters and logs, e.g. "bad_mac".
std::string_view to_string(RecordStatus status);

struct RecordDecodeResult {
  RecordStatus status = RecordStatus::malformed;
  /// Filled when status is ok (authenticated) or foreign_cluster (claims
  /// only: show it as foreign, never trust it); default otherwise.
  NodeRecord record;
};

/// True if every field of `record` can be published (ids, capabilities,
/// mesh address consistent with the ids).
bool is_publishable(const NodeRecord& record);

/// The canonical bytes the MAC covers: a domain tag, then every field in a
/// fixed order, strings length-prefixed, integers big-endian. Two different
/// records never give the same bytes.
std::vector<uint8_t> record_mac_input(const NodeRecord& record);

/// TXT entries for `record`: v, cid, nid, wg, addr, caps, ctr, mac (in this
/// order). Empty if the record is not publishable.
std::vector<std::string> encode_txt_record(const NodeRecord& record, const MacKey& record_key);

/// Strict decoder for TXT entries from the network. Checks, in order: size
/// limits, entry syntax, version, every field, cluster id against
/// `own_cluster_id`, MAC, mesh address consistency. Never throws.
/// Replays (an old counter) are checked by Membership, which remembers
/// the last accepted counter per node.
RecordDecodeResult decode_txt_record(const std::vector<std::string>& entries,
                                     std::string_view own_cluster_id, const MacKey& record_key);

}  // namespace clusterlive
