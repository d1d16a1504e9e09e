// Many Membership instances on one simulated LAN: a fake clock and an
// in-memory network that loses and delays datagrams, all from one seed.
// Used by the unit tests and by membership_sim.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/cluster_secret.h"
#include "core/membership.h"
#include "core/random_source.h"

namespace clusterlive::sim {

struct SimOptions {
  uint64_t seed = 1;
  double loss_rate = 0.0;     ///< probability each datagram is lost (0..1)
  TimeMs min_latency_ms = 1;  ///< one-way delay range of a datagram
  TimeMs max_latency_ms = 20;
  TimeMs tick_step_ms = 50;  ///< simulation step: every node is ticked this often
  /// true: nodes exchange real TXT records (encode, decode, MAC) as mDNS on
  /// one LAN would; false: hand decoded records over (fast, for big runs).
  bool exchange_txt_records = true;
  /// true: a datagram passes only between two nodes that each hold the
  /// other as a WireGuard peer (mesh_peers), as on the daemon's mesh;
  /// false: any two nodes can talk (the network alone decides).
  bool mesh_follows_membership = false;
  /// > 0: this often every running node hears the record of every running
  /// node its links reach, as the daemon's mDNS browsing and its hellos to
  /// lost members give it; 0: records are shown only at boot.
  TimeMs record_refresh_ms = 0;
};

class SimCluster {
 public:
  explicit SimCluster(SimOptions options);

  /// Boots a new node now; it and every running node see each other's
  /// mDNS record (one LAN). Returns its index.
  size_t add_node();
  /// Boots a node that sees only the records of `seeds` (and they its
  /// record): it must learn everybody else through gossip.
  size_t add_node_seeing(const std::vector<size_t>& seeds);
  /// The node stops: no ticks, no messages in or out (a crash / power cut).
  void crash(size_t index);
  /// Runs the simulation for `duration_ms` of simulated time.
  void advance(TimeMs duration_ms);
  /// Cuts (or restores) the link between two nodes, both directions: their
  /// datagrams to each other are lost, everything else still flows.
  void set_link_blocked(size_t a, size_t b, bool blocked);
  /// Called with every datagram a node sends (before the network decides
  /// its fate), for tests that look inside messages.
  using DatagramObserver =
      std::function<void(size_t from, size_t to, const std::vector<uint8_t>& bytes)>;
  void observe_datagrams(DatagramObserver observer) { observer_ = std::move(observer); }
  /// Changes the loss rate from now on.
  void set_loss_rate(double loss_rate) { options_.loss_rate = loss_rate; }

  Membership& node(size_t index) { return *nodes_[index].membership; }
  const std::string& node_id(size_t index) const { return nodes_[index].id; }
  bool is_running(size_t index) const { return nodes_[index].running; }
  size_t size() const { return nodes_.size(); }
  TimeMs now() const { return now_; }
  const ClusterSecret& secret() const { return secret_; }

  /// Running nodes (other than `index` itself) that see node `index` in `state`.
  size_t observers_seeing(size_t index, MemberState state) const;
  /// Number of running nodes.
  size_t running_count() const;
  /// True if every running node sees every other running node up at the
  /// incarnation that node really has (gossip has fully converged).
  bool all_know_current_incarnations() const;
  /// True if every running node sees every other running node up.
  bool all_running_see_each_other_up() const;
  /// Total bytes all nodes sent so far.
  uint64_t total_bytes_sent() const { return bytes_sent_; }
  /// Datagrams dropped by the simulated network so far.
  uint64_t datagrams_lost() const { return datagrams_lost_; }

 private:
  struct SimNode {
    std::string id;
    std::unique_ptr<SeededRandom> random;
    std::unique_ptr<Membership> membership;
    NodeRecord record;
    bool running = true;
  };
  struct InFlight {
    TimeMs deliver_at;
    uint64_t order;  // keeps delivery deterministic for equal times
    size_t from_index;
    size_t to_index;
    std::vector<uint8_t> bytes;
    bool operator>(const InFlight& other) const {
      return deliver_at != other.deliver_at ? deliver_at > other.deliver_at : order > other.order;
    }
  };

  size_t boot_node();
  void show_record(size_t from, size_t to);
  void collect_outgoing(size_t index);
  bool link_blocked(size_t a, size_t b) const;
  bool holds_mesh_peer(size_t holder, size_t peer) const;
  void refresh_records();

  SimOptions options_;
  ClusterSecret secret_;
  SeededRandom network_random_;
  TimeMs now_ = 0;
  TimeMs next_record_refresh_ = 0;
  std::vector<SimNode> nodes_;
  std::map<std::string, size_t> index_by_id_;
  std::set<std::pair<size_t, size_t>> blocked_links_;  // (lower, higher) index
  std::priority_queue<InFlight, std::vector<InFlight>, std::greater<>> in_flight_;
  uint64_t next_order_ = 0;
  uint64_t bytes_sent_ = 0;
  uint64_t datagrams_lost_ = 0;
  DatagramObserver observer_;
};

}  // namespace clusterlive::sim
