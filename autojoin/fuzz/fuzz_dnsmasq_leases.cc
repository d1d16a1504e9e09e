// libFuzzer target: parse_dnsmasq_leases, the parser of the LAN's dnsmasq lease file, whose
// host names and client ids come from whatever DHCP clients sent.
// Invariants: the limits hold, every lease's address parses as an address, and its host
// name (if any) is a DNS name, so nothing a client sent reaches our logs unchecked.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/dnsmasq_leases.h"
#include "core/hello_message.h"
#include "fuzz/fuzz_common.h"

using namespace clusterlive;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  DnsmasqLeases parsed = parse_dnsmasq_leases(text);
  FUZZ_CHECK(parsed.leases.size() <= kMaxLeaseFileLines);
  for (const DnsmasqLease& lease : parsed.leases) {
    FUZZ_CHECK(parse_lan_address(lease.address, 1).has_value());
    if (lease.hostname) {
      FUZZ_CHECK(!lease.hostname->empty() && lease.hostname->size() <= kMaxLeaseHostnameBytes);
      for (char c : *lease.hostname) {
        FUZZ_CHECK((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   c == '-' || c == '_' || c == '.');
      }
    }
  }
  return 0;
}
