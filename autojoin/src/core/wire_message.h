// Binary codec of node-to-node control messages (SWIM ping / ack /
// ping-req with piggy-backed membership updates and load vectors).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/mac.h"
#include "core/membership_constants.h"
#include "core/node_record.h"

namespace clusterlive {

enum class MessageType : uint8_t {
  ping = 1,          ///< "are you alive?"; answered by an ack
  ack = 2,           ///< "subject is alive", answering sequence `reply_to`
  ping_req = 3,      ///< "please ping subject for me" (indirect probe)
  sync_request = 4,  ///< a newcomer asks for the member table (once it reached a member)
  sync = 5,          ///< one part of the member table, as "up" updates
};

/// A member's state as gossiped. (Foreign nodes are never gossiped.)
enum class MemberState : uint8_t {
  up = 1,
  suspect = 2,
  dead = 3,
};

/// "node_id is in `state` at `incarnation`". Higher incarnations win;
/// only the node itself raises its incarnation (to refute a suspicion).
struct MemberUpdate {
  std::string node_id;
  MemberState state = MemberState::up;
  uint64_t incarnation = 0;
  /// Carried only with state up, so a member learns how to reach a node
  /// from any member that knows it (reaching one member is enough).
  WireguardKey wireguard_public_key{};

  bool operator==(const MemberUpdate&) const = default;
};

/// One node's load figures, as openMosix gossiped them.
struct LoadVector {
  std::string node_id;
  uint64_t stamp = 0;            ///< raised by the origin on each measurement; newest wins
  uint16_t cores = 0;            ///< online CPU cores
  uint32_t cpu_speed = 0;        ///< relative speed per core (e.g. MHz-equivalent)
  uint32_t load_milli = 0;       ///< smoothed runnable tasks x 1000
  uint32_t free_memory_mib = 0;  ///< free memory, MiB
  /// Storage roles (storage_choice.h), gossiped with the load so that every member learns
  /// who serves /cluster even when mDNS is blocked.
  bool storage_pinned = false;   ///< booted with clusterlive.role=storage
  bool serving_storage = false;  ///< exports /cluster right now
  uint32_t storage_epoch = 0;    ///< while serving: its store's epoch (storage_choice.h)

  bool operator==(const LoadVector&) const = default;
};

struct WireMessage {
  MessageType type = MessageType::ping;
  std::string sender_id;
  std::string recipient_id;  ///< a message for another node is dropped
  uint64_t sequence = 0;     ///< per sender, always increasing: replay protection
  uint64_t reply_to = 0;     ///< ack: the sequence of the ping / ping-req answered;
                             ///< sync: number of members in the whole table
  std::string subject_id;    ///< ping_req: node to probe; ack: node found alive; ping: empty
  std::vector<MemberUpdate> updates;
  std::vector<LoadVector> loads;

  bool operator==(const WireMessage&) const = default;
};

enum class MessageStatus {
  ok,
  truncated,            ///< shorter than the smallest possible message
  oversized,            ///< longer than kMaxMessageBytes
  unsupported_version,  ///< first byte is not kWireProtocolVersion
  bad_mac,              ///< MAC does not verify (tampered, cut, or wrong cluster)
  malformed,            ///< authentic but does not parse (a buggy peer)
};

/// Name of a status for counters, e.g. "bad_mac".
std::string_view to_string(MessageStatus status);

struct MessageDecodeResult {
  MessageStatus status = MessageStatus::malformed;
  WireMessage message;  ///< filled only when status is ok
};

/// Bytes an update takes on the wire (to fill a message up to the limit).
size_t encoded_update_size(const MemberUpdate& update);
/// Bytes a load vector takes on the wire.
size_t encoded_load_size(const LoadVector& load);
/// Bytes of `message` without its updates and loads (header + counts + MAC).
size_t encoded_base_size(const WireMessage& message);

/// Layout (big-endian): version u8, type u8, sender s8, recipient s8,
/// sequence u64, reply_to u64, subject s8, update count u8, updates
/// (node s8, state u8, incarnation u64, [wg key 32 bytes if up]), load
/// count u8, loads (node s8, stamp u64, cores u16, speed u32, load u32,
/// free MiB u32, flags u8: bit 0 storage pinned, bit 1 serving storage, other bits zero,
/// storage epoch u32),
/// then HMAC-SHA256 of everything before it under the
/// control key. (s8 = one length byte then the bytes.)
/// Returns an empty vector if a field is invalid or the result would exceed
/// kMaxMessageBytes.
std::vector<uint8_t> encode_wire_message(const WireMessage& message, const MacKey& control_key);

/// Decodes bytes received from a peer. Checks size, version and MAC before
/// parsing anything else; never reads out of bounds, never throws.
MessageDecodeResult decode_wire_message(std::span<const uint8_t> bytes, const MacKey& control_key);

}  // namespace clusterlive
