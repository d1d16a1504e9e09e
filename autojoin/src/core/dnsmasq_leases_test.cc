#include "core/dnsmasq_leases.h"

#include <gtest/gtest.h>

#include <string>

namespace clusterlive {
namespace {

// What dnsmasq 2.90 writes for two IPv4 clients (one without a host name), an InfiniBand
// client, and two DHCPv6 clients (one with a temporary address).
constexpr char kLeases[] =
    "1763744400 52:54:00:3a:9f:01 10.77.0.11 node-3a9f01 01:52:54:00:3a:9f:01\n"
    "1763744460 52:54:00:3a:9f:02 10.77.0.12 * *\n"
    "0 20-80:00:02:08:fe:80:00:00:00:00:00:00:00:02:c9:03:00:0a:1b:2c 10.77.0.13 ib-node *\n"
    "duid 00:01:00:01:2c:d0:aa:bb:52:54:00:3a:9f:00\n"
    "1763744400 1180630017 fd00:77::11 node-3a9f01 "
    "00:04:9d:f4:01:12:b8:51:4e:b2:8c:1e:2f:0a:55:24\n"
    "1763744500 T7 fd00:0077:0000::0012 * 00:01:00:01:2c:d0:aa:bb:52:54:00:3a:9f:02\n"
    "vendorclass 10.77.0.11 50:58:45:43:6c:69:65:6e:74\n"
    "agent-info 10.77.0.12 01:04:00:00:00:01\n";

TEST(DnsmasqLeases, ParsesIpv4AndIpv6Leases) {
  DnsmasqLeases parsed = parse_dnsmasq_leases(kLeases);
  EXPECT_EQ(parsed.bad_lines, 0u);
  EXPECT_FALSE(parsed.truncated);
  ASSERT_TRUE(parsed.server_duid);
  EXPECT_EQ(*parsed.server_duid, "00:01:00:01:2c:d0:aa:bb:52:54:00:3a:9f:00");
  ASSERT_EQ(parsed.leases.size(), 5u);

  EXPECT_EQ(parsed.leases[0],
            (DnsmasqLease{false, "10.77.0.11", "node-3a9f01", 1763744400, "52:54:00:3a:9f:01"}));
  EXPECT_EQ(parsed.leases[1],
            (DnsmasqLease{false, "10.77.0.12", std::nullopt, 1763744460, "52:54:00:3a:9f:02"}));
  EXPECT_EQ(parsed.leases[2].address, "10.77.0.13");
  EXPECT_EQ(parsed.leases[2].expiry_unix_s, 0u);
  EXPECT_EQ(parsed.leases[3], (DnsmasqLease{true, "fd00:77::11", "node-3a9f01", 1763744400, ""}));
  // Addresses come out in canonical form.
  EXPECT_EQ(parsed.leases[4], (DnsmasqLease{true, "fd00:77::12", std::nullopt, 1763744500, ""}));
}

TEST(DnsmasqLeases, EmptyFileHasNoLeases) {
  DnsmasqLeases parsed = parse_dnsmasq_leases("");
  EXPECT_TRUE(parsed.leases.empty());
  EXPECT_EQ(parsed.bad_lines, 0u);
  EXPECT_FALSE(parsed.server_duid);
  EXPECT_EQ(parse_dnsmasq_leases("\n\n").bad_lines, 0u);
}

TEST(DnsmasqLeases, LastLineWithoutNewlineCounts) {
  DnsmasqLeases parsed = parse_dnsmasq_leases("1763744400 52:54:00:3a:9f:01 10.77.0.11 n1 *");
  ASSERT_EQ(parsed.leases.size(), 1u);
  EXPECT_EQ(*parsed.leases[0].hostname, "n1");
}

TEST(DnsmasqLeases, SkipsAndCountsBadLines) {
  const char* bad[] = {
      "1763744400 52:54:00:3a:9f:01 10.77.0.11 node *\textra",     // tab, 5 fields
      "1763744400 52:54:00:3a:9f:01 10.77.0.11 node",              // 4 fields
      "1763744400 52:54:00:3a:9f:01 10.77.0.11 node * extra",      // 6 fields
      "1763744400  52:54:00:3a:9f:01 10.77.0.11 node *",           // double space
      "-1 52:54:00:3a:9f:01 10.77.0.11 node *",                    // negative expiry
      "99999999999999999999 52:54:00:3a:9f:01 10.77.0.11 node *",  // expiry overflows
      "1763744400 52:54:00:3a:9f:0 10.77.0.11 node *",             // odd hex
      "1763744400 52:54:00:3A:9F:01 10.77.0.11 node *",            // upper-case hex
      "1763744400 52:54:00:3a:9f:01 10.77.0.256 node *",           // bad IPv4
      "1763744400 52:54:00:3a:9f:01 10.77.0.011 node *",           // octal-looking IPv4
      "1763744400 52:54:00:3a:9f:01 fd00::11 node *",              // IPv6 with a MAC
      "1763744400 1234 10.77.0.11 node *",                         // IPv4 with an IAID
      "1763744400 X1234 fd00::11 node *",                          // bad IAID
      "1763744400 4294967296 fd00::11 node *",                     // IAID overflows
      "1763744400 52:54:00:3a:9f:01 10.77.0.11 no\x1b[31mde *",    // escape in name
      "1763744400 52:54:00:3a:9f:01 10.77.0.11 -node *",           // leading dash
      "1763744400 52:54:00:3a:9f:01 10.77.0.11 node 01:zz",        // bad client id
      "duid",                                                      // duid without value
      "duid zz:00",                                                // bad duid
      "garbage",
  };
  std::string text;
  for (const char* line : bad) text += std::string(line) + "\n";
  text += "1763744400 52:54:00:3a:9f:01 10.77.0.11 good *\n";
  DnsmasqLeases parsed = parse_dnsmasq_leases(text);
  EXPECT_EQ(parsed.bad_lines, std::size(bad));
  ASSERT_EQ(parsed.leases.size(), 1u);
  EXPECT_EQ(*parsed.leases[0].hostname, "good");
}

TEST(DnsmasqLeases, HostnameLengthIsBounded) {
  std::string longest(kMaxLeaseHostnameBytes, 'a');
  DnsmasqLeases ok = parse_dnsmasq_leases("1 52:54:00:3a:9f:01 10.77.0.11 " + longest + " *\n");
  EXPECT_EQ(ok.leases.size(), 1u);
  DnsmasqLeases too_long =
      parse_dnsmasq_leases("1 52:54:00:3a:9f:01 10.77.0.11 " + longest + "a *\n");
  EXPECT_TRUE(too_long.leases.empty());
  EXPECT_EQ(too_long.bad_lines, 1u);
}

TEST(DnsmasqLeases, OverlongLinesAreBad) {
  std::string client_id;
  while (client_id.size() + 3 < kMaxLeaseLineBytes) client_id += "ab:";
  client_id += "ab";
  DnsmasqLeases parsed =
      parse_dnsmasq_leases("1 52:54:00:3a:9f:01 10.77.0.11 n " + client_id + "\n");
  EXPECT_TRUE(parsed.leases.empty());
  EXPECT_EQ(parsed.bad_lines, 1u);
}

TEST(DnsmasqLeases, LineCountIsBounded) {
  std::string text;
  for (size_t i = 0; i < kMaxLeaseFileLines + 10; ++i) {
    text += "1 52:54:00:3a:9f:01 10.77." + std::to_string(i / 256) + "." + std::to_string(i % 256) +
            " n *\n";
  }
  DnsmasqLeases parsed = parse_dnsmasq_leases(text);
  EXPECT_EQ(parsed.leases.size(), kMaxLeaseFileLines);
  EXPECT_TRUE(parsed.truncated);
  EXPECT_EQ(parsed.bad_lines, 0u);
}

TEST(DnsmasqLeases, NoHardwareAddressIsAccepted) {
  // dnsmasq writes "<type>-" alone for a client that sent no hardware address.
  DnsmasqLeases parsed = parse_dnsmasq_leases("1 00- 10.77.0.11 n *\n");
  ASSERT_EQ(parsed.leases.size(), 1u);
  EXPECT_EQ(parsed.leases[0].hardware_address, "00-");
}

TEST(DnsmasqLeases, Expiry) {
  DnsmasqLease lease;
  lease.expiry_unix_s = 1000;
  EXPECT_FALSE(lease_expired(lease, 999));
  EXPECT_TRUE(lease_expired(lease, 1000));
  lease.expiry_unix_s = 0;  // infinite lease
  EXPECT_FALSE(lease_expired(lease, UINT64_MAX));
}

}  // namespace
}  // namespace clusterlive
