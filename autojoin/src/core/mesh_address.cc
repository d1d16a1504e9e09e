#include "core/mesh_address.h"

#include <arpa/inet.h>
#include <sodium.h>

#include <algorithm>

#include "core/hex.h"
#include "core/mac.h"

namespace clusterlive {
namespace {

constexpr std::string_view kInterfaceIdDomain = "clusterlive/mesh-iid/v1";
constexpr uint8_t kUniqueLocalPrefix = 0xfd;  // fc00::/7 with the L bit set
constexpr size_t kGlobalIdBytes = 5;          // 40 bits, RFC 4193

}  // namespace

std::optional<Ipv6Address> mesh_address(std::string_view cluster_id, std::string_view node_id) {
  if (cluster_id.size() != 16) return std::nullopt;
  std::optional<std::vector<uint8_t>> cluster_bytes = from_hex(cluster_id);
  if (!cluster_bytes) return std::nullopt;

  Ipv6Address address{};
  address[0] = kUniqueLocalPrefix;
  std::copy_n(cluster_bytes->begin(), kGlobalIdBytes, address.begin() + 1);
  // Bytes 6 and 7 (subnet id) stay 0: the mesh is one flat subnet.

  ensure_crypto_initialized();
  std::array<uint8_t, crypto_generichash_BYTES_MIN> digest{};
  crypto_generichash_state state;
  crypto_generichash_init(&state, nullptr, 0, digest.size());
  crypto_generichash_update(&state, reinterpret_cast<const uint8_t*>(kInterfaceIdDomain.data()),
                            kInterfaceIdDomain.size());
  crypto_generichash_update(&state, reinterpret_cast<const uint8_t*>(node_id.data()),
                            node_id.size());
  crypto_generichash_final(&state, digest.data(), digest.size());
  std::copy_n(digest.begin(), 8, address.begin() + 8);
  return address;
}

std::string format_ipv6(const Ipv6Address& address) {
  // inet_ntop is pure computation and follows RFC 5952 in glibc.
  char text[INET6_ADDRSTRLEN] = {};
  inet_ntop(AF_INET6, address.data(), text, sizeof text);
  return text;
}

std::optional<Ipv6Address> parse_ipv6(std::string_view text) {
  if (text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  std::string terminated(text);  // inet_pton wants a C string
  Ipv6Address address{};
  if (inet_pton(AF_INET6, terminated.c_str(), address.data()) != 1) return std::nullopt;
  return address;
}

}  // namespace clusterlive
