#include "criu/criu_stats.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <iterator>

namespace clusterlive::criu {
namespace {

std::string testdata(const std::string& name) { return std::string(CRIU_TESTDATA) + "/" + name; }

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Header + entry length + entry, as CRIU writes it.
std::string image(const std::string& entry) {
  std::string bytes("\x40\x59\x10\x55\x06\x33\x09\x57", 8);
  auto length = static_cast<uint32_t>(entry.size());
  for (int i = 0; i < 4; ++i) bytes.push_back(static_cast<char>((length >> (8 * i)) & 0xff));
  return bytes + entry;
}

// Real files written by CRIU 4.1.1 in scripts/criu-lab (figures cross-checked with
// `criu dump --display-stats`).
TEST(CriuStats, RealDumpOf64MiBJob) {
  CriuStats stats = read_criu_stats(testdata("stop-and-copy-64mib.stats-dump"));
  ASSERT_TRUE(stats.ok()) << stats.error;
  ASSERT_TRUE(stats.dump);
  EXPECT_FALSE(stats.restore);
  DumpStats expected;
  expected.freezing_time_us = 148;
  expected.frozen_time_us = 270928;
  expected.memdump_time_us = 57766;
  expected.memwrite_time_us = 53340;
  expected.pages_scanned = 16455;
  expected.pages_skipped_parent = 0;
  expected.pages_written = 16443;
  EXPECT_EQ(*stats.dump, expected);
  EXPECT_EQ(describe(*stats.dump),
            "written 16443 pages, skipped 0 from parent, scanned 16455, frozen 270.9 ms, "
            "memory dump 57.8 ms, memory write 53.3 ms");
}

TEST(CriuStats, RealDumpMatchesDisplayStats) {
  // criu dump --display-stats printed: Freezing time 150 us, Frozen time 18122 us, Memory
  // dump time 468 us, Memory write time 108 us, pages scanned 57, skipped 0, written 31.
  CriuStats stats = read_criu_stats(testdata("stop-and-copy-sleep.stats-dump"));
  ASSERT_TRUE(stats.ok()) << stats.error;
  ASSERT_TRUE(stats.dump);
  EXPECT_EQ(stats.dump->freezing_time_us, 150u);
  EXPECT_EQ(stats.dump->frozen_time_us, 18122u);
  EXPECT_EQ(stats.dump->memdump_time_us, 468u);
  EXPECT_EQ(stats.dump->memwrite_time_us, 108u);
  EXPECT_EQ(stats.dump->pages_scanned, 57u);
  EXPECT_EQ(stats.dump->pages_written, 31u);
}

TEST(CriuStats, RealRestore) {
  CriuStats stats = read_criu_stats(testdata("restore-64mib.stats-restore"));
  ASSERT_TRUE(stats.ok()) << stats.error;
  EXPECT_FALSE(stats.dump);
  ASSERT_TRUE(stats.restore);
  EXPECT_EQ(stats.restore->pages_restored, 16443u);
  EXPECT_EQ(stats.restore->restore_time_us, 31808u);
  EXPECT_EQ(stats.restore->forking_time_us, 2u);
}

TEST(CriuStats, PreDumpWithParentAndUnknownFields) {
  // A pre-copy round as CRIU encodes it (hand-made: this lab's kernel cannot pre-dump):
  // frozen 5000 us, skipped 16000, written 300, irmap 0 and page_pipes (skipped), plus a
  // field 20 of a later CRIU in each message.
  std::string dump(
      "\x08\x0a\x10\x88\x27\x18\x64\x20\xc8\x01\x28\xa8\x80\x01\x30\x80\x7d\x38\xac\x02"
      "\x40\x00\x48\x00\x50\x02\xa0\x01\x07",
      29);
  std::string entry = std::string("\x0a", 1) + static_cast<char>(dump.size()) + dump +
                      std::string("\xa2\x01\x02\xff\xff", 5);
  CriuStats stats = parse_criu_stats(image(entry));
  ASSERT_TRUE(stats.ok()) << stats.error;
  ASSERT_TRUE(stats.dump);
  EXPECT_EQ(stats.dump->freezing_time_us, 10u);
  EXPECT_EQ(stats.dump->frozen_time_us, 5000u);
  EXPECT_EQ(stats.dump->memdump_time_us, 100u);
  EXPECT_EQ(stats.dump->memwrite_time_us, 200u);
  EXPECT_EQ(stats.dump->pages_scanned, 16424u);
  EXPECT_EQ(stats.dump->pages_skipped_parent, 16000u);
  EXPECT_EQ(stats.dump->pages_written, 300u);
}

TEST(CriuStats, EmptyEntryIsValidAndHoldsNothing) {
  CriuStats stats = parse_criu_stats(image(""));
  EXPECT_TRUE(stats.ok());
  EXPECT_FALSE(stats.dump);
  EXPECT_FALSE(stats.restore);
}

TEST(CriuStats, RejectsForeignAndDamagedFiles) {
  EXPECT_EQ(parse_criu_stats("").error, "not a CRIU statistics image: too short");
  std::string inventory = image("");
  inventory[4] = 0;  // another magic: e.g. the inventory image
  EXPECT_EQ(parse_criu_stats(inventory).error, "not a CRIU statistics image: wrong magic");
  std::string real = read_bytes(testdata("stop-and-copy-64mib.stats-dump"));
  EXPECT_NE(parse_criu_stats(real.substr(0, real.size() - 1)).error.find("truncated"),
            std::string::npos);
  // A known field with the wrong wire type, an unterminated varint, an 11-byte varint.
  EXPECT_FALSE(parse_criu_stats(image(std::string("\x08\x01", 2))).ok());
  EXPECT_FALSE(parse_criu_stats(image(std::string("\x0a\x02\x08\x80", 4))).ok());
  EXPECT_FALSE(
      parse_criu_stats(
          image(std::string("\x0a\x0c\x08\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01", 14)))
          .ok());
  // A sub-message longer than the entry; a group wire type.
  EXPECT_FALSE(parse_criu_stats(image(std::string("\x0a\x7f\x08\x01", 4))).ok());
  EXPECT_FALSE(parse_criu_stats(image(std::string("\x1b\x00", 2))).ok());
}

TEST(CriuStats, NoPrefixOrBitFlipOfARealFileCrashes) {
  // Bounded on junk: every prefix and every single-bit change parses or fails cleanly.
  for (const char* name : {"stop-and-copy-64mib.stats-dump", "restore-64mib.stats-restore"}) {
    std::string real = read_bytes(testdata(name));
    ASSERT_FALSE(real.empty());
    for (size_t length = 0; length < real.size(); ++length) {
      EXPECT_FALSE(parse_criu_stats(real.substr(0, length)).ok()) << name << " " << length;
    }
    for (size_t at = 0; at < real.size(); ++at) {
      for (int bit = 0; bit < 8; ++bit) {
        std::string flipped = real;
        flipped[at] = static_cast<char>(flipped[at] ^ (1 << bit));
        CriuStats stats = parse_criu_stats(flipped);
        if (!stats.ok()) {
          EXPECT_FALSE(stats.dump || stats.restore);
        }
      }
    }
  }
}

TEST(CriuStats, MissingAndOversizedFiles) {
  CriuStats missing = read_criu_stats(testdata("no-such-file"));
  EXPECT_FALSE(missing.ok());
  EXPECT_NE(missing.error.find("no-such-file"), std::string::npos);
  CriuStats directory = read_criu_stats(testdata(""));
  EXPECT_FALSE(directory.ok());
  // A file past kMaxStatsFileBytes is not read, whatever it holds.
  std::string big = ::testing::TempDir() + "/criu-stats-too-large";
  std::ofstream(big, std::ios::binary) << image(std::string(kMaxStatsFileBytes, '\0'));
  CriuStats too_large = read_criu_stats(big);
  EXPECT_FALSE(too_large.ok());
  EXPECT_FALSE(too_large.dump);
  std::remove(big.c_str());
}

}  // namespace
}  // namespace clusterlive::criu
