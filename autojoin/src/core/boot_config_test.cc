#include "core/boot_config.h"

#include <gtest/gtest.h>

#include <string>

namespace clusterlive {
namespace {

constexpr char kKeyA[] = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
constexpr char kKeyB[] = "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100";

TEST(KernelParameters, FindsClusterliveParametersAmongOthers) {
  KernelParameters p = parse_kernel_parameters(
      std::string("BOOT_IMAGE=/live/vmlinuz boot=live components quiet clusterlive.key=") + kKeyA +
      " clusterlive.peers=10.0.0.5,node-3a9f01.local:7946 clusterlive.role=storage console=ttyS0\n");
  ASSERT_TRUE(p.key);
  EXPECT_EQ(*p.key, kKeyA);
  EXPECT_EQ(p.peers, (std::vector<std::string>{"10.0.0.5", "node-3a9f01.local:7946"}));
  ASSERT_TRUE(p.role);
  EXPECT_EQ(*p.role, "storage");
  EXPECT_TRUE(p.warnings.empty());
}

TEST(KernelParameters, AbsentParametersStayEmpty) {
  KernelParameters p = parse_kernel_parameters("boot=live components quiet");
  EXPECT_FALSE(p.key);
  EXPECT_FALSE(p.role);
  EXPECT_TRUE(p.peers.empty());
}

TEST(KernelParameters, LastOccurrenceWinsLikeTheKernel) {
  KernelParameters p = parse_kernel_parameters(std::string("clusterlive.key=") + kKeyA +
                                               " clusterlive.key=" + kKeyB);
  ASSERT_TRUE(p.key);
  EXPECT_EQ(*p.key, kKeyB);
}

TEST(KernelParameters, QuotesGroupAndAreDropped) {
  KernelParameters p = parse_kernel_parameters("a=1 \"clusterlive.role=storage\" b=\"x y\"");
  ASSERT_TRUE(p.role);
  EXPECT_EQ(*p.role, "storage");
}

TEST(KernelParameters, ParametersAfterDoubleDashBelongToInit) {
  KernelParameters p = parse_kernel_parameters(std::string("quiet -- clusterlive.key=") + kKeyA);
  EXPECT_FALSE(p.key);
}

TEST(KernelParameters, SimilarNamesAreNotOurs) {
  KernelParameters p = parse_kernel_parameters(std::string("xclusterlive.key=") + kKeyA +
                                               " clusterlive.keys=1 clusterlive.key");
  // A bare "clusterlive.key" is present with an empty value (which choose_secret rejects).
  ASSERT_TRUE(p.key);
  EXPECT_EQ(*p.key, "");
}

TEST(KernelParameters, MalformedPeersAreSkippedWithAWarning) {
  KernelParameters p =
      parse_kernel_parameters("clusterlive.peers=good.local,,bad;rm,[fe80::1%enp0s2]:7946");
  EXPECT_EQ(p.peers, (std::vector<std::string>{"good.local", "[fe80::1%enp0s2]:7946"}));
  ASSERT_EQ(p.warnings.size(), 1u);
  EXPECT_NE(p.warnings[0].find("bad;rm"), std::string::npos);
}

TEST(KernelParameters, PeerListIsBounded) {
  std::string list = "clusterlive.peers=";
  for (size_t i = 0; i < kMaxSeedPeers + 10; ++i) list += "p" + std::to_string(i) + ",";
  KernelParameters p = parse_kernel_parameters(list);
  EXPECT_EQ(p.peers.size(), kMaxSeedPeers);
  ASSERT_EQ(p.warnings.size(), 1u);
  EXPECT_NE(p.warnings[0].find("ignoring the rest"), std::string::npos);
}

TEST(KernelParameters, OverlongPeerIsRejected) {
  KernelParameters p =
      parse_kernel_parameters("clusterlive.peers=" + std::string(kMaxSeedPeerLength + 1, 'a'));
  EXPECT_TRUE(p.peers.empty());
  EXPECT_EQ(p.warnings.size(), 1u);
}

TEST(ChooseSecret, FirstSourceWithTextWins) {
  SecretChoice c = choose_secret({{SecretSource::kernel_command_line, std::nullopt},
                                  {SecretSource::boot_medium, std::string(kKeyA) + "\n"},
                                  {SecretSource::persistence, std::string(kKeyB)}});
  ASSERT_TRUE(c.secret) << c.error;
  EXPECT_EQ(c.secret->to_hex(), kKeyA);
  ASSERT_TRUE(c.source);
  EXPECT_EQ(*c.source, SecretSource::boot_medium);
  EXPECT_TRUE(c.error.empty());
}

TEST(ChooseSecret, KernelCommandLineOverridesTheBootMedium) {
  SecretChoice c = choose_secret({{SecretSource::kernel_command_line, std::string(kKeyB)},
                                  {SecretSource::boot_medium, std::string(kKeyA)}});
  ASSERT_TRUE(c.secret);
  EXPECT_EQ(c.secret->to_hex(), kKeyB);
}

TEST(ChooseSecret, MalformedWinnerDoesNotFallThroughToAnotherCluster) {
  std::string typo = std::string(kKeyB).substr(0, 63) + "g";
  SecretChoice c = choose_secret({{SecretSource::kernel_command_line, typo},
                                  {SecretSource::boot_medium, std::string(kKeyA)}});
  EXPECT_FALSE(c.secret);
  ASSERT_TRUE(c.source);
  EXPECT_EQ(*c.source, SecretSource::kernel_command_line);
  EXPECT_NE(c.error.find("kernel command line"), std::string::npos);
  // The bad text may be a real secret with a typo: it must never be echoed.
  EXPECT_EQ(c.error.find(typo.substr(0, 16)), std::string::npos);
}

TEST(ChooseSecret, EmptyKernelParameterIsAnErrorNotAbsence) {
  SecretChoice c = choose_secret({{SecretSource::kernel_command_line, std::string()},
                                  {SecretSource::boot_medium, std::string(kKeyA)}});
  EXPECT_FALSE(c.secret);
  EXPECT_FALSE(c.error.empty());
}

TEST(ChooseSecret, NothingAnywhereMeansRunAloneWithoutError) {
  SecretChoice c = choose_secret({{SecretSource::kernel_command_line, std::nullopt},
                                  {SecretSource::boot_medium, std::nullopt},
                                  {SecretSource::persistence, std::nullopt},
                                  {SecretSource::joined, std::nullopt}});
  EXPECT_FALSE(c.secret);
  EXPECT_FALSE(c.source);
  EXPECT_TRUE(c.error.empty());
}

TEST(ChooseSecret, SourcesHaveReadableNames) {
  EXPECT_EQ(to_string(SecretSource::kernel_command_line), "kernel command line");
  EXPECT_EQ(to_string(SecretSource::boot_medium), "boot medium");
  EXPECT_EQ(to_string(SecretSource::persistence), "persistence volume");
  EXPECT_EQ(to_string(SecretSource::joined), "joined");
}

}  // namespace
}  // namespace clusterlive
