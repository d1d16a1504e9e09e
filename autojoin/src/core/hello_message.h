// The LAN hello: how a node gets onto the mesh when mDNS cannot tell it about the others
// (static seeds, DHCP leases) and how members tell a newcomer where to reach the rest.
// Sent as one UDP datagram to a LAN address on kHelloPort, before any WireGuard tunnel exists.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/mac.h"

namespace clusterlive {

/// Version byte at the start of every hello.
constexpr uint8_t kHelloProtocolVersion = 1;
/// Largest hello, in bytes (one unfragmented datagram on any Ethernet LAN).
constexpr size_t kMaxHelloBytes = 1400;
/// Most endpoint hints one hello carries.
constexpr size_t kMaxEndpointHints = 24;

/// A LAN address and UDP port (IPv4 or IPv6).
struct LanEndpoint {
  bool ipv6 = false;
  std::array<uint8_t, 16> address{};  ///< IPv4 uses the first 4 bytes
  uint16_t port = 0;

  bool operator==(const LanEndpoint&) const = default;
  /// "10.77.0.11" or "fe80::1" (no port).
  std::string address_text() const;
};

/// Parses an IPv4 or IPv6 address (no port, no scope); nullopt if it is neither.
std::optional<LanEndpoint> parse_lan_address(std::string_view text, uint16_t port);

/// Parses a seed peer from `clusterlive.peers=`: "10.1.2.3", "10.1.2.3:51872", "fd00::1" or
/// "[fd00::1]:51872"; `default_port` when none is given. Host names are not accepted (no
/// blocking DNS lookups in the daemon's loop). nullopt if malformed or the port is 0.
std::optional<LanEndpoint> parse_seed(std::string_view seed, uint16_t default_port);

/// "node-x can be reached on the LAN at this endpoint", from a member that knows it.
struct EndpointHint {
  std::string node_id;
  LanEndpoint endpoint;

  bool operator==(const EndpointHint&) const = default;
};

enum class HelloType : uint8_t {
  hello = 1,  ///< "here I am; please answer with your record and hints"
  reply = 2,  ///< the answer; never answered itself (no ping-pong)
};

struct HelloMessage {
  HelloType type = HelloType::hello;
  /// The sender's own signed _clusterlive._tcp TXT record, entries as published on mDNS.
  std::vector<std::string> record_entries;
  /// Where the sender's members are reachable (none of them the recipient's business
  /// to trust beyond "try this address": WireGuard authenticates whoever answers).
  std::vector<EndpointHint> hints;

  bool operator==(const HelloMessage&) const = default;
};

enum class HelloStatus {
  ok,
  truncated,            ///< ends before the structure does
  oversized,            ///< longer than kMaxHelloBytes
  unsupported_version,  ///< first byte is not kHelloProtocolVersion
  bad_mac,              ///< well formed but the MAC does not verify (another cluster, tampering)
  malformed,            ///< a field is out of range
};

/// Name of a status for counters and logs, e.g. "bad_mac".
std::string_view to_string(HelloStatus status);

struct HelloDecodeResult {
  HelloStatus status = HelloStatus::malformed;
  /// Filled when ok; with bad_mac, only record_entries is filled, so the caller can still
  /// recognise (and show) a node of another cluster by its record, never trusting it.
  HelloMessage message;
};

/// Encodes `message`, dropping trailing hints that would make it exceed kMaxHelloBytes,
/// then appends an HMAC-SHA256 under `control_key`. Empty if the record alone is too big.
std::vector<uint8_t> encode_hello(const HelloMessage& message, const MacKey& control_key);

/// Strict decoder for a datagram from the LAN. Never throws.
HelloDecodeResult decode_hello(std::span<const uint8_t> bytes, const MacKey& control_key);

}  // namespace clusterlive
