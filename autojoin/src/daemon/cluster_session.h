// Everything a node does while it belongs to a cluster: its WireGuard interface, the control
// socket on the mesh, the hello socket on the LAN, and the membership protocol fed by mDNS,
// hellos (seeds, leases, newcomers) and the mesh. One session per secret: switching cluster
// (clusterlive create / join) ends the session and starts another.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "api/api_types.h"
#include "avahi/avahi_discovery.h"
#include "core/cluster_secret.h"
#include "core/hello_message.h"
#include "core/membership.h"
#include "core/storage_choice.h"
#include "core/random_source.h"
#include "mesh/udp_socket.h"
#include "mesh/wireguard_keys.h"
#include "mesh/wireguard_mesh.h"

namespace clusterlive {

/// UDP port of the LAN hello (also the port published in the mDNS SRV record).
constexpr uint16_t kHelloPort = 51872;
/// UDP port of the membership protocol, bound to the mesh address only.
constexpr uint16_t kControlPort = 51873;
/// A hello to a seed or lease that is not a live member yet goes out this often.
constexpr int64_t kHelloRetryMs = 2'000;
/// A node found by mDNS that is not a live member gets hellos for this long (a single one
/// can be lost, e.g. when it goes out before this node has its own LAN address).
constexpr int64_t kMdnsHelloWindowMs = 60'000;
/// A member that died gets hellos at its last LAN address for this long, this often: if it
/// was only cut off (a cable, a switch), it comes back as soon as the link does and it is
/// forgotten (a dead member is revived only by a new record, after kDeadRetentionMs). Its
/// mDNS record, still cached, brings no news that would start hellos again.
constexpr int64_t kLostMemberHelloWindowMs = 30 * 60'000;
constexpr int64_t kLostMemberHelloRetryMs = 5'000;
/// A hello to a seed that already is a live member: keeps a partition from lasting.
constexpr int64_t kHelloRefreshMs = 30'000;
/// The DHCP leases file is read again this often.
constexpr int64_t kLeasesRereadMs = 10'000;
/// WireGuard's view of the peers (handshakes) is read at most this often.
constexpr int64_t kMeshStatusRefreshMs = 2'000;
/// Most LAN targets (seeds + leases) we send hellos to.
constexpr size_t kMaxHelloTargets = 256;
/// How long peers found on an adopted mesh interface (a restarted daemon's) are kept even if
/// no member names them, in milliseconds: time to find the members again (they join within
/// 10 s of a start) before pruning cuts a tunnel that is still in use.
constexpr int64_t kAdoptedPeersGraceMs = 30'000;

struct SessionConfig {
  std::string node_id;
  std::string secret_source;       ///< for status, e.g. "boot medium"
  std::vector<std::string> seeds;  ///< clusterlive.peers= entries: address[:port]
  std::string leases_path;         ///< dnsmasq leases file ("" or missing: none)
  std::string runtime_dir;         ///< e.g. /run/clusterlive (keys live here)
  std::string mesh_interface = "clmesh0";
  std::vector<std::string> capabilities;  ///< published in our record, e.g. "criu"
};

class ClusterSession {
 public:
  ClusterSession(const ClusterSecret& secret, SessionConfig config, CommandRunner& runner,
                 TimeMs now, uint64_t wall_clock_ms);

  /// Brings up the mesh and the sockets. Empty on success, else what failed (the session
  /// still runs: hellos and mDNS keep working, and `status` shows the error).
  std::string start();

  /// Our signed TXT record for mDNS.
  std::vector<std::string> txt_record() const { return txt_record_; }
  const std::string& cluster_id() const { return cluster_id_; }

  /// An mDNS service was resolved (new or changed).
  void on_service_found(const DiscoveredService& service, TimeMs now);
  /// Datagrams are waiting on the control (mesh) or hello (LAN) socket.
  void on_control_readable(TimeMs now);
  void on_hello_readable(TimeMs now);
  /// Timers: membership, hellos, leases, WireGuard peers.
  void tick(TimeMs now);
  TimeMs next_tick_due() const;
  /// Our load figures, gossiped from now on.
  void set_load(uint16_t cores, uint32_t cpu_speed, uint32_t load_milli, uint32_t free_mib);

  int control_fd() const { return control_socket_ ? control_socket_->fd() : -1; }
  int hello_fd() const { return hello_socket_.fd(); }

  /// Fills the cluster parts of `status` and returns the rows of `clusterlive nodes`.
  void fill_status(api::StatusView& status, TimeMs now);

