// The node's WireGuard interface: created at start with this boot's key and the node's mesh
// address, its peers kept equal to the authenticated live members. It outlives the daemon:
// /cluster's NFS mount, migrations and jobs' own traffic run over it, so a daemon that
// restarts (or crashes and is restarted) adopts the interface it finds with its own key and
// address instead of cutting every tunnel. Uses `ip` and `wg`
// (iproute2, wireguard-tools) through a CommandRunner.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
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

/// The interface line of `wg show IF dump` (private-key public-key listen-port fwmark).
struct MeshInterfaceStatus {
  WireguardKey public_key{};
  uint16_t listen_port = 0;
  bool operator==(const MeshInterfaceStatus&) const = default;
};
/// nullopt if the dump's first line is missing or malformed.
std::optional<MeshInterfaceStatus> parse_wg_dump_interface(const std::string& dump);

class WireguardMesh {
 public:
  /// `psk_path`: file holding the cluster's preshared key (base64), given to every peer.
  WireguardMesh(CommandRunner& runner, std::string interface, std::string private_key_path,
                std::string psk_path);

  /// Adopts the interface if it is there with `public_key` (ours), kWireguardPort and
  /// `address`/48, keeping its tunnels; otherwise (re)creates it with our private key.
  /// Empty on success, otherwise what failed.
  std::string up(const Ipv6Address& address, const WireguardKey& public_key);
  /// Makes the interface's peers exactly `peers` (by public key); changes only what differs.
  /// Peers an adopted interface had are kept even if unwanted until release_adopted_peers():
  /// a restarted daemon knows no member yet, and removing them would cut the tunnels the
  /// adoption is there to keep. Returns one message per failed command (empty: all applied).
  std::vector<std::string> set_peers(const std::vector<MeshPeer>& peers);
  /// From now on, set_peers removes the adopted peers that are not wanted.
  void release_adopted_peers() { adopted_.clear(); }
  /// True if up() found the interface and kept it.
  bool adopted() const { return adopted_interface_; }
  /// WireGuard's own view of the peers; empty if the interface is missing.
  std::vector<MeshPeerStatus> peer_status();
  /// Deletes the interface (and with it every tunnel).
  void down();
  /// Forgets the interface without touching it (a daemon stopping: the next one adopts it).
  void leave_up();

  bool is_up() const { return up_; }
  const std::string& interface() const { return interface_; }
  size_t peer_count() const { return applied_.size(); }

 private:
  CommandResult run(const std::vector<std::string>& argv);
  /// up()'s first step: true if the interface is ours and is kept.
  bool adopt(const Ipv6Address& address, const WireguardKey& public_key);

  CommandRunner& runner_;
  std::string interface_;
  std::string private_key_path_;
  std::string psk_path_;
  bool up_ = false;
  std::map<WireguardKey, MeshPeer> applied_;
  std::set<WireguardKey> adopted_;  ///< peers found on an adopted interface, not yet released
  bool adopted_interface_ = false;
};

}  // namespace clusterlive
