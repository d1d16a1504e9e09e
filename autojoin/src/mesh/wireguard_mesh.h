// The node's WireGuard interface: created at start with this boot's key and the node's mesh
// address, its peers kept equal to the authenticated live members. Uses `ip` and `wg`
// (iproute2, wireguard-tools) through a CommandRunner.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/hello_message.h"
#include "core/mesh_address.h"
#include "core/node_record.h"
#include "mesh/command_runner.h"

namespace clusterlive {

/// UDP port WireGuard listens on, on every node (on the LAN).
constexpr uint16_t kWireguardPort = 51871;
/// Keepalive towards each peer (s): keeps NAT and bridge tables warm and lets a peer that
/// lost our endpoint learn it again.
constexpr int kPersistentKeepaliveSeconds = 15;

/// One peer as the mesh should have it.
struct MeshPeer {
  WireguardKey public_key{};
  Ipv6Address mesh_address{};
  std::optional<LanEndpoint> endpoint;  ///< WireGuard port on the peer's LAN address

  bool operator==(const MeshPeer&) const = default;
};

/// One peer as WireGuard reports it (`wg show IF dump`).
struct MeshPeerStatus {
  WireguardKey public_key{};
  std::string endpoint;               ///< "(none)" when WireGuard has none
  int64_t latest_handshake_unix = 0;  ///< seconds since 1970; 0: never
  uint64_t received_bytes = 0;
  uint64_t sent_bytes = 0;
};

/// Parses the peer lines of `wg show IF dump` (the first line, the interface, is skipped).
std::vector<MeshPeerStatus> parse_wg_dump(const std::string& dump);

class WireguardMesh {
 public:
  /// `psk_path`: file holding the cluster's preshared key (base64), given to every peer.
  WireguardMesh(CommandRunner& runner, std::string interface, std::string private_key_path,
                std::string psk_path);

  /// (Re)creates the interface with our private key, kWireguardPort and `address`/48.
  /// Empty on success, otherwise what failed.
  std::string up(const Ipv6Address& address);
  /// Makes the interface's peers exactly `peers` (by public key); changes only what differs.
  /// Returns one message per failed command (empty: all applied).
  std::vector<std::string> set_peers(const std::vector<MeshPeer>& peers);
  /// WireGuard's own view of the peers; empty if the interface is missing.
  std::vector<MeshPeerStatus> peer_status();
  /// Deletes the interface (and with it every tunnel).
  void down();

  bool is_up() const { return up_; }
  const std::string& interface() const { return interface_; }
  size_t peer_count() const { return applied_.size(); }

 private:
  CommandResult run(const std::vector<std::string>& argv);

  CommandRunner& runner_;
  std::string interface_;
  std::string private_key_path_;
  std::string psk_path_;
  bool up_ = false;
  std::map<WireguardKey, MeshPeer> applied_;
};

}  // namespace clusterlive
