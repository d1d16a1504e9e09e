#include "core/membership.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <set>
#include <utility>

#include "core/membership_constants.h"

namespace clusterlive {

Membership::Membership(const ClusterSecret& secret, MembershipConfig config, RandomSource& random,
                       TimeMs now)
    : config_(std::move(config)),
      cluster_id_(secret.cluster_id()),
      record_key_(secret.record_mac_key()),
      control_key_(secret.control_mac_key()),
      random_(random),
      incarnation_(config_.initial_incarnation),
      next_sequence_(config_.initial_sequence),
      // Start probing after a random part of one period, so nodes booted
      // together do not probe in lock step.
      next_probe_at_(now + static_cast<TimeMs>(random.uniform(kProbeIntervalMs))) {
  // Announce ourselves: piggy-backed on our first messages, so whoever we
  // reach learns our key and passes it on.
  queue_.push(self_fact());
}

// --- Inputs -----------------------------------------------------------------

void Membership::tick(TimeMs now) {
  std::erase_if(relays_, [&](const Relay& relay) { return relay.expires_at <= now; });

  if (probe_ && !probe_->acked && !probe_->indirect_sent &&
      now >= probe_->started_at + kProbeTimeoutMs) {
    send_indirect_probes(now);
  }
  if (probe_ && now >= probe_->started_at + kProbeIntervalMs) {
    // End of the period: no ack, direct or indirect, means suspect.
    if (!probe_->acked) {
      auto found = members_.find(probe_->target);
      if (found != members_.end() && found->second.state == MemberState::up) {
        apply_update({probe_->target, MemberState::suspect, found->second.incarnation, {}}, now);
      }
    }
    probe_.reset();
  }
  if (now >= next_probe_at_) {
    sync_replies_this_period_ = 0;
    start_probe(now);
    ping_a_dead_member(now);
    // A newcomer asks its first contacts for the whole table, so reaching
    // one member is enough to know them all.
    if (!synced_ && probe_ && now >= next_sync_request_at_) {
      send(MessageType::sync_request, probe_->target, 0, "", now);
      next_sync_request_at_ = now + kSyncRequestIntervalMs;
    }
    next_probe_at_ += kProbeIntervalMs;
    if (next_probe_at_ <= now) next_probe_at_ = now + kProbeIntervalMs;  // we were not ticked
  }
  expire_suspects(now);
  forget_old_dead(now);
  std::erase_if(foreign_, [&](const auto& entry) {
    return now - entry.second.last_seen > kForeignRetentionMs;
  });
}

TimeMs Membership::next_tick_due() const {
  TimeMs due = next_probe_at_;
  if (probe_ && !probe_->acked && !probe_->indirect_sent) {
    due = std::min(due, probe_->started_at + kProbeTimeoutMs);
  }
  // Suspicion timeouts and expiry need no precision finer than a period.
  return due;
}

void Membership::on_datagram(std::span<const uint8_t> bytes, TimeMs now) {
  counters_.bytes_received += bytes.size();
  MessageDecodeResult decoded = decode_wire_message(bytes, control_key_);
  ++counters_.datagrams_by_status[static_cast<size_t>(decoded.status)];
  if (decoded.status != MessageStatus::ok) return;
  const WireMessage& message = decoded.message;

  if (message.recipient_id != config_.self_id || message.sender_id == config_.self_id) {
    ++counters_.messages_misaddressed;
    return;
  }
  auto window = replay_windows_.find(message.sender_id);
  if (window == replay_windows_.end()) {
    if (replay_windows_.size() >= kMaxMembers) {
      ++counters_.members_refused_table_full;
      return;
    }
    window = replay_windows_.emplace(message.sender_id, ReplayWindow{}).first;
  }
  if (!window->second.accept(message.sequence)) {
    ++counters_.messages_replayed;
    return;
  }
  ++counters_.messages_accepted;

  const bool spread = message.type != MessageType::sync;
  for (const MemberUpdate& update : message.updates) apply_update(update, now, spread);
  const bool accused =
      std::any_of(message.updates.begin(), message.updates.end(), [&](const MemberUpdate& u) {
        return u.node_id == config_.self_id && u.state != MemberState::up;
      });
  for (const LoadVector& load : message.loads) {
    auto found = members_.find(load.node_id);
    // Only members' loads: a balancer must never pick a node it cannot reach.
    if (found != members_.end() && found->second.state != MemberState::dead) {
      loads_.update(load, now);
    }
  }

  switch (message.type) {
    case MessageType::ping:
      send(MessageType::ack, message.sender_id, message.sequence, config_.self_id, now, accused);
      break;
    case MessageType::ping_req:
      if (message.subject_id == config_.self_id || message.subject_id == message.sender_id) {
        send(MessageType::ack, message.sender_id, message.sequence, config_.self_id, now, accused);
      } else if (message.subject_id.empty() || relays_.size() >= kMaxPendingRelays) {
        ++counters_.relays_refused;
      } else {
        uint64_t our_ping = send(MessageType::ping, message.subject_id, 0, "", now);
        relays_.push_back(Relay{our_ping, message.sender_id, message.sequence, message.subject_id,
                                now + kRelayTimeoutMs});
      }
      break;
    case MessageType::sync_request:
      if (sync_replies_this_period_ >= kMaxSyncRepliesPerPeriod) {
        ++counters_.sync_requests_refused;
      } else {
        ++sync_replies_this_period_;
        send_member_table(message.sender_id, now);
      }
      break;
    case MessageType::sync:
      // Its facts were applied above. Datagrams of a table can be lost:
      // until we know as many members as the table had, ask again next
      // period (someone else, as the probe target changes).
      sync_table_size_ = std::max(sync_table_size_, message.reply_to);
      if (members_.size() + 1 >= sync_table_size_) synced_ = true;
      break;
    case MessageType::ack:
      handle_ack(message);
      if (!relays_.empty()) {
        auto relay = std::find_if(relays_.begin(), relays_.end(), [&](const Relay& r) {
          return r.our_ping_sequence == message.reply_to && r.target == message.sender_id;
        });
        if (relay != relays_.end()) {
          send(MessageType::ack, relay->requester, relay->requester_sequence, relay->target, now);
          relays_.erase(relay);
        }
      }
      break;
  }
}

void Membership::handle_ack(const WireMessage& message) {
  if (!probe_ || probe_->acked || message.subject_id != probe_->target) return;
  bool answers_ping =
      message.reply_to == probe_->ping_sequence && message.sender_id == probe_->target;
  bool answers_ping_req =
      std::find(probe_->ping_req_sequences.begin(), probe_->ping_req_sequences.end(),
                message.reply_to) != probe_->ping_req_sequences.end();
  if (answers_ping || answers_ping_req) probe_->acked = true;
}

void Membership::send_member_table(const std::string& requester, TimeMs now) {
  // "up" facts for every live member whose key we know, plus ourselves,
  // packed into sync datagrams.
  std::vector<MemberUpdate> facts;
  facts.push_back(self_fact());
  for (const auto& [id, member] : members_) {
    if (id == requester || member.state != MemberState::up || !member.wireguard_key_known) {
      continue;
    }
    facts.push_back(fact_about(id, member));
  }
  WireMessage message;
  message.type = MessageType::sync;
  message.sender_id = config_.self_id;
  message.recipient_id = requester;
  message.reply_to = facts.size() + 1;  // + the requester: the cluster's size
  size_t next = 0;
  for (size_t datagram = 0; datagram < kMaxSyncDatagramsPerRequest && next < facts.size();
       ++datagram) {
    message.sequence = next_sequence_++;
    message.updates.clear();
    size_t used = encoded_base_size(message);
    while (next < facts.size() && message.updates.size() < kMaxUpdatesPerMessage &&
           used + encoded_update_size(facts[next]) <= kMaxMessageBytes) {
      used += encoded_update_size(facts[next]);
      message.updates.push_back(facts[next++]);
    }
    std::vector<uint8_t> bytes = encode_wire_message(message, control_key_);
    if (bytes.empty()) break;
    ++counters_.messages_sent;
    counters_.bytes_sent += bytes.size();
    outgoing_.push_back({requester, std::move(bytes)});
  }
  (void)now;
}

RecordDecodeResult Membership::on_txt_record(const std::vector<std::string>& entries,
                                             TimeMs now) {
  RecordDecodeResult decoded = decode_txt_record(entries, cluster_id_, record_key_);
  ++counters_.records_by_status[static_cast<size_t>(decoded.status)];
  if (decoded.status == RecordStatus::ok) {
    on_verified_record(decoded.record, now);
  } else if (decoded.status == RecordStatus::foreign_cluster) {
    remember_foreign(decoded.record, now);
  }
  return decoded;
}

bool Membership::on_verified_record(const NodeRecord& record, TimeMs now) {
  if (record.node_id == config_.self_id) return true;  // our own, looped back by avahi
  auto found = members_.find(record.node_id);
  if (found == members_.end()) {
    if (members_.size() >= kMaxMembers) {
      ++counters_.members_refused_table_full;
      return true;
    }
    Member member;
    member.state = MemberState::up;
    member.incarnation = 0;  // the node's own gossip carries its real one
    member.state_since = now;
    found = members_.emplace(record.node_id, member).first;
  } else if (found->second.has_record) {
    if (record.counter < found->second.record_counter) {
      ++counters_.records_replayed;
      return false;
    }
    if (record.counter == found->second.record_counter) return true;  // re-announcement
  }
  // A record does not change the state: only SWIM decides up / suspect /
  // dead, so a stale mDNS cache cannot revive a crashed node.
  Member& member = found->second;
  member.has_record = true;
  member.record_counter = record.counter;
  member.capabilities = record.capabilities;
  member.wireguard_public_key = record.wireguard_public_key;
  member.wireguard_key_known = true;
  return true;
}

void Membership::set_local_load(uint16_t cores, uint32_t cpu_speed, uint32_t load_milli,
                                uint32_t free_memory_mib) {
  uint64_t stamp = own_load_ ? own_load_->stamp + 1 : config_.initial_sequence;
  own_load_ = LoadVector{config_.self_id, stamp,           cores,           cpu_speed,
                         load_milli,        free_memory_mib, storage_pinned_, serving_storage_,
                         storage_epoch_};
}

void Membership::set_storage_roles(bool pinned, bool serving, uint32_t epoch) {
  if (pinned == storage_pinned_ && serving == serving_storage_ && epoch == storage_epoch_) return;
  storage_pinned_ = pinned;
  serving_storage_ = serving;
  storage_epoch_ = epoch;
  if (own_load_) {
    own_load_->stamp += 1;  // newest wins: peers replace what they knew of our roles
    own_load_->storage_pinned = pinned;
    own_load_->serving_storage = serving;
    own_load_->storage_epoch = epoch;
  }
}

std::vector<OutgoingDatagram> Membership::take_outgoing() {
  std::vector<OutgoingDatagram> taken;
  taken.swap(outgoing_);
  return taken;
}

// --- SWIM state rules ---------------------------------------------------------

void Membership::apply_update(const MemberUpdate& update, TimeMs now, bool spread) {
  if (update.node_id == config_.self_id) {
    if (update.state != MemberState::up) refute(update.incarnation);
    return;
  }
  auto found = members_.find(update.node_id);
  if (found == members_.end()) {
    // Only an "up" rumour adds a node: it carries the key to reach it.
    if (update.state != MemberState::up) return;
    if (members_.size() >= kMaxMembers) {
      ++counters_.members_refused_table_full;
      return;
    }
    Member member;
    member.wireguard_public_key = update.wireguard_public_key;
    member.wireguard_key_known = true;
    found = members_.emplace(update.node_id, member).first;
    set_state(update.node_id, found->second, MemberState::up, update.incarnation, now, false);
    if (spread) gossip_about(update.node_id, found->second);  // a new member is news
    return;
  }

  Member& member = found->second;
  switch (update.state) {
    case MemberState::up:
      // Up overrides anything only with a newer incarnation (refutation).
      if (update.incarnation > member.incarnation) {
        member.wireguard_public_key = update.wireguard_public_key;
        member.wireguard_key_known = true;
        set_state(update.node_id, member, MemberState::up, update.incarnation, now, spread);
      }
      break;
    case MemberState::suspect:
      if ((member.state == MemberState::up && update.incarnation >= member.incarnation) ||
          (member.state == MemberState::suspect && update.incarnation > member.incarnation)) {
        set_state(update.node_id, member, MemberState::suspect, update.incarnation, now, spread);
      }
      break;
    case MemberState::dead:
      if (member.state != MemberState::dead && update.incarnation >= member.incarnation) {
        set_state(update.node_id, member, MemberState::dead, update.incarnation, now, spread);
      }
      break;
  }
}

void Membership::refute(uint64_t rumoured_incarnation) {
  // A rumour at our incarnation or above needs a higher one to be beaten.
  // One below it (from a node that knew us only from our mDNS record, at
  // incarnation 0) is beaten by announcing the current one again.
  if (rumoured_incarnation >= incarnation_) {
    // Saturate: a rumour at UINT64_MAX (only a buggy or hostile member can
    // send one; real incarnations start at wall-clock ms) cannot be beaten,
    // but wrapping to 0 would make us older than every rumour about us.
    // Found by fuzz/fuzz_membership.
    incarnation_ = rumoured_incarnation == UINT64_MAX ? UINT64_MAX : rumoured_incarnation + 1;
  }
  ++counters_.refutations;
  queue_.push(self_fact());
}

void Membership::set_state(const std::string& node_id, Member& member, MemberState state,
                           uint64_t incarnation, TimeMs now, bool spread) {
  bool state_changed = member.state != state;
  member.state = state;
  member.incarnation = incarnation;
  if (state_changed || state == MemberState::suspect) member.state_since = now;

  suspects_.erase(node_id);
  dead_.erase(node_id);
  if (state == MemberState::suspect) suspects_.insert(node_id);
  if (state == MemberState::dead) {
    dead_.insert(node_id);
    loads_.remove(node_id);
    if (probe_ && probe_->target == node_id) probe_.reset();
  }
  // A higher incarnation of a node we already saw up is news only to us
  // (typically: we knew it from its mDNS record, incarnation 0); every node
  // that saw it suspect re-gossips the change itself. Re-gossiping would
  // make n rumours per node when a whole room boots at once.
  if (spread && (state_changed || state != MemberState::up)) gossip_about(node_id, member);
}

MemberUpdate Membership::self_fact() const {
  return {config_.self_id, MemberState::up, incarnation_, config_.self_wireguard_key};
}

MemberUpdate Membership::fact_about(const std::string& node_id, const Member& member) {
  return {node_id, member.state, member.incarnation, member.wireguard_public_key};
}

void Membership::gossip_about(const std::string& node_id, const Member& member) {
  queue_.push(fact_about(node_id, member));
}

// --- Probing -------------------------------------------------------------------

std::optional<std::string> Membership::next_probe_target() {
  // Round robin over a shuffled list bounds the time until every member is
  // probed (SWIM section 4.3); members that died meanwhile are skipped.
  for (int pass = 0; pass < 2; ++pass) {
    while (probe_index_ < probe_order_.size()) {
      const std::string& candidate = probe_order_[probe_index_++];
      auto found = members_.find(candidate);
      if (found != members_.end() && found->second.state != MemberState::dead) return candidate;
    }
    probe_order_.clear();
    probe_index_ = 0;
    for (const auto& [id, member] : members_) {
      if (member.state != MemberState::dead) probe_order_.push_back(id);
    }
    for (size_t i = probe_order_.size(); i > 1; --i) {
      std::swap(probe_order_[i - 1], probe_order_[random_.uniform(i)]);
    }
  }
  return std::nullopt;
}

void Membership::start_probe(TimeMs now) {
  std::optional<std::string> target = next_probe_target();
  if (!target) return;
  Probe probe;
  probe.target = *target;
  probe.started_at = now;
  probe.ping_sequence = send(MessageType::ping, *target, 0, "", now);
  probe_ = std::move(probe);
}

void Membership::ping_a_dead_member(TimeMs now) {
  // Gossip to the dead (as memberlist does): one random member held dead,
  // not yet forgotten, gets a ping each period. send() puts the news of its
  // death first, so a live one refutes in its ack; a crashed one costs a
  // datagram per period for kDeadRetentionMs.
  if (dead_.empty()) return;
  auto pick = std::next(dead_.begin(), static_cast<std::ptrdiff_t>(random_.uniform(dead_.size())));
  std::string target = *pick;
  send(MessageType::ping, target, 0, "", now);
}

void Membership::send_indirect_probes(TimeMs now) {
  probe_->indirect_sent = true;
  // Random helpers that are up, drawn from the probe list (all live
  // members) so picking costs O(k), not O(n).
  std::vector<std::string> helpers;
  const size_t attempts = kIndirectProbeCount * 4;
  for (size_t i = 0; i < attempts && helpers.size() < kIndirectProbeCount; ++i) {
    if (probe_order_.empty()) break;
    const std::string& candidate = probe_order_[random_.uniform(probe_order_.size())];
    if (candidate == probe_->target) continue;
    if (std::find(helpers.begin(), helpers.end(), candidate) != helpers.end()) continue;
    auto found = members_.find(candidate);
    if (found == members_.end() || found->second.state != MemberState::up) continue;
    helpers.push_back(candidate);
  }
  for (const std::string& helper : helpers) {
    std::string target = probe_->target;  // send() may not touch probe_, but be explicit
    probe_->ping_req_sequences.push_back(send(MessageType::ping_req, helper, 0, target, now));
  }
}

void Membership::expire_suspects(TimeMs now) {
  if (suspects_.empty()) return;
  const TimeMs timeout = suspicion_timeout_ms();
  std::vector<std::string> expired;
  for (const std::string& id : suspects_) {
    if (now - members_.at(id).state_since >= timeout) expired.push_back(id);
  }
  for (const std::string& id : expired) {
    Member& member = members_.at(id);
    set_state(id, member, MemberState::dead, member.incarnation, now);
  }
}

void Membership::forget_old_dead(TimeMs now) {
  std::vector<std::string> forgotten;
  for (const std::string& id : dead_) {
    if (now - members_.at(id).state_since >= kDeadRetentionMs) forgotten.push_back(id);
  }
  for (const std::string& id : forgotten) {
    dead_.erase(id);
    members_.erase(id);
    replay_windows_.erase(id);
    queue_.remove(id);
  }
}

void Membership::remember_foreign(const NodeRecord& record, TimeMs now) {
  std::string key = record.cluster_id + "/" + record.node_id;
  auto found = foreign_.find(key);
  if (found == foreign_.end() && foreign_.size() >= kMaxForeignNodes) return;
  foreign_[key] = ForeignNode{record.cluster_id, record.node_id, now};
}

// --- Sending -------------------------------------------------------------------

uint64_t Membership::send(MessageType type, const std::string& recipient, uint64_t reply_to,
                          const std::string& subject, TimeMs now, bool lead_with_self) {
  WireMessage message;
  message.type = type;
  message.sender_id = config_.self_id;
  message.recipient_id = recipient;
  message.sequence = next_sequence_++;
  message.reply_to = reply_to;
  message.subject_id = subject;

  if (own_load_) message.loads.push_back(*own_load_);
  for (LoadVector& load :
       loads_.freshest(kLoadWindowEntries - message.loads.size(), now, recipient)) {
    message.loads.push_back(std::move(load));
  }
  size_t used = encoded_base_size(message);
  for (const LoadVector& load : message.loads) used += encoded_load_size(load);
  if (lead_with_self) {
    message.updates.push_back(self_fact());
    used += encoded_update_size(message.updates.back());
  }
  auto recipient_member = members_.find(recipient);
  const bool recipient_held_dead =
      recipient_member != members_.end() && recipient_member->second.state == MemberState::dead;
  if (recipient_held_dead) {
    // It must learn it is held dead to refute; the queue may have spent
    // that rumour while the recipient was out of reach. The queue's rumours
    // are not spent on it: it is most likely really dead, and each rumour
    // is sent only a few times.
    message.updates.push_back(fact_about(recipient, recipient_member->second));
    used += encoded_update_size(message.updates.back());
  } else {
    std::vector<MemberUpdate> queued =
        queue_.take_for_message(kMaxMessageBytes - used,
                                kMaxUpdatesPerMessage - message.updates.size(), retransmit_limit());
    for (MemberUpdate& update : queued) {
      used += encoded_update_size(update);
      message.updates.push_back(std::move(update));
    }
  }
  add_anti_entropy_facts(message, used);

  std::vector<uint8_t> bytes = encode_wire_message(message, control_key_);
  if (!bytes.empty()) {
    ++counters_.messages_sent;
    counters_.bytes_sent += bytes.size();
    outgoing_.push_back({recipient, std::move(bytes)});
  }
  return message.sequence;
}

void Membership::add_anti_entropy_facts(WireMessage& message, size_t used_bytes) {
  auto already_included = [&](const std::string& id) {
    return std::any_of(message.updates.begin(), message.updates.end(),
                       [&](const MemberUpdate& u) { return u.node_id == id; });
  };
  // Candidates: the probe list (every live member) plus ourselves.
  const size_t candidates = probe_order_.size() + 1;
  for (size_t added = 0, attempt = 0;
       added < kAntiEntropyUpdatesPerMessage && attempt < kAntiEntropyUpdatesPerMessage * 2 &&
       message.updates.size() < kMaxUpdatesPerMessage;
       ++attempt) {
    size_t pick = random_.uniform(candidates);
    MemberUpdate fact;
    if (pick == probe_order_.size()) {
      fact = self_fact();
    } else {
      const std::string& id = probe_order_[pick];
      auto found = members_.find(id);
      if (found == members_.end() || found->second.state != MemberState::up ||
          !found->second.wireguard_key_known) {
        continue;
      }
      fact = fact_about(id, found->second);
    }
    if (fact.node_id == message.recipient_id || already_included(fact.node_id)) continue;
    size_t size = encoded_update_size(fact);
    if (used_bytes + size > kMaxMessageBytes) break;
    used_bytes += size;
    message.updates.push_back(std::move(fact));
    ++added;
  }
}

size_t Membership::live_member_count() const { return members_.size() - dead_.size() + 1; }

int Membership::retransmit_limit() const {
  double n = static_cast<double>(live_member_count());
  return kRetransmitMultiplier * static_cast<int>(std::ceil(std::log10(n + 1.0)));
}

TimeMs Membership::suspicion_timeout_ms() const {
  double n = static_cast<double>(live_member_count());
  double periods = kSuspicionMultiplier * std::max(1.0, std::log10(n));
  return static_cast<TimeMs>(periods * kProbeIntervalMs);
}

// --- Views -----------------------------------------------------------------------

std::vector<MemberInfo> mesh_peers(const std::vector<MemberInfo>& members) {
  // A member held dead stays a peer until it is forgotten: if it is in fact
  // alive (a healed partition, a stalled guest), it must be able to hear that
  // it was declared dead and refute, and we must hear the refutation. Out of
  // the mesh it could do neither, and each side would keep re-declaring the
  // other dead as their forget timers ran out of step.
  // But a node renamed and restarted keeps its per-boot key: its old name,
  // held dead, must not take the live name's peer (one peer per key).
  std::set<WireguardKey> live_keys;
  for (const MemberInfo& member : members) {
    if (member.state != MemberState::dead) live_keys.insert(member.wireguard_public_key);
  }
  std::vector<MemberInfo> peers;
  for (const MemberInfo& member : members) {
    if (!member.wireguard_key_known) continue;
    if (member.state == MemberState::dead && live_keys.count(member.wireguard_public_key)) continue;
    peers.push_back(member);
  }
  return peers;
}

std::vector<MemberInfo> Membership::members() const {
  std::vector<MemberInfo> infos;
  infos.reserve(members_.size());
  for (const auto& [id, member] : members_) infos.push_back(to_info(id, member));
  return infos;
}

std::optional<MemberInfo> Membership::member(const std::string& node_id) const {
  auto found = members_.find(node_id);
  if (found == members_.end()) return std::nullopt;
  return to_info(node_id, found->second);
}

MemberInfo Membership::to_info(const std::string& node_id, const Member& member) {
  MemberInfo info;
  info.node_id = node_id;
  info.state = member.state;
  info.incarnation = member.incarnation;
  info.wireguard_key_known = member.wireguard_key_known;
  info.wireguard_public_key = member.wireguard_public_key;
  info.capabilities = member.capabilities;
  info.state_since = member.state_since;
  info.record_counter = member.has_record ? member.record_counter : 0;
  return info;
}

size_t Membership::count_in_state(MemberState state) const {
  switch (state) {
    case MemberState::suspect:
      return suspects_.size();
    case MemberState::dead:
      return dead_.size();
    case MemberState::up:
      return members_.size() - suspects_.size() - dead_.size();
  }
  return 0;
}

std::vector<ForeignNode> Membership::foreign_nodes() const {
  std::vector<ForeignNode> nodes;
  for (const auto& [key, node] : foreign_) nodes.push_back(node);
  return nodes;
}

std::vector<LoadVector> Membership::load_vectors() const {
  std::vector<LoadVector> all = loads_.all();
  if (own_load_) all.insert(all.begin(), *own_load_);
  return all;
}

}  // namespace clusterlive
