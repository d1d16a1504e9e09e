#include "sim/sim_cluster.h"

#include <algorithm>
#include <cstdio>

#include "core/mesh_address.h"

namespace clusterlive::sim {
namespace {

ClusterSecret secret_from_seed(uint64_t seed) {
  SeededRandom random(seed ^ 0x5ec7e7ULL);
  ClusterSecret::Bytes bytes{};
  for (uint8_t& byte : bytes) byte = static_cast<uint8_t>(random.next_u64());
  return ClusterSecret(bytes);
}

}  // namespace

SimCluster::SimCluster(SimOptions options)
    : options_(options), secret_(secret_from_seed(options.seed)), network_random_(options.seed) {}

size_t SimCluster::boot_node() {
  size_t index = nodes_.size();
  char id[32];
  std::snprintf(id, sizeof id, "node-%06zx", index);

  SimNode node;
  node.id = id;
  node.random = std::make_unique<SeededRandom>(options_.seed * 1000003ULL + index);
  NodeRecord& record = node.record;
  record.cluster_id = secret_.cluster_id();
  record.node_id = node.id;
  for (size_t i = 0; i < record.wireguard_public_key.size(); ++i) {
    record.wireguard_public_key[i] = static_cast<uint8_t>(index * 31 + i);
  }
  record.mesh_address = *mesh_address(record.cluster_id, record.node_id);
  record.capabilities = {"criu"};
  record.counter = static_cast<uint64_t>(now_) + 1;

  MembershipConfig config;
  config.self_id = node.id;
  config.self_wireguard_key = record.wireguard_public_key;
  config.initial_incarnation = static_cast<uint64_t>(now_) + 1;
  config.initial_sequence = (static_cast<uint64_t>(now_) + 1) * 1000;
  node.membership = std::make_unique<Membership>(secret_, config, *node.random, now_);
  node.membership->set_local_load(static_cast<uint16_t>(1 + index % 8), 2000, 0, 4096);

  index_by_id_[node.id] = index;
  nodes_.push_back(std::move(node));
  return index;
}

void SimCluster::show_record(size_t from, size_t to) {
  Membership& receiver = *nodes_[to].membership;
  if (options_.exchange_txt_records) {
    receiver.on_txt_record(encode_txt_record(nodes_[from].record, secret_.record_mac_key()), now_);
  } else {
    receiver.on_verified_record(nodes_[from].record, now_);
  }
}

size_t SimCluster::add_node() {
  size_t index = boot_node();
  for (size_t other = 0; other < index; ++other) {
    if (!nodes_[other].running) continue;
    show_record(index, other);
    show_record(other, index);
  }
  return index;
}

size_t SimCluster::add_node_seeing(const std::vector<size_t>& seeds) {
  size_t index = boot_node();
  for (size_t seed : seeds) {
    show_record(index, seed);
    show_record(seed, index);
  }
  return index;
}

void SimCluster::crash(size_t index) { nodes_[index].running = false; }

void SimCluster::set_link_blocked(size_t a, size_t b, bool blocked) {
  std::pair<size_t, size_t> link = std::minmax(a, b);
  if (blocked) {
    blocked_links_.insert(link);
  } else {
    blocked_links_.erase(link);
  }
}

bool SimCluster::link_blocked(size_t a, size_t b) const {
  return !blocked_links_.empty() && blocked_links_.count(std::minmax(a, b));
}

// WireGuard: the sender needs the receiver as a peer to encrypt (checked
// when sending), the receiver needs the sender as a peer to accept (checked
// on delivery).
bool SimCluster::holds_mesh_peer(size_t holder, size_t peer) const {
  if (!options_.mesh_follows_membership) return true;
  const std::vector<MemberInfo> peers = mesh_peers(nodes_[holder].membership->members());
  return std::any_of(peers.begin(), peers.end(),
                     [&](const MemberInfo& info) { return info.node_id == nodes_[peer].id; });
}

void SimCluster::refresh_records() {
  for (size_t to = 0; to < nodes_.size(); ++to) {
    if (!nodes_[to].running) continue;
    for (size_t from = 0; from < nodes_.size(); ++from) {
      if (from != to && nodes_[from].running && !link_blocked(from, to)) show_record(from, to);
    }
  }
}

void SimCluster::collect_outgoing(size_t index) {
  for (OutgoingDatagram& datagram : nodes_[index].membership->take_outgoing()) {
    bytes_sent_ += datagram.bytes.size();
    auto to = index_by_id_.find(datagram.to_node_id);
    if (to == index_by_id_.end()) continue;
    if (observer_) observer_(index, to->second, datagram.bytes);
    bool blocked = link_blocked(index, to->second) || !holds_mesh_peer(index, to->second);
    if (blocked || network_random_.chance(options_.loss_rate)) {
      ++datagrams_lost_;
      continue;
    }
    TimeMs spread = options_.max_latency_ms - options_.min_latency_ms + 1;
    TimeMs latency = options_.min_latency_ms + static_cast<TimeMs>(network_random_.uniform(spread));
    in_flight_.push(
        InFlight{now_ + latency, next_order_++, index, to->second, std::move(datagram.bytes)});
  }
}

void SimCluster::advance(TimeMs duration_ms) {
  const TimeMs end = now_ + duration_ms;
  while (now_ < end) {
    now_ = std::min(end, now_ + options_.tick_step_ms);
    if (options_.record_refresh_ms > 0 && now_ >= next_record_refresh_) {
      refresh_records();
      next_record_refresh_ = now_ + options_.record_refresh_ms;
    }
    while (!in_flight_.empty() && in_flight_.top().deliver_at <= now_) {
      InFlight datagram = in_flight_.top();
      in_flight_.pop();
      SimNode& receiver = nodes_[datagram.to_index];
      if (!receiver.running) continue;
      if (!holds_mesh_peer(datagram.to_index, datagram.from_index)) {
        ++datagrams_lost_;
        continue;
      }
      receiver.membership->on_datagram(datagram.bytes, now_);
      collect_outgoing(datagram.to_index);
    }
    for (size_t i = 0; i < nodes_.size(); ++i) {
      if (!nodes_[i].running) continue;
      nodes_[i].membership->tick(now_);
      collect_outgoing(i);
    }
  }
}

size_t SimCluster::observers_seeing(size_t index, MemberState state) const {
  size_t count = 0;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (i == index || !nodes_[i].running) continue;
    std::optional<MemberInfo> info = nodes_[i].membership->member(nodes_[index].id);
    if (info && info->state == state) ++count;
  }
  return count;
}

size_t SimCluster::running_count() const {
  size_t count = 0;
  for (const SimNode& node : nodes_) count += node.running ? 1 : 0;
  return count;
}

bool SimCluster::all_know_current_incarnations() const {
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (!nodes_[i].running) continue;
    for (size_t j = 0; j < nodes_.size(); ++j) {
      if (j == i || !nodes_[j].running) continue;
      std::optional<MemberInfo> info = nodes_[i].membership->member(nodes_[j].id);
      if (!info || info->state != MemberState::up ||
          info->incarnation != nodes_[j].membership->incarnation()) {
        return false;
      }
    }
  }
  return true;
}

bool SimCluster::all_running_see_each_other_up() const {
  const size_t others = running_count() - 1;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (nodes_[i].running && observers_seeing(i, MemberState::up) != others) return false;
  }
  return true;
}

}  // namespace clusterlive::sim
