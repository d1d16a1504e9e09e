#include "mesh/udp_socket.h"

#include <net/if.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace clusterlive {
namespace {

sockaddr_in6 to_sockaddr(const LanEndpoint& endpoint) {
  sockaddr_in6 address{};
  address.sin6_family = AF_INET6;
  address.sin6_port = htons(endpoint.port);
  if (endpoint.ipv6) {
    std::memcpy(&address.sin6_addr, endpoint.address.data(), 16);
  } else {  // IPv4-mapped: ::ffff:a.b.c.d
    address.sin6_addr.s6_addr[10] = 0xff;
    address.sin6_addr.s6_addr[11] = 0xff;
    std::memcpy(&address.sin6_addr.s6_addr[12], endpoint.address.data(), 4);
  }
  return address;
}

LanEndpoint from_sockaddr(const sockaddr_in6& address) {
  LanEndpoint endpoint;
  endpoint.port = ntohs(address.sin6_port);
  if (IN6_IS_ADDR_V4MAPPED(&address.sin6_addr)) {
    std::memcpy(endpoint.address.data(), &address.sin6_addr.s6_addr[12], 4);
  } else {
    endpoint.ipv6 = true;
    std::memcpy(endpoint.address.data(), &address.sin6_addr, 16);
  }
  return endpoint;
}

}  // namespace

LanEndpoint mesh_endpoint(const Ipv6Address& address, uint16_t port) {
  LanEndpoint endpoint;
  endpoint.ipv6 = true;
  endpoint.address = address;
  endpoint.port = port;
  return endpoint;
}

UdpSocket::UdpSocket(std::optional<Ipv6Address> address, uint16_t port, const std::string& device) {
  fd_ = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) {
    error_ = std::string("socket: ") + std::strerror(errno);
    return;
  }
  int v6only = address ? 1 : 0;  // the wildcard socket also takes IPv4 (seeds, leases)
  setsockopt(fd_, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only);
  int reuse = 1;
  setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &reuse, sizeof reuse);
  if (!device.empty() && setsockopt(fd_, SOL_SOCKET, SO_BINDTODEVICE, device.c_str(),
                                    static_cast<socklen_t>(device.size())) != 0) {
    error_ = "binding to " + device + ": " + std::strerror(errno);
    close(fd_);
    fd_ = -1;
    return;
  }
  LanEndpoint local;
  local.ipv6 = true;
  if (address) local.address = *address;
  local.port = port;
  sockaddr_in6 bind_address = to_sockaddr(local);
  if (bind(fd_, reinterpret_cast<sockaddr*>(&bind_address), sizeof bind_address) != 0) {
    error_ = "bind port " + std::to_string(port) + ": " + std::strerror(errno);
    close(fd_);
    fd_ = -1;
  }
}

UdpSocket::~UdpSocket() {
  if (fd_ >= 0) close(fd_);
}

bool UdpSocket::send_to(const LanEndpoint& to, std::span<const uint8_t> bytes) {
  sockaddr_in6 address = to_sockaddr(to);
  ssize_t sent = sendto(fd_, bytes.data(), bytes.size(), MSG_DONTWAIT,
                        reinterpret_cast<sockaddr*>(&address), sizeof address);
  last_send_error_ = sent < 0 ? errno : 0;
  return sent == static_cast<ssize_t>(bytes.size());
}

std::optional<ReceivedDatagram> UdpSocket::receive() {
  ReceivedDatagram datagram;
  datagram.bytes.resize(kMaxDatagramBytes);
  sockaddr_in6 from{};
  iovec io{datagram.bytes.data(), datagram.bytes.size()};
  msghdr header{};
  header.msg_name = &from;
  header.msg_namelen = sizeof from;
  header.msg_iov = &io;
  header.msg_iovlen = 1;
  ssize_t n = recvmsg(fd_, &header, MSG_DONTWAIT);
  if (n < 0) return std::nullopt;
  datagram.bytes.resize(static_cast<size_t>(n));
  datagram.truncated = (header.msg_flags & MSG_TRUNC) != 0;
  datagram.from = from_sockaddr(from);
  return datagram;
}

}  // namespace clusterlive
