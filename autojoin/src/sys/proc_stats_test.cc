#include "sys/proc_stats.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

#include "sys/test_temp_dir.h"

namespace clusterlive {
namespace {

using testing::TempDir;

constexpr char kStat[] =
    "cpu  2255034 5520 612853 97841023 31377 0 9876 0 0 0\n"
    "cpu0 566349 1326 152970 24455181 7791 0 5871 0 0 0\n"
    "intr 186359512 9 0 0 0\n"
    "ctxt 410975238\n"
    "btime 1763740800\n"
    "processes 1587341\n"
    "procs_running 7\n"
    "procs_blocked 0\n";
constexpr char kMeminfo[] =
    "MemTotal:       16315828 kB\n"
    "MemFree:         9170960 kB\n"
    "MemAvailable:   13123456 kB\n"
    "Buffers:          318744 kB\n";

// A fixture tree with the three files ProcFsStats reads.
void write_fixtures(const TempDir& root) {
  root.write("proc/stat", kStat);
  root.write("proc/meminfo", kMeminfo);
  root.write("proc/loadavg", "1.50 0.75 0.25 7/812 40411\n");
  root.write("sys/devices/system/cpu/online", "0-5,8-9\n");
}

TEST(ProcFsStats, ReadsFixtureFiles) {
  TempDir root;
  write_fixtures(root);
  ProcFsStats stats(root.path());
  std::string error;
  auto sample = stats.read(error);
  ASSERT_TRUE(sample) << error;
  EXPECT_EQ(*sample, (ProcStats{7, 8, 15933, 12815}));
  auto load = stats.read_loadavg(error);
  ASSERT_TRUE(load) << error;
  EXPECT_EQ(load->one_minute_milli, 1500u);
}

TEST(ProcFsStats, MissingFileIsAnErrorNamingIt) {
  TempDir root;
  write_fixtures(root);
  ::unlink(root.at("proc/meminfo").c_str());
  ProcFsStats stats(root.path());
  std::string error;
  EXPECT_FALSE(stats.read(error));
  EXPECT_EQ(error, root.at("proc/meminfo") + ": not found");
}

TEST(ProcFsStats, MalformedFileIsAnErrorNamingIt) {
  TempDir root;
  write_fixtures(root);
  root.write("proc/stat", "cpu 1 2 3\nprocs_running lots\n");
  ProcFsStats stats(root.path());
  std::string error;
  EXPECT_FALSE(stats.read(error));
  EXPECT_EQ(error, root.at("proc/stat") + ": malformed");
}

TEST(ProcFsStats, OnlineCoresNeedTheFileUnderAFixtureRoot) {
  TempDir root;
  write_fixtures(root);
  root.write("sys/devices/system/cpu/online", "garbage\n");
  ProcFsStats stats(root.path());
  std::string error;
  EXPECT_FALSE(stats.read_online_cores(error));  // no sysconf fallback for a fixture tree
  EXPECT_EQ(error, root.at("sys/devices/system/cpu/online") + ": malformed");
}

TEST(ProcFsStats, CoresSaturateAtTheFieldWidth) {
  TempDir root;
  write_fixtures(root);
  root.write("sys/devices/system/cpu/online", "0-65535\n");
  std::string error;
  EXPECT_EQ(ProcFsStats(root.path()).read_online_cores(error), 65535);
}

TEST(ProcFsStats, ReadsThisMachine) {
  ProcFsStats stats;
  std::string error;
  auto sample = stats.read(error);
  ASSERT_TRUE(sample) << error;
  EXPECT_GE(sample->procs_running, 1u);  // this test is running
  EXPECT_EQ(sample->online_cores, static_cast<uint16_t>(::sysconf(_SC_NPROCESSORS_ONLN)));
  EXPECT_GT(sample->mem_total_mib, 0u);
  EXPECT_LE(sample->mem_available_mib, sample->mem_total_mib);
  EXPECT_TRUE(stats.read_loadavg(error)) << error;
}

TEST(FakeProcStats, HandsOutItsSampleOrError) {
  FakeProcStats fake;
  ProcStatsSource& source = fake;
  std::string error;
  EXPECT_EQ(source.read(error), (ProcStats{1, 4, 16384, 8192}));
  fake.stats.reset();
  EXPECT_FALSE(source.read(error));
  EXPECT_EQ(error, "fake: unavailable");
  EXPECT_EQ(fake.reads, 2);
}

}  // namespace
}  // namespace clusterlive
