#include "core/wire_message.h"

#include <algorithm>

#include "core/byte_codec.h"
#include "core/node_id.h"

namespace clusterlive {
namespace {

constexpr size_t kMacBytes = sizeof(MacTag);
// version, type, 3 empty strings' lengths, sequence, reply_to, two counts.
constexpr size_t kMinMessageBytes = 1 + 1 + 3 + 8 + 8 + 2 + kMacBytes;

bool is_valid_type(uint8_t value) {
  return value >= static_cast<uint8_t>(MessageType::ping) &&
         value <= static_cast<uint8_t>(MessageType::sync);
}

bool is_valid_state(uint8_t value) {
  return value >= static_cast<uint8_t>(MemberState::up) &&
         value <= static_cast<uint8_t>(MemberState::dead);
}

bool is_valid_message(const WireMessage& message) {
  if (!is_valid_type(static_cast<uint8_t>(message.type))) return false;
  if (!is_valid_node_id(message.sender_id) || !is_valid_node_id(message.recipient_id)) return false;
  if (!message.subject_id.empty() && !is_valid_node_id(message.subject_id)) return false;
  if (message.updates.size() > kMaxUpdatesPerMessage) return false;
  if (message.loads.size() > kMaxLoadsPerMessage) return false;
  for (const MemberUpdate& update : message.updates) {
    if (!is_valid_node_id(update.node_id)) return false;
    if (!is_valid_state(static_cast<uint8_t>(update.state))) return false;
  }
  for (const LoadVector& load : message.loads) {
    if (!is_valid_node_id(load.node_id)) return false;
  }
  return true;
}

bool read_node_id(ByteReader& reader, std::string& id, bool may_be_empty) {
  if (!reader.get_short_string(id, kMaxNodeIdLength)) return false;
  if (id.empty()) return may_be_empty;
  return is_valid_node_id(id);
}

bool read_update(ByteReader& reader, MemberUpdate& update) {
  uint8_t state = 0;
  if (!read_node_id(reader, update.node_id, false)) return false;
  if (!reader.get_u8(state) || !is_valid_state(state)) return false;
  update.state = static_cast<MemberState>(state);
  if (!reader.get_u64(update.incarnation)) return false;
  if (update.state == MemberState::up && !reader.get_bytes(update.wireguard_public_key)) {
    return false;
  }
  return true;
}

constexpr uint8_t kLoadFlagStoragePinned = 1;
constexpr uint8_t kLoadFlagServingStorage = 2;

// Unknown bits are refused, not ignored: a peer setting them speaks another protocol.
bool read_load_flags(ByteReader& reader, LoadVector& load) {
  uint8_t flags = 0;
  if (!reader.get_u8(flags)) return false;
  if (flags & ~(kLoadFlagStoragePinned | kLoadFlagServingStorage)) return false;
  load.storage_pinned = (flags & kLoadFlagStoragePinned) != 0;
  load.serving_storage = (flags & kLoadFlagServingStorage) != 0;
  return true;
}

bool read_load(ByteReader& reader, LoadVector& load) {
  return read_node_id(reader, load.node_id, false) && reader.get_u64(load.stamp) &&
         reader.get_u16(load.cores) && reader.get_u32(load.cpu_speed) &&
         reader.get_u32(load.load_milli) && reader.get_u32(load.free_memory_mib) &&
         read_load_flags(reader, load) && reader.get_u32(load.storage_epoch);
}

// Parses the authenticated body (everything before the MAC).
bool parse_body(std::span<const uint8_t> body, WireMessage& message) {
  ByteReader reader(body);
  uint8_t version = 0;
  uint8_t type = 0;
  if (!reader.get_u8(version) || !reader.get_u8(type) || !is_valid_type(type)) return false;
  message.type = static_cast<MessageType>(type);
  if (!read_node_id(reader, message.sender_id, false)) return false;
  if (!read_node_id(reader, message.recipient_id, false)) return false;
  if (!reader.get_u64(message.sequence) || !reader.get_u64(message.reply_to)) return false;
  if (!read_node_id(reader, message.subject_id, true)) return false;

  uint8_t update_count = 0;
  if (!reader.get_u8(update_count) || update_count > kMaxUpdatesPerMessage) return false;
  message.updates.resize(update_count);
  for (MemberUpdate& update : message.updates) {
    if (!read_update(reader, update)) return false;
  }
  uint8_t load_count = 0;
  if (!reader.get_u8(load_count) || load_count > kMaxLoadsPerMessage) return false;
  message.loads.resize(load_count);
  for (LoadVector& load : message.loads) {
    if (!read_load(reader, load)) return false;
  }
  return reader.remaining() == 0;  // trailing bytes: not what we encode
}

}  // namespace

std::string_view to_string(MessageStatus status) {
  switch (status) {
    case MessageStatus::ok:
      return "ok";
    case MessageStatus::truncated:
      return "truncated";
    case MessageStatus::oversized:
      return "oversized";
    case MessageStatus::unsupported_version:
      return "unsupported_version";
    case MessageStatus::bad_mac:
      return "bad_mac";
    case MessageStatus::malformed:
      return "malformed";
  }
  return "unknown";
}

size_t encoded_update_size(const MemberUpdate& update) {
  size_t size = 1 + update.node_id.size() + 1 + 8;
  if (update.state == MemberState::up) size += update.wireguard_public_key.size();
  return size;
}

size_t encoded_load_size(const LoadVector& load) {
  return 1 + load.node_id.size() + 8 + 2 + 4 + 4 + 4 + 1 + 4;
}

size_t encoded_base_size(const WireMessage& message) {
  return kMinMessageBytes + message.sender_id.size() + message.recipient_id.size() +
         message.subject_id.size();
}

std::vector<uint8_t> encode_wire_message(const WireMessage& message, const MacKey& control_key) {
  if (!is_valid_message(message)) return {};
  ByteWriter writer;
  writer.put_u8(kWireProtocolVersion);
  writer.put_u8(static_cast<uint8_t>(message.type));
  writer.put_short_string(message.sender_id);
  writer.put_short_string(message.recipient_id);
  writer.put_u64(message.sequence);
  writer.put_u64(message.reply_to);
  writer.put_short_string(message.subject_id);
  writer.put_u8(static_cast<uint8_t>(message.updates.size()));
  for (const MemberUpdate& update : message.updates) {
    writer.put_short_string(update.node_id);
    writer.put_u8(static_cast<uint8_t>(update.state));
    writer.put_u64(update.incarnation);
    if (update.state == MemberState::up) writer.put_bytes(update.wireguard_public_key);
  }
  writer.put_u8(static_cast<uint8_t>(message.loads.size()));
  for (const LoadVector& load : message.loads) {
    writer.put_short_string(load.node_id);
    writer.put_u64(load.stamp);
    writer.put_u16(load.cores);
    writer.put_u32(load.cpu_speed);
    writer.put_u32(load.load_milli);
    writer.put_u32(load.free_memory_mib);
    writer.put_u8(static_cast<uint8_t>((load.storage_pinned ? kLoadFlagStoragePinned : 0) |
                                       (load.serving_storage ? kLoadFlagServingStorage : 0)));
    writer.put_u32(load.storage_epoch);
  }
  if (writer.size() + kMacBytes > kMaxMessageBytes) return {};
  MacTag tag = compute_mac(control_key, writer.bytes());
  writer.put_bytes(tag);
  return writer.release();
}

MessageDecodeResult decode_wire_message(std::span<const uint8_t> bytes, const MacKey& control_key) {
  MessageDecodeResult result;
  if (bytes.size() > kMaxMessageBytes) {
    result.status = MessageStatus::oversized;
    return result;
  }
  if (bytes.size() < kMinMessageBytes) {
    result.status = MessageStatus::truncated;
    return result;
  }
  if (bytes[0] != kWireProtocolVersion) {
    result.status = MessageStatus::unsupported_version;
    return result;
  }
  std::span<const uint8_t> body = bytes.first(bytes.size() - kMacBytes);
  MacTag tag{};
  std::copy(bytes.end() - kMacBytes, bytes.end(), tag.begin());
  if (!verify_mac(control_key, body, tag)) {
    result.status = MessageStatus::bad_mac;
    return result;
  }
  WireMessage message;
  if (!parse_body(body, message)) {
    result.status = MessageStatus::malformed;
    return result;
  }
  result.status = MessageStatus::ok;
  result.message = std::move(message);
  return result;
}

}  // namespace clusterlive
