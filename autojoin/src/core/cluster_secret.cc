#include "core/cluster_secret.h"

#include <sodium.h>

#include <algorithm>

#include "core/hex.h"

namespace clusterlive {
namespace {

// crypto_kdf context: exactly 8 bytes, names this protocol and its version.
constexpr char kKdfContext[crypto_kdf_CONTEXTBYTES + 1] = "clstlv01";

// Subkey ids for crypto_kdf_derive_from_key: one per purpose, never reused.
constexpr uint64_t kRecordMacSubkeyId = 1;
constexpr uint64_t kControlMacSubkeyId = 2;
constexpr uint64_t kWireguardPresharedSubkeyId = 3;

// Prefix hashed before the secret for the cluster id, so the id is not a
// plain hash of the secret that another protocol might also publish.
constexpr std::string_view kClusterIdDomain = "clusterlive/cluster-id/v1";

std::string_view trim_whitespace(std::string_view text) {
  const char* kWhitespace = " \t\r\n\v\f";
  size_t first = text.find_first_not_of(kWhitespace);
  if (first == std::string_view::npos) return {};
  size_t last = text.find_last_not_of(kWhitespace);
  return text.substr(first, last - first + 1);
}

}  // namespace

ClusterSecret::~ClusterSecret() { sodium_memzero(bytes_.data(), bytes_.size()); }

SecretParseResult ClusterSecret::parse(std::string_view text) {
  std::string_view trimmed = trim_whitespace(text);
  if (trimmed.size() != kSizeBytes * 2) {
    return {std::nullopt, "cluster secret must be 64 hex digits, got " +
                              std::to_string(trimmed.size()) + " characters"};
  }
  std::optional<std::vector<uint8_t>> decoded = from_hex(trimmed);
  if (!decoded) {
    return {std::nullopt, "cluster secret contains a character that is not a hex digit"};
  }
  Bytes bytes{};
  std::copy(decoded->begin(), decoded->end(), bytes.begin());
  sodium_memzero(decoded->data(), decoded->size());
  return {ClusterSecret(bytes), ""};
}

std::string ClusterSecret::to_hex() const { return clusterlive::to_hex(bytes_); }

std::string ClusterSecret::cluster_id() const {
  ensure_crypto_initialized();
  std::array<uint8_t, crypto_generichash_BYTES_MIN> digest{};  // 16 bytes, we keep 8
  crypto_generichash_state state;
  crypto_generichash_init(&state, nullptr, 0, digest.size());
  crypto_generichash_update(&state, reinterpret_cast<const uint8_t*>(kClusterIdDomain.data()),
                            kClusterIdDomain.size());
  crypto_generichash_update(&state, bytes_.data(), bytes_.size());
  crypto_generichash_final(&state, digest.data(), digest.size());
  return clusterlive::to_hex(std::span<const uint8_t>(digest.data(), kClusterIdHexChars / 2));
}

std::array<uint8_t, 32> ClusterSecret::derive_subkey(uint64_t subkey_id) const {
  ensure_crypto_initialized();
  std::array<uint8_t, 32> subkey{};
  crypto_kdf_derive_from_key(subkey.data(), subkey.size(), subkey_id, kKdfContext, bytes_.data());
  return subkey;
}

MacKey ClusterSecret::record_mac_key() const { return derive_subkey(kRecordMacSubkeyId); }

MacKey ClusterSecret::control_mac_key() const { return derive_subkey(kControlMacSubkeyId); }

std::array<uint8_t, 32> ClusterSecret::wireguard_preshared_key() const {
  return derive_subkey(kWireguardPresharedSubkeyId);
}

}  // namespace clusterlive
