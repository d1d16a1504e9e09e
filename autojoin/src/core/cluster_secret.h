// The cluster secret: 32 random bytes that define a cluster, and the
// keys and public id derived from it.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/mac.h"

namespace clusterlive {

struct SecretParseResult;

/// 32 secret bytes. Everything a node publishes (cluster id) or keys
/// (record MAC, control MAC, WireGuard preshared key) is derived from them
/// with distinct, domain-separated derivations, so no derived value reveals
/// another or the secret.
class ClusterSecret {
 public:
  static constexpr size_t kSizeBytes = 32;
  /// Length of cluster_id() in hex characters (64 bits).
  static constexpr size_t kClusterIdHexChars = 16;
  using Bytes = std::array<uint8_t, kSizeBytes>;

  /// Wraps raw secret bytes (e.g. from the kernel command line decoder).
  explicit ClusterSecret(const Bytes& bytes) : bytes_(bytes) {}
  ClusterSecret(const ClusterSecret&) = default;
  ClusterSecret& operator=(const ClusterSecret&) = default;
  /// Wipes the bytes so copies do not linger in freed memory.
  ~ClusterSecret();

  /// Parses 64 hex digits (either case); surrounding whitespace (a key
  /// file's trailing newline) is ignored, anything else is an error.
  static SecretParseResult parse(std::string_view text);

  /// The secret as 64 lower-case hex digits (for key files).
  std::string to_hex() const;

  /// Public cluster id: 16 lower-case hex digits of a BLAKE2b hash of the
  /// secret. Safe to publish; identifies the cluster in mDNS records.
  std::string cluster_id() const;

  /// Key for the MAC on mDNS TXT records.
  MacKey record_mac_key() const;
  /// Key for the MAC on node-to-node control messages.
  MacKey control_mac_key() const;
  /// WireGuard preshared key for every mesh peer (extra symmetric layer).
  std::array<uint8_t, 32> wireguard_preshared_key() const;

  const Bytes& bytes() const { return bytes_; }

 private:
  std::array<uint8_t, 32> derive_subkey(uint64_t subkey_id) const;

  Bytes bytes_;
};

/// Outcome of parsing a secret: a secret, or a message saying what is wrong.
struct SecretParseResult {
  std::optional<ClusterSecret> secret;
  std::string error;  // empty when `secret` is set
};

}  // namespace clusterlive
