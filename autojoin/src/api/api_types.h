// What the local API shows and does, as plain structs: the contract between the daemon (which
// fills them) and the API server, the CLI and the GUI (which turn them into JSON and back).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace clusterlive::api {

/// Version of the JSON protocol on the local socket; every message carries it as "api".
constexpr int kApiVersion = 1;
/// Where clusterlived listens (a Unix stream socket, mode 0666: anyone may read state).
constexpr const char* kDefaultSocketPath = "/run/clusterlive/api.sock";

/// Who is calling, from SO_PEERCRED.
struct Caller {
  uid_t uid = 0;
  gid_t gid = 0;
  pid_t pid = 0;
  bool is_root() const { return uid == 0; }
};

/// `criu check` as recorded at boot (/var/lib/clusterlive/criu-check.json).
struct CriuCheckView {
  bool known = false;  ///< false: no result recorded (yet)
  bool ok = false;
  std::string detail;  ///< e.g. "Looks good." or the first error line
};

/// A peer whose last WireGuard handshake is at most this old counts as connected: WireGuard
/// rekeys every 120 s while a tunnel carries traffic.
constexpr int64_t kRecentHandshakeSeconds = 180;

/// The WireGuard mesh interface of this node.
struct MeshView {
  bool up = false;
  std::string interface;   ///< e.g. "clmesh0"
  std::string address;     ///< this node's mesh address (IPv6 text)
  uint16_t listen_port = 0;
  std::string public_key;  ///< base64, as `wg` shows it
  size_t peers = 0;        ///< WireGuard peers configured (= authenticated live members)
  size_t peers_with_recent_handshake = 0;  ///< see kRecentHandshakeSeconds
  std::string error;       ///< why the mesh is not up, if it is not
};

/// `clusterlive status`.
struct StatusView {
  std::string version;  ///< clusterlived's version
  std::string node;     ///< this node's id (its hostname)
  /// Set when the node has a cluster secret; absent when it runs alone.
  std::optional<std::string> cluster_id;
  std::optional<std::string> secret_source;  ///< e.g. "boot medium"
  /// Why the node runs alone, e.g. "no cluster secret" or a bad key file's error.
  std::string alone_reason;
  size_t members_up = 0;  ///< other nodes, this node not counted
  size_t members_suspect = 0;
  size_t members_dead = 0;
  size_t foreign_nodes = 0;
  CriuCheckView criu;
  MeshView mesh;
  int64_t uptime_ms = 0;  ///< since the daemon started
  /// Everything counted: rejected records and datagrams by reason, bytes, refutations.
  std::map<std::string, uint64_t> counters;
};

/// One row of `clusterlive nodes`, this node included.
struct NodeView {
  std::string name;
  bool self = false;
  std::string state;  ///< "up", "suspect", "dead" or "foreign"
  std::optional<std::string> cluster_id;  ///< set for foreign nodes (their claimed cluster)
  std::vector<std::string> addresses;     ///< LAN addresses, then the mesh address
  std::optional<uint16_t> cores;
  std::optional<uint32_t> cpu_speed;     ///< relative per-core speed from the boot benchmark
  std::optional<double> load;            ///< smoothed runnable tasks
  std::optional<uint32_t> free_memory_mib;
  std::optional<int64_t> last_heard_ms_ago;  ///< absent for this node and unheard nodes
  int64_t state_for_ms = 0;                  ///< how long it has been in `state`
};

/// Outcome of `create` or `join`.
struct ClusterChange {
  bool ok = false;
  std::string error;       ///< when !ok: why, for the user
  std::string cluster_id;  ///< when ok: the cluster now joined
};

/// What the API server asks of the daemon. The server has already checked permissions
/// (reading is for everyone; key_show, create and join are for root only).
class Backend {
 public:
  virtual ~Backend() = default;
  virtual StatusView status() = 0;
  virtual std::vector<NodeView> nodes() = 0;
  /// The cluster secret as 64 hex digits; nullopt when the node has none.
  virtual std::optional<std::string> secret_hex() = 0;
  /// Makes a fresh random secret, stores it, and switches the node to that new cluster.
  virtual ClusterChange create_cluster() = 0;
  /// Stores `secret_text` (64 hex digits) and switches the node to that cluster.
  virtual ClusterChange join_cluster(const std::string& secret_text) = 0;
};

}  // namespace clusterlive::api
