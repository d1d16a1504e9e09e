#include "core/hello_message.h"

#include <arpa/inet.h>

#include <algorithm>

#include "core/byte_codec.h"
#include "core/decimal.h"
#include "core/node_id.h"
#include "core/node_record.h"

namespace clusterlive {
namespace {

constexpr size_t kMacBytes = sizeof(MacTag);
constexpr uint8_t kFamilyIpv4 = 4;
constexpr uint8_t kFamilyIpv6 = 6;
// version, type, entry count, hint count, MAC.
constexpr size_t kMinHelloBytes = 1 + 1 + 1 + 1 + kMacBytes;

void put_hint(ByteWriter& writer, const EndpointHint& hint) {
  writer.put_short_string(hint.node_id);
  writer.put_u8(hint.endpoint.ipv6 ? kFamilyIpv6 : kFamilyIpv4);
  const size_t address_bytes = hint.endpoint.ipv6 ? 16 : 4;
  writer.put_bytes(std::span<const uint8_t>(hint.endpoint.address.data(), address_bytes));
  writer.put_u16(hint.endpoint.port);
}

size_t hint_size(const EndpointHint& hint) {
  return 1 + hint.node_id.size() + 1 + (hint.endpoint.ipv6 ? 16 : 4) + 2;
}

bool read_hint(ByteReader& reader, EndpointHint& hint) {
  uint8_t family = 0;
  if (!reader.get_short_string(hint.node_id, kMaxNodeIdLength)) return false;
  if (!is_valid_node_id(hint.node_id)) return false;
  if (!reader.get_u8(family)) return false;
  if (family != kFamilyIpv4 && family != kFamilyIpv6) return false;
  hint.endpoint.ipv6 = family == kFamilyIpv6;
  const size_t address_bytes = hint.endpoint.ipv6 ? 16 : 4;
  if (!reader.get_bytes(std::span<uint8_t>(hint.endpoint.address.data(), address_bytes))) {
    return false;
  }
  return reader.get_u16(hint.endpoint.port) && hint.endpoint.port != 0;
}

}  // namespace

std::string LanEndpoint::address_text() const {
  char text[INET6_ADDRSTRLEN] = {};
  inet_ntop(ipv6 ? AF_INET6 : AF_INET, address.data(), text, sizeof text);
  return text;
}

std::optional<LanEndpoint> parse_lan_address(std::string_view text, uint16_t port) {
  std::string copy(text);  // inet_pton needs a terminated string
  LanEndpoint endpoint;
  endpoint.port = port;
  if (inet_pton(AF_INET, copy.c_str(), endpoint.address.data()) == 1) return endpoint;
  endpoint.ipv6 = true;
  if (inet_pton(AF_INET6, copy.c_str(), endpoint.address.data()) == 1) return endpoint;
  return std::nullopt;
}

std::optional<LanEndpoint> parse_seed(std::string_view seed, uint16_t default_port) {
  auto parse_port = [](std::string_view text) -> std::optional<uint16_t> {
    auto port = parse_decimal<uint16_t>(text);
    if (!port || *port == 0) return std::nullopt;
    return port;
  };
  std::string_view host = seed;
  std::optional<uint16_t> port = default_port;
  if (!host.empty() && host.front() == '[') {  // [IPv6] or [IPv6]:port
    size_t close = host.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    std::string_view rest = host.substr(close + 1);
    host = host.substr(1, close - 1);
    if (!rest.empty()) port = rest.front() == ':' ? parse_port(rest.substr(1)) : std::nullopt;
  } else if (std::count(host.begin(), host.end(), ':') == 1) {  // IPv4:port
    size_t colon = host.find(':');
    port = parse_port(host.substr(colon + 1));
    host = host.substr(0, colon);
  }
  if (!port) return std::nullopt;
  return parse_lan_address(host, *port);
}

std::string_view to_string(HelloStatus status) {
  switch (status) {
    case HelloStatus::ok:
      return "ok";
    case HelloStatus::truncated:
      return "truncated";
    case HelloStatus::oversized:
      return "oversized";
    case HelloStatus::unsupported_version:
      return "unsupported_version";
    case HelloStatus::bad_mac:
      return "bad_mac";
    case HelloStatus::malformed:
      return "malformed";
  }
  return "unknown";
}

std::vector<uint8_t> encode_hello(const HelloMessage& message, const MacKey& control_key) {
  if (message.record_entries.size() > kMaxTxtEntries) return {};
  ByteWriter writer;
  writer.put_u8(kHelloProtocolVersion);
  writer.put_u8(static_cast<uint8_t>(message.type));
  writer.put_u8(static_cast<uint8_t>(message.record_entries.size()));
  for (const std::string& entry : message.record_entries) {
    if (entry.size() > kMaxTxtEntryBytes) return {};
    writer.put_short_string(entry);
  }
  // Keep as many hints as fit, in the order given (the caller puts the most useful first).
  size_t used = writer.size() + 1 + kMacBytes;
  if (used > kMaxHelloBytes) return {};
  std::vector<const EndpointHint*> kept;
  for (const EndpointHint& hint : message.hints) {
    if (kept.size() == kMaxEndpointHints || used + hint_size(hint) > kMaxHelloBytes) break;
    if (!is_valid_node_id(hint.node_id)) continue;
    kept.push_back(&hint);
    used += hint_size(hint);
  }
  writer.put_u8(static_cast<uint8_t>(kept.size()));
  for (const EndpointHint* hint : kept) put_hint(writer, *hint);
  MacTag tag = compute_mac(control_key, writer.bytes());
  writer.put_bytes(tag);
  return writer.release();
}

HelloDecodeResult decode_hello(std::span<const uint8_t> bytes, const MacKey& control_key) {
  HelloDecodeResult result;
  if (bytes.size() > kMaxHelloBytes) return {HelloStatus::oversized, {}};
  if (bytes.size() < kMinHelloBytes) return {HelloStatus::truncated, {}};
  if (bytes[0] != kHelloProtocolVersion) return {HelloStatus::unsupported_version, {}};

  const std::span<const uint8_t> body = bytes.first(bytes.size() - kMacBytes);
  ByteReader reader(body);
  uint8_t version = 0, type = 0, entry_count = 0, hint_count = 0;
  reader.get_u8(version);
  reader.get_u8(type);
  if (type != static_cast<uint8_t>(HelloType::hello) &&
      type != static_cast<uint8_t>(HelloType::reply)) {
    return {HelloStatus::malformed, {}};
  }
  HelloMessage message;
  message.type = static_cast<HelloType>(type);
  if (!reader.get_u8(entry_count)) return {HelloStatus::truncated, {}};
  if (entry_count > kMaxTxtEntries) return {HelloStatus::malformed, {}};
  for (uint8_t i = 0; i < entry_count; ++i) {
    std::string entry;
    if (!reader.get_short_string(entry, kMaxTxtEntryBytes)) return {HelloStatus::truncated, {}};
    message.record_entries.push_back(std::move(entry));
  }
  if (!reader.get_u8(hint_count)) return {HelloStatus::truncated, {}};
  if (hint_count > kMaxEndpointHints) return {HelloStatus::malformed, {}};
  for (uint8_t i = 0; i < hint_count; ++i) {
    EndpointHint hint;
    if (!read_hint(reader, hint)) {
      return {reader.failed() ? HelloStatus::truncated : HelloStatus::malformed, {}};
    }
    message.hints.push_back(std::move(hint));
  }
  if (reader.remaining() != 0) return {HelloStatus::malformed, {}};

  MacTag tag{};
  std::copy(bytes.end() - kMacBytes, bytes.end(), tag.begin());
  if (!verify_mac(control_key, body, tag)) {
    result.status = HelloStatus::bad_mac;
    result.message.record_entries = std::move(message.record_entries);
    return result;
  }
  result.status = HelloStatus::ok;
  result.message = std::move(message);
  return result;
}

}  // namespace clusterlive
