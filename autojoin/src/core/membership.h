// SWIM-style membership: failure detection by probing with suspicion,
// updates and load vectors piggy-backed on the probe traffic.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "core/cluster_secret.h"
#include "core/dissemination_queue.h"
#include "core/load_table.h"
#include "core/node_record.h"
#include "core/random_source.h"
#include "core/replay_window.h"
#include "core/wire_message.h"

namespace clusterlive {

struct MembershipConfig {
  std::string self_id;  ///< our node id, e.g. "node-3a9f01"
  WireguardKey self_wireguard_key{};
  /// Our starting incarnation. The daemon passes wall-clock milliseconds at
  /// start, so a rebooted node outranks whatever was gossiped about its
  /// previous life (the live system keeps no state across reboots).
  uint64_t initial_incarnation = 1;
  /// First sequence number of our messages; the daemon passes wall-clock
  /// microseconds at start so peers' replay windows accept us after a reboot.
  uint64_t initial_sequence = 1;
};

/// What we know about one member.
struct MemberInfo {
  std::string node_id;
  MemberState state = MemberState::up;
  uint64_t incarnation = 0;
  bool wireguard_key_known = false;
  WireguardKey wireguard_public_key{};
  std::vector<std::string> capabilities;  ///< from its mDNS record, if seen
  TimeMs state_since = 0;                 ///< when it entered `state`
  /// Counter of the newest authenticated record seen (0: none yet).
  uint64_t record_counter = 0;
};

/// The members the mesh keeps as WireGuard peers, of `members` (Membership::members()).
std::vector<MemberInfo> mesh_peers(const std::vector<MemberInfo>& members);

/// A node of another cluster seen on the LAN: shown, never joined.
struct ForeignNode {
  std::string cluster_id;
  std::string node_id;
  TimeMs last_seen = 0;
};

/// Everything dropped or notable, for `clusterlive status` and tests.
struct MembershipCounters {
  uint64_t messages_sent = 0;
  uint64_t bytes_sent = 0;
  uint64_t messages_accepted = 0;
  uint64_t bytes_received = 0;
  /// Indexed by MessageStatus: how many datagrams ended with each status.
  std::array<uint64_t, 6> datagrams_by_status{};
  uint64_t messages_replayed = 0;
  uint64_t messages_misaddressed = 0;  ///< not for us, or claiming to be from us
  /// Indexed by RecordStatus: how many TXT records ended with each status.
  std::array<uint64_t, 6> records_by_status{};
  uint64_t records_replayed = 0;  ///< authentic but older counter than accepted
  uint64_t members_refused_table_full = 0;
  uint64_t relays_refused = 0;
  uint64_t refutations = 0;            ///< times we raised our incarnation to deny a rumour
  uint64_t sync_requests_refused = 0;  ///< over kMaxSyncRepliesPerPeriod
};

/// A datagram for the transport to send to `to_node_id` over the mesh.
struct OutgoingDatagram {
  std::string to_node_id;
  std::vector<uint8_t> bytes;
};

/// The membership protocol of one node. Does no I/O: the caller delivers
/// datagrams and TXT records, calls tick() with the time, and sends what
/// take_outgoing() returns. Not thread-safe; one event loop owns it.
class Membership {
 public:
  /// `random` must outlive this object.
  Membership(const ClusterSecret& secret, MembershipConfig config, RandomSource& random,
             TimeMs now);

  /// Advances timers to `now`: starts probes, escalates to indirect probes,
  /// suspects and declares members dead, forgets old state. Call at least
  /// every kProbeTimeoutMs / 3 or at next_tick_due().
  void tick(TimeMs now);
  /// Latest time by which tick() should be called again.
  TimeMs next_tick_due() const;

  /// Handles one datagram from the mesh. Bad input is counted and dropped.
  void on_datagram(std::span<const uint8_t> bytes, TimeMs now);

  /// Handles one mDNS TXT record of _clusterlive._tcp (raw entries).
  /// Returns the decoded record and its status; an authentic record with an
  /// old counter returns ok but is counted in records_replayed and changes nothing.
  RecordDecodeResult on_txt_record(const std::vector<std::string>& entries, TimeMs now);

  /// Takes a record already decoded and authenticated. Adds an unknown node
  /// as up, refreshes a known one. False if it is a replay (old counter).
  bool on_verified_record(const NodeRecord& record, TimeMs now);

  /// Sets our own load figures, gossiped from now on.
  void set_local_load(uint16_t cores, uint32_t cpu_speed, uint32_t load_milli,
                      uint32_t free_memory_mib);

  /// Sets our storage roles, gossiped with our load from now on (a change is sent as a new
  /// load vector at once, not at the next measurement).
  /// `epoch`: the store's epoch while serving (storage_choice.h), else kNoStorageEpoch.
  void set_storage_roles(bool pinned, bool serving, uint32_t epoch);

