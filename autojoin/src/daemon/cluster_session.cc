#include "daemon/cluster_session.h"

#include <algorithm>
#include <ctime>
#include <fstream>
#include <sstream>

#include "core/dnsmasq_leases.h"
#include "core/mesh_address.h"
#include "core/node_record.h"
#include "daemon/log.h"
#include "sys/file_io.h"

namespace clusterlive {
namespace {


std::string state_name(MemberState state) {
  switch (state) {
    case MemberState::up:
      return "up";
    case MemberState::suspect:
      return "suspect";
    case MemberState::dead:
      return "dead";
  }
  return "unknown";
}

WireguardKeyPair keys_or_ephemeral(const std::string& path, std::string& error) {
  if (auto keys = load_or_create_private_key(path, error)) return *keys;
  return generate_wireguard_keypair();  // the mesh will not come up; status says why
}

}  // namespace

ClusterSession::ClusterSession(const ClusterSecret& secret, SessionConfig config,
                               CommandRunner& runner, TimeMs now, uint64_t wall_clock_ms)
    : config_(std::move(config)),
      secret_(secret),
      cluster_id_(secret.cluster_id()),
      control_key_(secret.control_mac_key()),
      random_(wall_clock_ms ^ std::hash<std::string>{}(config_.node_id)),
      wireguard_keys_(keys_or_ephemeral(config_.runtime_dir + "/wg-private.key", mesh_error_)),
      own_mesh_address_(*mesh_address(cluster_id_, config_.node_id)),
      membership_(secret,
                  MembershipConfig{config_.node_id, wireguard_keys_->public_key,
                                   // a restarted daemon outranks gossip about its past life
                                   wall_clock_ms, wall_clock_ms * 1000},
                  random_, now),
      mesh_(runner, config_.mesh_interface, config_.runtime_dir + "/wg-private.key",
            config_.runtime_dir + "/wg-psk.key"),
      hello_socket_(std::nullopt, kHelloPort) {
  NodeRecord record;
  record.cluster_id = cluster_id_;
  record.node_id = config_.node_id;
  record.wireguard_public_key = wireguard_keys_->public_key;
  record.mesh_address = own_mesh_address_;
  record.capabilities = config_.capabilities;
  record.counter = wall_clock_ms;  // newer than any record of this node's earlier runs
  txt_record_ = encode_txt_record(record, secret_.record_mac_key());
}

std::string ClusterSession::start() {
  std::vector<std::string> problems;
  if (!mesh_error_.empty()) problems.push_back("WireGuard key: " + mesh_error_);
  if (!hello_socket_.ok()) problems.push_back("hello socket: " + hello_socket_.error());

  std::string psk_error;
  WireguardKey psk{};
  auto derived = secret_.wireguard_preshared_key();
  std::copy(derived.begin(), derived.end(), psk.begin());
  AtomicWriteOptions secret_file;
  secret_file.mode = 0600;
  if (!write_file_atomically(config_.runtime_dir + "/wg-psk.key",
                             wireguard_key_to_base64(psk) + "\n", secret_file, psk_error)) {
    problems.push_back("WireGuard preshared key: " + psk_error);
  } else if (std::string error = mesh_.up(own_mesh_address_, wireguard_keys_->public_key);
             !error.empty()) {
    problems.push_back("WireGuard interface: " + error);
  } else {
    if (mesh_.adopted()) {
      log::info("mesh: kept " + mesh_.interface() + " as the previous run left it (" +
                std::to_string(mesh_.peer_count()) + " tunnels)");
    }
    control_socket_ =
        std::make_unique<UdpSocket>(own_mesh_address_, kControlPort, config_.mesh_interface);
    if (!control_socket_->ok()) {
      problems.push_back("control socket: " + control_socket_->error());
      control_socket_.reset();
    }
  }

  for (const std::string& seed : config_.seeds) {
    auto endpoint = parse_seed(seed, kHelloPort);
    if (!endpoint) {
      log::warning("seed \"" + seed +
                   "\" ignored: give an IPv4 or IPv6 address, "
                   "optionally with :port ([v6]:port)");
      continue;
    }
    if (hello_targets_.size() < kMaxHelloTargets) {
      hello_targets_[endpoint->address_text()] = {*endpoint, "seed", 0, "", 0, 0};
    }
  }

  std::string joined;
  for (const std::string& problem : problems) joined += (joined.empty() ? "" : "; ") + problem;
  mesh_error_ = joined;
  return joined;
}

void ClusterSession::stop() {
  // The mesh stays: /cluster, running migrations and jobs use it, and the next start adopts
  // it. The members drop this node's tunnel once they find it dead.
  mesh_.leave_up();
  control_socket_.reset();
}

const Ipv6Address& ClusterSession::mesh_address_of(const std::string& node_id) {
  auto found = mesh_addresses_.find(node_id);
  if (found != mesh_addresses_.end()) return found->second;
  Ipv6Address address = mesh_address(cluster_id_, node_id).value_or(Ipv6Address{});
  node_by_mesh_address_[address] = node_id;
  return mesh_addresses_.emplace(node_id, address).first->second;
}

std::optional<std::string> ClusterSession::node_of_mesh_address(const LanEndpoint& from) const {
  if (!from.ipv6) return std::nullopt;
  auto found = node_by_mesh_address_.find(from.address);
  if (found == node_by_mesh_address_.end()) return std::nullopt;
  return found->second;
}

void ClusterSession::learn_endpoint(const std::string& node_id, const LanEndpoint& lan_address,
                                    bool direct) {
  if (node_id == config_.node_id) return;
  LanEndpoint endpoint = lan_address;
  endpoint.port = kWireguardPort;
  KnownEndpoint& known = endpoints_[node_id];
  // A hint never overrides what the node itself told us.
  if (!direct && known.direct) return;
  known.endpoint = endpoint;
  known.direct = known.direct || direct;
  mesh_address_of(node_id);
}

void ClusterSession::log_rejected_record(RecordStatus status, const std::string& from) {
  log::warning("rejected record from " + from + ": " + std::string(to_string(status)));
}

void ClusterSession::on_service_found(const DiscoveredService& service, TimeMs now) {
  RecordDecodeResult decoded = membership_.on_txt_record(service.txt, now);
  const std::string from = "mDNS service \"" + service.name + "\" at " + service.address;
  if (decoded.status == RecordStatus::foreign_cluster) {
    // Remembered by the membership as foreign and logged once by log_member_changes.
  } else if (decoded.status != RecordStatus::ok) {
    log_rejected_record(decoded.status, from);
  } else if (auto address = parse_lan_address(service.address, kHelloPort)) {
    learn_endpoint(decoded.record.node_id, *address, true);
    // A node that is not a live member (new to us, or dead) also gets direct hellos until it
    // is: its mDNS cache may hold a stale record of ours (after our reboot), and its
    // WireGuard would then drop our handshakes.
    if (!was_live(decoded.record.node_id)) {
      auto target = hello_targets_.find(address->address_text());
      if (target == hello_targets_.end() && hello_targets_.size() < kMaxHelloTargets) {
        hello_targets_[address->address_text()] = {*address, "mdns", now, decoded.record.node_id,
                                                   now, now + kMdnsHelloWindowMs};
      } else if (target != hello_targets_.end() && target->second.origin == "mdns") {
        target->second.expires_at = now + kMdnsHelloWindowMs;
      }
    }
  }
  tick(now);
}

bool ClusterSession::was_live(const std::string& node_id) const {
  // What the last tick logged: a record never changes a member's state, so this is
  // its state before the record just handled.
  auto logged = logged_states_.find(node_id);
  return logged != logged_states_.end() && logged->second == MemberState::up;
}

bool ClusterSession::heard_over_mesh_since(const std::string& node_id, TimeMs since) const {
  auto heard = last_heard_.find(node_id);
  return heard != last_heard_.end() && heard->second >= since;
}

void ClusterSession::on_control_readable(TimeMs now) {
  if (!control_socket_) return;
  while (auto datagram = control_socket_->receive()) {
    if (datagram->truncated) {
      ++datagrams_truncated_;
      continue;
    }
    if (auto node = node_of_mesh_address(datagram->from)) last_heard_[*node] = now;
    membership_.on_datagram(datagram->bytes, now);
  }
  tick(now);
}

void ClusterSession::on_hello_readable(TimeMs now) {
  while (auto datagram = hello_socket_.receive()) {
    if (datagram->truncated) {
      ++hello_counts_["oversized"];
      continue;
    }
    handle_hello(*datagram, now);
  }
  tick(now);
}

void ClusterSession::handle_hello(const ReceivedDatagram& datagram, TimeMs now) {
  HelloDecodeResult decoded = decode_hello(datagram.bytes, control_key_);
  ++hello_counts_[std::string(to_string(decoded.status))];
  const std::string from = "hello from " + datagram.from.address_text();
  if (decoded.status == HelloStatus::bad_mac) {
    // Another cluster's node (shown as foreign) or a tampered datagram.
    RecordStatus status = membership_.on_txt_record(decoded.message.record_entries, now).status;
    if (status != RecordStatus::foreign_cluster) log::warning("rejected " + from + ": bad_mac");
    return;
  }
  if (decoded.status != HelloStatus::ok) {
    log::warning("rejected " + from + ": " + std::string(to_string(decoded.status)));
    return;
  }
  RecordDecodeResult record = membership_.on_txt_record(decoded.message.record_entries, now);
  if (record.status != RecordStatus::ok) {
    log_rejected_record(record.status, from);
    return;
  }
  if (record.record.node_id == config_.node_id) return;  // our own, e.g. a seed pointing at us
  learn_endpoint(record.record.node_id, datagram.from, true);
  for (const EndpointHint& hint : decoded.message.hints) {
    learn_endpoint(hint.node_id, hint.endpoint, false);
  }
  if (decoded.message.type == HelloType::hello) {
    LanEndpoint reply_to = datagram.from;
    send_hello(reply_to, HelloType::reply);
  }
}

std::vector<EndpointHint> ClusterSession::endpoint_hints() const {
  std::vector<EndpointHint> hints;
  for (const MemberInfo& member : membership_.members()) {
    if (member.state == MemberState::dead) continue;
    auto endpoint = endpoints_.find(member.node_id);
    if (endpoint != endpoints_.end()) hints.push_back({member.node_id, endpoint->second.endpoint});
  }
  return hints;
}

void ClusterSession::send_hello(const LanEndpoint& to, HelloType type) {
  HelloMessage message;
  message.type = type;
  message.record_entries = txt_record_;
  message.hints = endpoint_hints();
  std::vector<uint8_t> bytes = encode_hello(message, control_key_);
  if (bytes.empty() || !hello_socket_.send_to(to, bytes)) ++sends_failed_;
}

void ClusterSession::send_hellos(TimeMs now) {
  std::set<std::string> live_addresses;
  for (const MemberInfo& member : membership_.members()) {
    auto endpoint = endpoints_.find(member.node_id);
    if (member.state == MemberState::up && endpoint != endpoints_.end()) {
      live_addresses.insert(endpoint->second.endpoint.address_text());
    }
  }
  for (auto it = hello_targets_.begin(); it != hello_targets_.end();) {
    const HelloTarget& target = it->second;
    // Done once the node talks to us over the mesh: then it has our current record.
    bool done = false;
    if (target.origin == "mdns") {
      done = now >= target.expires_at || heard_over_mesh_since(target.node_id, target.found_at);
    } else if (target.origin == "lost") {
      // Not on a stray datagram: only once it is a live member again.
      done = now >= target.expires_at || was_live(target.node_id);
    }
    it = done ? hello_targets_.erase(it) : std::next(it);
  }
  for (auto& [address, target] : hello_targets_) {
    if (now < target.next_at) continue;
    send_hello(target.endpoint, HelloType::hello);
    int64_t retry = target.origin == "lost" ? kLostMemberHelloRetryMs : kHelloRetryMs;
    target.next_at = now + (live_addresses.count(address) ? kHelloRefreshMs : retry);
  }
}

void ClusterSession::reread_leases(TimeMs now) {
  if (config_.leases_path.empty() || now < next_leases_read_) return;
  next_leases_read_ = now + kLeasesRereadMs;
  std::ifstream file(config_.leases_path);
  if (!file) return;  // this node does not run the LAN's dnsmasq
  std::stringstream text;
  text << file.rdbuf();
  for (const DnsmasqLease& lease : parse_dnsmasq_leases(text.str()).leases) {
    auto endpoint = parse_lan_address(lease.address, kHelloPort);
    if (!endpoint || hello_targets_.count(endpoint->address_text())) continue;
    if (hello_targets_.size() >= kMaxHelloTargets) break;
    hello_targets_[endpoint->address_text()] = {*endpoint, "lease", now, "", 0, 0};
  }
}

void ClusterSession::flush_outgoing() {
  for (OutgoingDatagram& datagram : membership_.take_outgoing()) {
    if (!control_socket_) continue;
    const Ipv6Address& address = mesh_address_of(datagram.to_node_id);
    if (!control_socket_->send_to(mesh_endpoint(address, kControlPort), datagram.bytes)) {
      ++sends_failed_;  // no tunnel to it (yet): SWIM counts it as a lost datagram
    }
  }
}

void ClusterSession::sync_mesh_peers() {
  std::vector<MeshPeer> peers;
  for (const MemberInfo& member : mesh_peers(membership_.members())) {
    MeshPeer peer;
    peer.public_key = member.wireguard_public_key;
    peer.mesh_address = mesh_address_of(member.node_id);
    auto endpoint = endpoints_.find(member.node_id);
    if (endpoint != endpoints_.end()) peer.endpoint = endpoint->second.endpoint;
    peers.push_back(peer);
  }
  for (const std::string& error : mesh_.set_peers(peers)) log::warning("mesh: " + error);
}

void ClusterSession::hello_lost_member(const std::string& node_id, TimeMs now) {
  auto known = endpoints_.find(node_id);
  if (known == endpoints_.end()) return;
  LanEndpoint hello = known->second.endpoint;
  hello.port = kHelloPort;
  auto target = hello_targets_.find(hello.address_text());
  if (target != hello_targets_.end()) {
    target->second.expires_at = std::max(target->second.expires_at, now + kLostMemberHelloWindowMs);
    return;
  }
  if (hello_targets_.size() >= kMaxHelloTargets) return;
  hello_targets_[hello.address_text()] = {hello, "lost", now, node_id, now,
                                          now + kLostMemberHelloWindowMs};
}

void ClusterSession::log_member_changes(TimeMs now) {
  std::set<std::string> present;
  for (const MemberInfo& member : membership_.members()) {
    present.insert(member.node_id);
    auto logged = logged_states_.find(member.node_id);
    if (logged != logged_states_.end() && logged->second == member.state) continue;
    const std::string& id = member.node_id;
    if (logged == logged_states_.end()) {
      log::info("member " + id + " joined (" + state_name(member.state) + ")");
    } else if (member.state == MemberState::up) {
      log::info("member " + id + " is up again (was " + state_name(logged->second) + ")");
    } else if (member.state == MemberState::suspect) {
      log::warning("member " + id + " is suspected (missed probes)");
    } else {
      log::warning("member " + id + " is dead: it stopped answering, or left the cluster");
      hello_lost_member(id, now);
    }
    logged_states_[id] = member.state;
  }
  for (auto it = logged_states_.begin(); it != logged_states_.end();) {
    if (present.count(it->first)) {
      ++it;
      continue;
    }
    log::info("member " + it->first + " forgotten");
    endpoints_.erase(it->first);
    last_heard_.erase(it->first);
    it = logged_states_.erase(it);
  }
  for (const ForeignNode& foreign : membership_.foreign_nodes()) {
    const std::string key = foreign.cluster_id + "/" + foreign.node_id;
    if (foreign_logged_.insert(key).second) {
      log::warning("foreign node " + foreign.node_id + " of cluster " + foreign.cluster_id +
                   " seen; it is not joined");
    }
  }
  (void)now;
}

void ClusterSession::tick(TimeMs now) {
  if (!first_tick_at_) first_tick_at_ = now;
  if (now - *first_tick_at_ >= kAdoptedPeersGraceMs) mesh_.release_adopted_peers();
  membership_.tick(now);
  reread_leases(now);
  send_hellos(now);
  flush_outgoing();
  log_member_changes(now);
  sync_mesh_peers();
}

TimeMs ClusterSession::next_tick_due() const {
  TimeMs due = membership_.next_tick_due();
  for (const auto& [address, target] : hello_targets_) due = std::min(due, target.next_at);
  if (!config_.leases_path.empty()) due = std::min(due, next_leases_read_);
  return due;
}

void ClusterSession::set_load(uint16_t cores, uint32_t cpu_speed, uint32_t load_milli,
                              uint32_t free_mib) {
  membership_.set_local_load(cores, cpu_speed, load_milli, free_mib);
}

void ClusterSession::fill_status(api::StatusView& status, TimeMs now) {
  status.cluster_id = cluster_id_;
  status.secret_source = config_.secret_source;
  status.members_up = membership_.count_in_state(MemberState::up);
  status.members_suspect = membership_.count_in_state(MemberState::suspect);
  status.members_dead = membership_.count_in_state(MemberState::dead);
  status.foreign_nodes = membership_.foreign_nodes().size();

  api::MeshView& mesh = status.mesh;
  mesh.up = mesh_.is_up();
  mesh.interface = config_.mesh_interface;
  mesh.address = format_ipv6(own_mesh_address_);
  mesh.listen_port = kWireguardPort;
  mesh.public_key = wireguard_key_to_base64(wireguard_keys_->public_key);
  mesh.peers = mesh_.peer_count();
  mesh.error = mesh_error_;
  if (mesh_status_at_ < 0 || now - mesh_status_at_ >= kMeshStatusRefreshMs) {
    mesh_status_ = mesh_.peer_status();
    mesh_status_at_ = now;
  }
  const int64_t unix_now = static_cast<int64_t>(std::time(nullptr));
  for (const MeshPeerStatus& peer : mesh_status_) {
    if (peer.latest_handshake_unix > 0 &&
        unix_now - peer.latest_handshake_unix <= api::kRecentHandshakeSeconds) {
      ++mesh.peers_with_recent_handshake;
    }
  }

  const MembershipCounters& counters = membership_.counters();
  auto& out = status.counters;
  out["messages_sent"] = counters.messages_sent;
  out["bytes_sent"] = counters.bytes_sent;
  out["messages_accepted"] = counters.messages_accepted;
  out["bytes_received"] = counters.bytes_received;
  for (size_t i = 0; i < counters.datagrams_by_status.size(); ++i) {
    out["datagrams_" + std::string(to_string(static_cast<MessageStatus>(i)))] =
        counters.datagrams_by_status[i];
  }
  for (size_t i = 0; i < counters.records_by_status.size(); ++i) {
    out["records_" + std::string(to_string(static_cast<RecordStatus>(i)))] =
        counters.records_by_status[i];
  }
  out["records_replayed"] = counters.records_replayed;
  out["messages_replayed"] = counters.messages_replayed;
  out["messages_misaddressed"] = counters.messages_misaddressed;
  out["refutations"] = counters.refutations;
  out["datagrams_truncated"] = datagrams_truncated_;
  out["sends_failed"] = sends_failed_;
  for (const auto& [name, count] : hello_counts_) out["hellos_" + name] = count;
}

StorageDecision ClusterSession::storage_decision(bool pinned, bool serving, uint32_t epoch,
                                                 bool waited_long_enough) {
  std::map<std::string, LoadVector> loads;
  for (const LoadVector& load : membership_.load_vectors()) loads[load.node_id] = load;
  highest_storage_epoch_seen_ = std::max(highest_storage_epoch_seen(), epoch);

  std::vector<StorageCandidate> live = {{config_.node_id, pinned, serving, epoch}};
  // A member whose flags we have not heard yet might be serving: electing before we know
  // could start a second server and move the storage away from running jobs.
  bool all_flags_known = true;
  for (const MemberInfo& member : membership_.members()) {
    if (member.state == MemberState::dead) continue;
    auto load = loads.find(member.node_id);
    if (load == loads.end()) {
      all_flags_known = false;
      live.push_back({member.node_id, false, false, kNoStorageEpoch});
    } else {
      live.push_back({member.node_id, load->second.storage_pinned, load->second.serving_storage,
                      load->second.storage_epoch});
    }
  }
  // Not on the member table alone: nodes booted together need a few seconds to find each
  // other, and a node elected too early would serve only to stop again.
  bool settled = waited_long_enough && all_flags_known;
  return choose_storage(config_.node_id, live, settled, highest_storage_epoch_seen_);
}

uint32_t ClusterSession::highest_storage_epoch_seen() {
  // Dead members' loads too, while they are kept: the server this node lost counts, and the
  // member remembers it after they expire.
  for (const LoadVector& load : membership_.load_vectors()) {
    highest_storage_epoch_seen_ = std::max(highest_storage_epoch_seen_, load.storage_epoch);
  }
  return highest_storage_epoch_seen_;
}

void ClusterSession::set_storage_roles(bool pinned, bool serving, uint32_t epoch) {
  membership_.set_storage_roles(pinned, serving, epoch);
}

std::string ClusterSession::mesh_address_text(const std::string& node_id) {
  return format_ipv6(mesh_address_of(node_id));
}

std::string ClusterSession::mesh_prefix_text() const {
  Ipv6Address prefix{};
  std::copy(own_mesh_address_.begin(), own_mesh_address_.begin() + 6, prefix.begin());
  return format_ipv6(prefix) + "/48";
}

bool ClusterSession::mesh_up() const { return mesh_.is_up(); }

std::vector<api::NodeView> ClusterSession::node_views(TimeMs now, const api::NodeView& self_row) {
  std::map<std::string, LoadVector> loads;
  for (const LoadVector& load : membership_.load_vectors()) loads[load.node_id] = load;

  std::vector<api::NodeView> rows;
  api::NodeView self = self_row;
  self.addresses.push_back(format_ipv6(own_mesh_address_));
  rows.push_back(self);
  for (const MemberInfo& member : membership_.members()) {
    api::NodeView row;
    row.name = member.node_id;
    row.state = state_name(member.state);
    auto endpoint = endpoints_.find(member.node_id);
    if (endpoint != endpoints_.end()) {
      row.addresses.push_back(endpoint->second.endpoint.address_text());
    }
    row.addresses.push_back(format_ipv6(mesh_address_of(member.node_id)));
    auto load = loads.find(member.node_id);
    if (load != loads.end()) {
      row.cores = load->second.cores;
      row.cpu_speed = load->second.cpu_speed;
      row.load = load->second.load_milli / 1000.0;
      row.free_memory_mib = load->second.free_memory_mib;
    }
    auto heard = last_heard_.find(member.node_id);
    if (heard != last_heard_.end()) row.last_heard_ms_ago = now - heard->second;
    row.state_for_ms = now - member.state_since;
    rows.push_back(row);
  }
  for (const ForeignNode& foreign : membership_.foreign_nodes()) {
    api::NodeView row;
    row.name = foreign.node_id;
    row.state = "foreign";
    row.cluster_id = foreign.cluster_id;
    row.last_heard_ms_ago = now - foreign.last_seen;
    row.state_for_ms = 0;
    rows.push_back(row);
  }
  return rows;
}

}  // namespace clusterlive
