#include "core/hello_message.h"

#include <gtest/gtest.h>

#include "core/test_support.h"

namespace clusterlive {
namespace {

using testing::other_secret;
using testing::test_record;
using testing::test_secret;

HelloMessage sample_hello() {
  HelloMessage message;
  message.type = HelloType::hello;
  message.record_entries = encode_txt_record(test_record(), test_secret().record_mac_key());
  message.hints.push_back({"node-c10002", *parse_lan_address("10.77.0.12", 51872)});
  message.hints.push_back({"node-c10003", *parse_lan_address("fe80::5054:ff:fec1:3", 51872)});
  return message;
}

TEST(HelloMessage, RoundTrips) {
  const MacKey key = test_secret().control_mac_key();
  HelloMessage message = sample_hello();
  std::vector<uint8_t> bytes = encode_hello(message, key);
  ASSERT_FALSE(bytes.empty());
  HelloDecodeResult decoded = decode_hello(bytes, key);
  ASSERT_EQ(decoded.status, HelloStatus::ok);
  EXPECT_EQ(decoded.message, message);
  EXPECT_EQ(decoded.message.hints[0].endpoint.address_text(), "10.77.0.12");
  EXPECT_EQ(decoded.message.hints[1].endpoint.address_text(), "fe80::5054:ff:fec1:3");
}

TEST(HelloMessage, AnotherClustersHelloFailsTheMacButShowsItsRecord) {
  HelloMessage message = sample_hello();
  message.record_entries =
      encode_txt_record(test_record(other_secret()), other_secret().record_mac_key());
  std::vector<uint8_t> bytes = encode_hello(message, other_secret().control_mac_key());
  HelloDecodeResult decoded = decode_hello(bytes, test_secret().control_mac_key());
  EXPECT_EQ(decoded.status, HelloStatus::bad_mac);
  EXPECT_EQ(decoded.message.record_entries, message.record_entries);
  EXPECT_TRUE(decoded.message.hints.empty()) << "hints of an unauthenticated hello are dropped";
}

TEST(HelloMessage, EveryTruncationAndEveryBitFlipIsRejected) {
  const MacKey key = test_secret().control_mac_key();
  const std::vector<uint8_t> bytes = encode_hello(sample_hello(), key);
  for (size_t length = 0; length < bytes.size(); ++length) {
    std::span<const uint8_t> cut(bytes.data(), length);
    EXPECT_NE(decode_hello(cut, key).status, HelloStatus::ok) << "length " << length;
  }
  for (size_t i = 0; i < bytes.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::vector<uint8_t> flipped = bytes;
      flipped[i] = static_cast<uint8_t>(flipped[i] ^ (1u << bit));
      EXPECT_NE(decode_hello(flipped, key).status, HelloStatus::ok) << "byte " << i;
    }
  }
}

TEST(HelloMessage, OversizedAndWrongVersionAreNamed) {
  const MacKey key = test_secret().control_mac_key();
  std::vector<uint8_t> big(kMaxHelloBytes + 1, 1);
  EXPECT_EQ(decode_hello(big, key).status, HelloStatus::oversized);
  std::vector<uint8_t> bytes = encode_hello(sample_hello(), key);
  bytes[0] = 9;
  EXPECT_EQ(decode_hello(bytes, key).status, HelloStatus::unsupported_version);
  EXPECT_EQ(to_string(HelloStatus::bad_mac), "bad_mac");
}

TEST(HelloMessage, HintsBeyondTheSizeLimitAreLeftOut) {
  const MacKey key = test_secret().control_mac_key();
  HelloMessage message = sample_hello();
  message.hints.clear();
  for (int i = 0; i < 100; ++i) {
    message.hints.push_back(
        {"node-" + std::to_string(100000 + i), *parse_lan_address("fe80::1", 51872)});
  }
  std::vector<uint8_t> bytes = encode_hello(message, key);
  ASSERT_LE(bytes.size(), kMaxHelloBytes);
  HelloDecodeResult decoded = decode_hello(bytes, key);
  ASSERT_EQ(decoded.status, HelloStatus::ok);
  EXPECT_GT(decoded.message.hints.size(), 0u);
  EXPECT_LE(decoded.message.hints.size(), kMaxEndpointHints);
  EXPECT_EQ(decoded.message.hints[0], message.hints[0]) << "the first hints are kept, in order";
}

TEST(HelloMessage, AddressParsing) {
  EXPECT_FALSE(parse_lan_address("node-c10001", 1));
  EXPECT_FALSE(parse_lan_address("10.77.0.300", 1));
  auto v4 = parse_lan_address("169.254.3.4", 7);
  ASSERT_TRUE(v4);
  EXPECT_FALSE(v4->ipv6);
  EXPECT_EQ(v4->port, 7);
}

TEST(HelloMessage, SeedParsing) {
  EXPECT_EQ(parse_seed("10.77.0.11", 51872), parse_lan_address("10.77.0.11", 51872));
  EXPECT_EQ(parse_seed("10.77.0.11:7000", 51872), parse_lan_address("10.77.0.11", 7000));
  EXPECT_EQ(parse_seed("fd00::1", 51872), parse_lan_address("fd00::1", 51872));
  EXPECT_EQ(parse_seed("[fd00::1]:7000", 51872), parse_lan_address("fd00::1", 7000));
  EXPECT_EQ(parse_seed("[fd00::1]", 51872), parse_lan_address("fd00::1", 51872));
  for (const char* bad :
       {"", "node-c10001", "node-c10001:51872", "10.77.0.11:0", "10.77.0.11:65536", "10.77.0.11:x",
        "[fd00::1]x", "[fd00::1", "[fd00::1]:", "10.77.0.11:+5"}) {
    EXPECT_FALSE(parse_seed(bad, 51872)) << bad;
  }
}

}  // namespace
}  // namespace clusterlive
