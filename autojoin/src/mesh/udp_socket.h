// A non-blocking IPv6 UDP socket (IPv4 peers appear as ::ffff:a.b.c.d on a dual-stack one).
#pragma once

#include <netinet/in.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/hello_message.h"
#include "core/mesh_address.h"

namespace clusterlive {

/// Largest datagram we read; anything longer is truncated by the kernel and then rejected.
constexpr size_t kMaxDatagramBytes = 2048;

struct ReceivedDatagram {
  std::vector<uint8_t> bytes;
  LanEndpoint from;  ///< IPv4-mapped sources are given as plain IPv4
  bool truncated = false;
};

class UdpSocket {
 public:
  /// Binds `address` (nullopt: any address, dual-stack) and `port`. With `device`, the socket
  /// only sees traffic of that interface (SO_BINDTODEVICE). Check ok() / error().
  UdpSocket(std::optional<Ipv6Address> address, uint16_t port, const std::string& device = "");
  ~UdpSocket();
  UdpSocket(const UdpSocket&) = delete;
  UdpSocket& operator=(const UdpSocket&) = delete;

  bool ok() const { return fd_ >= 0; }
  const std::string& error() const { return error_; }
  int fd() const { return fd_; }

  /// Sends one datagram; false (errno kept in last_send_error()) if the kernel refused it,
  /// e.g. no WireGuard peer for that mesh address yet.
  bool send_to(const LanEndpoint& to, std::span<const uint8_t> bytes);
  /// Next pending datagram, nullopt when none is waiting.
  std::optional<ReceivedDatagram> receive();
  int last_send_error() const { return last_send_error_; }

 private:
  int fd_ = -1;
  std::string error_;
  int last_send_error_ = 0;
};

/// A LanEndpoint for a mesh address.
LanEndpoint mesh_endpoint(const Ipv6Address& address, uint16_t port);

}  // namespace clusterlive
