// WireGuard keys: Curve25519 key pairs made with libsodium (no `wg genkey` needed) and the
// base64 text form `wg` reads and prints.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/node_record.h"

namespace clusterlive {

struct WireguardKeyPair {
  WireguardKey private_key{};
  WireguardKey public_key{};
};

/// A fresh random key pair (private key clamped as Curve25519 requires).
WireguardKeyPair generate_wireguard_keypair();
/// The public key of `private_key`.
WireguardKey wireguard_public_key(const WireguardKey& private_key);
/// 44-character standard base64, as `wg` uses.
std::string wireguard_key_to_base64(const WireguardKey& key);
/// nullopt unless `text` is exactly a 32-byte key in standard base64.
std::optional<WireguardKey> wireguard_key_from_base64(std::string_view text);

/// Reads the private key kept in `path` for this boot, or makes one and writes it there
/// (mode 0600, atomically), so a restarted daemon keeps its key and its peers' tunnels.
/// Returns the key pair, or nullopt with `error` set.
std::optional<WireguardKeyPair> load_or_create_private_key(const std::string& path,
                                                           std::string& error);

}  // namespace clusterlive