  /// Moves out the datagrams queued since the last call.
  std::vector<OutgoingDatagram> take_outgoing();

  /// Every member we know (not us), ordered by node id.
  std::vector<MemberInfo> members() const;
  /// One member, if known.
  std::optional<MemberInfo> member(const std::string& node_id) const;
  /// True once a member table from another node has been received whole.
  bool synced() const { return synced_; }
  /// Number of members (not us) in `state`.
  size_t count_in_state(MemberState state) const;
  /// Foreign-cluster nodes seen recently.
  std::vector<ForeignNode> foreign_nodes() const;
  /// Our own load vector (if set) and every other known one.
  std::vector<LoadVector> load_vectors() const;

  const std::string& self_id() const { return config_.self_id; }
  uint64_t incarnation() const { return incarnation_; }
  const MembershipCounters& counters() const { return counters_; }

 private:
  struct Member {
    MemberState state = MemberState::up;
    uint64_t incarnation = 0;
    bool wireguard_key_known = false;
    WireguardKey wireguard_public_key{};
    std::vector<std::string> capabilities;
    bool has_record = false;
    uint64_t record_counter = 0;
    TimeMs state_since = 0;
  };
  struct Probe {
    std::string target;
    uint64_t ping_sequence = 0;
    std::vector<uint64_t> ping_req_sequences;
    TimeMs started_at = 0;
    bool indirect_sent = false;
    bool acked = false;
  };
  struct Relay {  // an indirect probe we run for another node
    uint64_t our_ping_sequence = 0;
    std::string requester;
    uint64_t requester_sequence = 0;
    std::string target;
    TimeMs expires_at = 0;
  };

  /// `spread`: re-gossip what changed. False for a member table (sync),
  /// whose facts are old news to everybody but the newcomer.
  void apply_update(const MemberUpdate& update, TimeMs now, bool spread = true);
  void refute(uint64_t rumoured_incarnation);
  void set_state(const std::string& node_id, Member& member, MemberState state,
                 uint64_t incarnation, TimeMs now, bool spread = true);
  void gossip_about(const std::string& node_id, const Member& member);
  /// "We are up" at our incarnation: announced, refuted with, sent whole.
  MemberUpdate self_fact() const;
  /// What we hold of `member` (its state and incarnation), as an update.
  static MemberUpdate fact_about(const std::string& node_id, const Member& member);
  void handle_ack(const WireMessage& message);
  void send_member_table(const std::string& requester, TimeMs now);

  void start_probe(TimeMs now);
  void ping_a_dead_member(TimeMs now);
  void send_indirect_probes(TimeMs now);
  std::optional<std::string> next_probe_target();
  void expire_suspects(TimeMs now);
  void forget_old_dead(TimeMs now);
  void remember_foreign(const NodeRecord& record, TimeMs now);
  static MemberInfo to_info(const std::string& node_id, const Member& member);

  /// `lead_with_self`: our own "up" fact goes first (a reply to whoever
  /// told us we were suspect or dead, so the refutation cannot wait in the queue).
  uint64_t send(MessageType type, const std::string& recipient, uint64_t reply_to,
                const std::string& subject, TimeMs now, bool lead_with_self = false);

  void add_anti_entropy_facts(WireMessage& message, size_t used_bytes);
  size_t live_member_count() const;  // up + suspect, plus us
  int retransmit_limit() const;
  TimeMs suspicion_timeout_ms() const;

  MembershipConfig config_;
  std::string cluster_id_;
  MacKey record_key_;
  MacKey control_key_;
  RandomSource& random_;

  uint64_t incarnation_;
  uint64_t next_sequence_;
  std::optional<LoadVector> own_load_;
  bool storage_pinned_ = false;
  bool serving_storage_ = false;
  uint32_t storage_epoch_ = 0;

  std::map<std::string, Member> members_;
  std::set<std::string> suspects_;
  std::set<std::string> dead_;
  std::map<std::string, ReplayWindow> replay_windows_;
  std::map<std::string, ForeignNode> foreign_;  // key: cluster id + "/" + node id
  DisseminationQueue queue_;
  LoadTable loads_;

  std::vector<std::string> probe_order_;  // shuffled round robin (SWIM 4.3)
  size_t probe_index_ = 0;
  std::optional<Probe> probe_;
  TimeMs next_probe_at_;
  std::vector<Relay> relays_;
  bool synced_ = false;           // know at least as many members as a sync said
  uint64_t sync_table_size_ = 0;  // largest table size a sync announced
  TimeMs next_sync_request_at_ = 0;
  size_t sync_replies_this_period_ = 0;

  std::vector<OutgoingDatagram> outgoing_;
  MembershipCounters counters_;
};

}  // namespace clusterlive
