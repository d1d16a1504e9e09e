// HMAC-SHA256 (libsodium) for records and control messages.
#pragma once

#include <array>
#include <cstdint>
#include <span>

namespace clusterlive {

/// A 32-byte key for HMAC-SHA256, derived from the cluster secret.
using MacKey = std::array<uint8_t, 32>;
/// A full HMAC-SHA256 tag.
using MacTag = std::array<uint8_t, 32>;

/// Initialises libsodium once (thread-safe, idempotent). Every crypto helper
/// here calls it, so callers need not.
void ensure_crypto_initialized();

/// HMAC-SHA256 of `data` under `key`.
MacTag compute_mac(const MacKey& key, std::span<const uint8_t> data);

/// True if `tag` is the HMAC-SHA256 of `data` under `key` (constant time).
bool verify_mac(const MacKey& key, std::span<const uint8_t> data, const MacTag& tag);

}  // namespace clusterlive
