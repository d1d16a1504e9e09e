// Parser of dnsmasq's lease file (/var/lib/misc/dnsmasq.leases): the addresses dnsmasq handed
// out, a source of peers to say hello to when mDNS cannot reach them. Pure: the caller reads
// the file and hands its text in. The file's contents come from DHCP clients (host names,
// client ids), so every field is checked and every size is bounded.
//
// Lines, as dnsmasq writes them (src/lease.c, lease_update_file):
//   <expiry> <hwaddr> <ipv4> <hostname|*> <client-id|*>            DHCPv4 lease
//   duid <server duid>                                              before the DHCPv6 leases
//   <expiry> [T]<iaid> <ipv6> <hostname|*> <client-duid|*>         DHCPv6 lease
//   agent-info <address> <hex> / vendorclass <address> <hex>        extras, ignored
// <expiry> is seconds since the epoch (0: never expires). <hwaddr> is colon-separated hex,
// prefixed with "<type>-" when the hardware type is not Ethernet.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace clusterlive {

/// Most lines read from a lease file; the rest is ignored and `truncated` is set.
constexpr size_t kMaxLeaseFileLines = 4096;
/// Longest lease line accepted, in bytes (a 255-byte client id in hex is 765 characters).
constexpr size_t kMaxLeaseLineBytes = 1024;
/// Longest host name accepted (a DNS name).
constexpr size_t kMaxLeaseHostnameBytes = 253;

/// One address lease.
struct DnsmasqLease {
  bool ipv6 = false;
  std::string address;                  ///< canonical text: "10.77.0.11", "fd00::11"
  std::optional<std::string> hostname;  ///< nullopt when the client gave none ("*")
  uint64_t expiry_unix_s = 0;           ///< seconds since the epoch; 0: never expires
  std::string hardware_address;         ///< IPv4 only, as written: "52:54:00:3a:9f:01"

  bool operator==(const DnsmasqLease&) const = default;
};

/// Everything usable in a lease file, and what was not.
struct DnsmasqLeases {
  std::vector<DnsmasqLease> leases;        ///< in file order
  std::optional<std::string> server_duid;  ///< from the "duid" line, if any
  size_t bad_lines = 0;    ///< lines skipped because a field is malformed or too long
  bool truncated = false;  ///< more than kMaxLeaseFileLines lines: the rest was not read
};

/// Parses the text of a lease file. Never fails: malformed lines are skipped and counted,
/// empty lines and the known extras ("agent-info", "vendorclass") are ignored. A host name
/// must be a DNS name (letters, digits, '-', '_', '.'; at most kMaxLeaseHostnameBytes);
/// a lease with any other name is a bad line, so a client cannot smuggle text to our logs.
DnsmasqLeases parse_dnsmasq_leases(std::string_view text);

/// True if `lease` has expired at `now_unix_s` (a lease with expiry 0 never does).
bool lease_expired(const DnsmasqLease& lease, uint64_t now_unix_s);

}  // namespace clusterlive
