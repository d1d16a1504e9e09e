#include "core/mesh_address.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "core/test_support.h"

namespace clusterlive {
namespace {

// Interface id cross-checked with Python: hashlib.blake2b(
// b"clusterlive/mesh-iid/v1" + node_id, digest_size=16).digest()[:8].
TEST(MeshAddress, KnownAnswers) {
  std::string cluster = testing::test_secret().cluster_id();
  EXPECT_EQ(format_ipv6(*mesh_address(cluster, "node-3a9f01")),
            "fd3e:8396:470a:0:6f8a:7778:5c79:f16d");
  EXPECT_EQ(format_ipv6(*mesh_address("0123456789abcdef", "node-000000")),
            "fd01:2345:6789:0:346e:f6a7:8f0a:c43a");
}

TEST(MeshAddress, LayoutIsUlaPlusClusterPlusZeroSubnet) {
  Ipv6Address address = *mesh_address("0123456789abcdef", "node-3a9f01");
  EXPECT_EQ(address[0], 0xfd);
  EXPECT_EQ(address[1], 0x01);
  EXPECT_EQ(address[5], 0x89);
  EXPECT_EQ(address[6], 0x00);
  EXPECT_EQ(address[7], 0x00);
}

TEST(MeshAddress, DeterministicAndDistinctPerNode) {
  auto a = mesh_address("0123456789abcdef", "node-000001");
  auto b = mesh_address("0123456789abcdef", "node-000002");
  EXPECT_EQ(a, mesh_address("0123456789abcdef", "node-000001"));
  EXPECT_NE(a, b);
  // Same node id in another cluster: same interface id, other /48.
  auto c = mesh_address("fedcba9876543210", "node-000001");
  EXPECT_NE(a, c);
  EXPECT_TRUE(std::equal(a->begin() + 8, a->end(), c->begin() + 8));
}

TEST(MeshAddress, RejectsBadClusterId) {
  EXPECT_FALSE(mesh_address("0123", "node-1"));
  EXPECT_FALSE(mesh_address("0123456789abcdeZ", "node-1"));
}

TEST(MeshAddress, FormatAndParseRoundTrip) {
  Ipv6Address address = *mesh_address("0123456789abcdef", "node-3a9f01");
  EXPECT_EQ(parse_ipv6(format_ipv6(address)), address);
  EXPECT_EQ(format_ipv6(*parse_ipv6("fd00:0:0:0:0:0:0:1")), "fd00::1");
  EXPECT_FALSE(parse_ipv6("10.0.0.1"));
  EXPECT_FALSE(parse_ipv6("fd00::1::2"));
  EXPECT_FALSE(parse_ipv6(std::string(100, 'f')));
}

}  // namespace
}  // namespace clusterlive
