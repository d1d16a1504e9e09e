#include "mesh/wireguard_keys.h"

#include <fcntl.h>
#include <sodium.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/mac.h"
#include "sys/file_io.h"

namespace clusterlive {

WireguardKey wireguard_public_key(const WireguardKey& private_key) {
  ensure_crypto_initialized();
  WireguardKey public_key{};
  crypto_scalarmult_curve25519_base(public_key.data(), private_key.data());
  return public_key;
}

WireguardKeyPair generate_wireguard_keypair() {
  ensure_crypto_initialized();
  WireguardKeyPair pair;
  randombytes_buf(pair.private_key.data(), pair.private_key.size());
  // Curve25519 clamping, as `wg genkey` does.
  pair.private_key[0] &= 248;
  pair.private_key[31] = static_cast<uint8_t>((pair.private_key[31] & 127) | 64);
  pair.public_key = wireguard_public_key(pair.private_key);
  return pair;
}

std::string wireguard_key_to_base64(const WireguardKey& key) {
  ensure_crypto_initialized();
  char text[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_ORIGINAL)];
  sodium_bin2base64(text, sizeof text, key.data(), key.size(), sodium_base64_VARIANT_ORIGINAL);
  return text;
}

std::optional<WireguardKey> wireguard_key_from_base64(std::string_view text) {
  ensure_crypto_initialized();
  if (text.size() != 44) return std::nullopt;
  WireguardKey key{};
  size_t length = 0;
  const char* end = nullptr;
  if (sodium_base642bin(key.data(), key.size(), text.data(), text.size(), nullptr, &length, &end,
                        sodium_base64_VARIANT_ORIGINAL) != 0 ||
      length != key.size() || end != text.data() + text.size()) {
    return std::nullopt;
  }
  return key;
}

std::optional<WireguardKeyPair> load_or_create_private_key(const std::string& path,
                                                           std::string& error) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    char text[128] = {};
    ssize_t n = read(fd, text, sizeof text - 1);
    close(fd);
    std::string_view key_text(text, n > 0 ? static_cast<size_t>(n) : 0);
    while (!key_text.empty() && (key_text.back() == '\n' || key_text.back() == ' ')) {
      key_text.remove_suffix(1);
    }
    if (auto key = wireguard_key_from_base64(key_text)) {
      return WireguardKeyPair{*key, wireguard_public_key(*key)};
    }
    // A damaged key file (e.g. cut by a full /run): make a new key; peers learn it from
    // our next record.
  }
  WireguardKeyPair pair = generate_wireguard_keypair();
  AtomicWriteOptions options;
  options.mode = 0600;
  if (!write_file_atomically(path, wireguard_key_to_base64(pair.private_key) + "\n", options,
                             error)) {
    return std::nullopt;
  }
  return pair;
}

}  // namespace clusterlive