  /// The storage choice (core/storage_choice.h) of this node, from the live members'
  /// gossiped flags and ours. Not settled (no election) until `waited_long_enough` and every
  /// live member's flags are known.
  /// `epoch`: our store's epoch while we serve. Remembers the highest epoch it hears of, so
  /// that a node elected after losing the server serves with a higher one.
  StorageDecision storage_decision(bool pinned, bool serving, uint32_t epoch,
                                   bool waited_long_enough);
  /// The highest storage epoch heard of since this session started (gossip and our own).
  uint32_t highest_storage_epoch_seen();
  /// Our storage flags, gossiped from now on.
  void set_storage_roles(bool pinned, bool serving, uint32_t epoch);
  /// Mesh address text of `node_id`, e.g. "fd12:3456:789a:0:1:2:3:4".
  std::string mesh_address_text(const std::string& node_id);
  /// The cluster's mesh prefix, e.g. "fd12:3456:789a::/48".
  std::string mesh_prefix_text() const;
  bool mesh_up() const;
  /// What membership knows of `node_id`, if anything.
  std::optional<MemberInfo> member(const std::string& node_id) const {
    return membership_.member(node_id);
  }
  std::vector<api::NodeView> node_views(TimeMs now, const api::NodeView& self_row);

  /// Deletes the mesh interface (the session ends).
  void stop();

 private:
  std::optional<TimeMs> first_tick_at_;  ///< for kAdoptedPeersGraceMs
  struct HelloTarget {
    LanEndpoint endpoint;
    std::string origin;  ///< "seed", "lease", "mdns" or "lost" (a member that died)
    TimeMs next_at = 0;
    /// mDNS and lost targets only: the node they reach, when it was found (or died), and when
    /// to give up on it (a node that stays unreachable may be powered off for good).
    std::string node_id;
    TimeMs found_at = 0;
    TimeMs expires_at = 0;
  };

  void handle_hello(const ReceivedDatagram& datagram, TimeMs now);
  void send_hello(const LanEndpoint& to, HelloType type);
  std::vector<EndpointHint> endpoint_hints() const;
  void learn_endpoint(const std::string& node_id, const LanEndpoint& lan_address, bool direct);
  void send_hellos(TimeMs now);
  /// Starts hellos to a member that just died, at its last LAN address.
  void hello_lost_member(const std::string& node_id, TimeMs now);
  void reread_leases(TimeMs now);
  void flush_outgoing();
  void sync_mesh_peers();
  void log_member_changes(TimeMs now);
  bool was_live(const std::string& node_id) const;
  bool heard_over_mesh_since(const std::string& node_id, TimeMs since) const;
  void log_rejected_record(RecordStatus status, const std::string& from);
  std::optional<std::string> node_of_mesh_address(const LanEndpoint& from) const;
  const Ipv6Address& mesh_address_of(const std::string& node_id);

  SessionConfig config_;
  ClusterSecret secret_;
  std::string cluster_id_;
  MacKey control_key_;
  SeededRandom random_;
  std::string mesh_error_;  // before wireguard_keys_, whose initialiser may set it
  std::optional<WireguardKeyPair> wireguard_keys_;
  Ipv6Address own_mesh_address_{};
  std::vector<std::string> txt_record_;
  Membership membership_;
  WireguardMesh mesh_;
  std::unique_ptr<UdpSocket> control_socket_;
  UdpSocket hello_socket_;

  struct KnownEndpoint {
    LanEndpoint endpoint;  // LAN address, WireGuard port
    bool direct = false;   // seen from the node itself, not a hint from another member
  };
  std::map<std::string, KnownEndpoint> endpoints_;  // by node id
  std::map<std::string, TimeMs> last_heard_;           // node -> last datagram over the mesh
  std::map<std::string, MemberState> logged_states_;   // what the journal last said
  std::map<std::string, Ipv6Address> mesh_addresses_;  // cache of mesh_address()
  std::map<Ipv6Address, std::string> node_by_mesh_address_;
  std::map<std::string, HelloTarget> hello_targets_;  // key: address text
  std::map<std::string, TimeMs> last_hello_to_;       // address text -> when
  std::map<std::string, uint64_t> hello_counts_;      // hello status name -> count
  std::set<std::string> foreign_logged_;              // cluster/node already logged
  std::vector<MeshPeerStatus> mesh_status_;
  uint32_t highest_storage_epoch_seen_ = kNoStorageEpoch;
  TimeMs mesh_status_at_ = -1;
  TimeMs next_leases_read_ = 0;
  uint64_t datagrams_truncated_ = 0;
  uint64_t sends_failed_ = 0;
};

}  // namespace clusterlive
