#include "core/cluster_secret.h"

#include <gtest/gtest.h>

#include <cctype>

#include "core/hex.h"
#include "core/test_support.h"

namespace clusterlive {
namespace {

using testing::test_secret;

constexpr char kTestSecretHex[] =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

TEST(ClusterSecret, ParsesHexWithSurroundingWhitespace) {
  SecretParseResult parsed = ClusterSecret::parse(std::string("  ") + kTestSecretHex + "\n");
  ASSERT_TRUE(parsed.secret) << parsed.error;
  EXPECT_EQ(parsed.secret->to_hex(), kTestSecretHex);
  EXPECT_TRUE(parsed.error.empty());
}

TEST(ClusterSecret, AcceptsUpperCase) {
  std::string upper = kTestSecretHex;
  for (char& c : upper) c = static_cast<char>(std::toupper(c));
  EXPECT_TRUE(ClusterSecret::parse(upper).secret);
}

TEST(ClusterSecret, RejectsWrongLengthWithClearError) {
  SecretParseResult parsed = ClusterSecret::parse("abcd");
  EXPECT_FALSE(parsed.secret);
  EXPECT_NE(parsed.error.find("64 hex digits"), std::string::npos) << parsed.error;
  EXPECT_FALSE(ClusterSecret::parse("").secret);
  EXPECT_FALSE(ClusterSecret::parse(std::string(kTestSecretHex) + "00").secret);
}

TEST(ClusterSecret, RejectsNonHexAndInnerWhitespace) {
  std::string bad = kTestSecretHex;
  bad[10] = 'g';
  SecretParseResult parsed = ClusterSecret::parse(bad);
  EXPECT_FALSE(parsed.secret);
  EXPECT_NE(parsed.error.find("not a hex digit"), std::string::npos) << parsed.error;
  std::string spaced =
      std::string(kTestSecretHex).substr(0, 32) + " " + std::string(kTestSecretHex).substr(32);
  EXPECT_FALSE(ClusterSecret::parse(spaced).secret);
}

// Known answers: computed once from the secret 00..1f and committed, so a
// change of derivation (which would split mixed-version clusters) fails here.
// Cross-checked with Python's hashlib: cluster id = blake2b(digest_size=16,
// data="clusterlive/cluster-id/v1" + secret)[:8]; subkey i = blake2b(b"",
// key=secret, salt=le64(i) + 8 zero bytes, person="clstlv01" + 8 zero bytes,
// digest_size=32), as libsodium's crypto_kdf_derive_from_key defines it.
TEST(ClusterSecret, ClusterIdKnownAnswer) {
  EXPECT_EQ(test_secret().cluster_id(), "3e8396470a6f6b66");
  EXPECT_EQ(test_secret().cluster_id().size(), ClusterSecret::kClusterIdHexChars);
}

TEST(ClusterSecret, DerivedKeysKnownAnswers) {
  EXPECT_EQ(to_hex(test_secret().record_mac_key()),
            "88628c39971efb906077446dfc2053693bf8cdcff8758a3f147fe5f30ab25ec2");
  EXPECT_EQ(to_hex(test_secret().control_mac_key()),
            "23d30bc723745abfa3f2c3322c94b2bee3a9c49624b5d07752c6de6b39c88158");
  EXPECT_EQ(to_hex(test_secret().wireguard_preshared_key()),
            "33e60a6f511ff5c794ac1b87d1eb95bf6928a4ccbb4884cd4e632d74bfed87a6");
}

TEST(ClusterSecret, DerivedValuesAreDistinctAndNeverTheSecret) {
  ClusterSecret secret = test_secret();
  std::string record = to_hex(secret.record_mac_key());
  std::string control = to_hex(secret.control_mac_key());
  std::string psk = to_hex(secret.wireguard_preshared_key());
  EXPECT_NE(record, control);
  EXPECT_NE(record, psk);
  EXPECT_NE(control, psk);
  for (const std::string& derived : {record, control, psk}) EXPECT_NE(derived, secret.to_hex());
  EXPECT_EQ(secret.to_hex().find(secret.cluster_id()), std::string::npos);
  EXPECT_NE(secret.cluster_id(), testing::other_secret().cluster_id());
}

}  // namespace
}  // namespace clusterlive
