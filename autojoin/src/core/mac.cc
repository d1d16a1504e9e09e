#include "core/mac.h"

#include <sodium.h>

namespace clusterlive {

void ensure_crypto_initialized() {
  // sodium_init() only selects implementations and seeds its own RNG, which
  // the core never uses; it returns 1 when already initialised.
  static const int result = sodium_init();
  (void)result;
}

MacTag compute_mac(const MacKey& key, std::span<const uint8_t> data) {
  ensure_crypto_initialized();
  MacTag tag{};
  crypto_auth_hmacsha256(tag.data(), data.data(), data.size(), key.data());
  return tag;
}

bool verify_mac(const MacKey& key, std::span<const uint8_t> data, const MacTag& tag) {
  ensure_crypto_initialized();
  return crypto_auth_hmacsha256_verify(tag.data(), data.data(), data.size(), key.data()) == 0;
}

}  // namespace clusterlive
