#include "core/proc_parsers.h"

#include <gtest/gtest.h>

#include <string>

namespace clusterlive {
namespace {

// A 4-core desktop's /proc/stat (Linux 6.12), the intr line cut short.
constexpr char kProcStat[] =
    "cpu  2255034 5520 612853 97841023 31377 0 9876 0 0 0\n"
    "cpu0 566349 1326 152970 24455181 7791 0 5871 0 0 0\n"
    "cpu1 561201 1401 154602 24463009 7952 0 1480 0 0 0\n"
    "cpu2 563622 1384 152466 24460420 7814 0 1292 0 0 0\n"
    "cpu3 563862 1409 152815 24462413 7820 0 1233 0 0 0\n"
    "intr 186359512 9 0 0 0 0 0 0 0 1 0 0 0 144 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n"
    "ctxt 410975238\n"
    "btime 1763740800\n"
    "processes 1587341\n"
    "procs_running 5\n"
    "procs_blocked 1\n"
    "softirq 96124883 3 29745893 29 2004981 271683 0 166187 40347104 0 23588975\n";

// A 16 GiB desktop's /proc/meminfo (Linux 6.12), complete.
constexpr char kMeminfo[] =
    "MemTotal:       16315828 kB\n"
    "MemFree:         9170960 kB\n"
    "MemAvailable:   13123456 kB\n"
    "Buffers:          318744 kB\n"
    "Cached:          3864400 kB\n"
    "SwapCached:            0 kB\n"
    "Active:          4310596 kB\n"
    "Inactive:        2011232 kB\n"
    "Active(anon):    2344184 kB\n"
    "Inactive(anon):        0 kB\n"
    "Active(file):    1966412 kB\n"
    "Inactive(file):  2011232 kB\n"
    "Unevictable:       63320 kB\n"
    "Mlocked:           27648 kB\n"
    "SwapTotal:       2097148 kB\n"
    "SwapFree:        2097148 kB\n"
    "Zswap:                 0 kB\n"
    "Zswapped:              0 kB\n"
    "Dirty:               412 kB\n"
    "Writeback:             0 kB\n"
    "AnonPages:       2201940 kB\n"
    "Mapped:           811256 kB\n"
    "Shmem:            205496 kB\n"
    "KReclaimable:     193224 kB\n"
    "Slab:             402520 kB\n"
    "SReclaimable:     193224 kB\n"
    "SUnreclaim:       209296 kB\n"
    "KernelStack:       18960 kB\n"
    "PageTables:        43948 kB\n"
    "SecPageTables:         0 kB\n"
    "NFS_Unstable:          0 kB\n"
    "Bounce:                0 kB\n"
    "WritebackTmp:          0 kB\n"
    "CommitLimit:    10255060 kB\n"
    "Committed_AS:    9874644 kB\n"
    "VmallocTotal:   34359738367 kB\n"
    "VmallocUsed:       88312 kB\n"
    "VmallocChunk:          0 kB\n"
    "Percpu:             9088 kB\n"
    "HardwareCorrupted:     0 kB\n"
    "AnonHugePages:         0 kB\n"
    "ShmemHugePages:        0 kB\n"
    "ShmemPmdMapped:        0 kB\n"
    "FileHugePages:         0 kB\n"
    "FilePmdMapped:         0 kB\n"
    "Unaccepted:            0 kB\n"
    "HugePages_Total:       0\n"
    "HugePages_Free:        0\n"
    "HugePages_Rsvd:        0\n"
    "HugePages_Surp:        0\n"
    "Hugepagesize:       2048 kB\n"
    "Hugetlb:               0 kB\n"
    "DirectMap4k:      390916 kB\n"
    "DirectMap2M:    10047488 kB\n"
    "DirectMap1G:     6291456 kB\n";

TEST(ParseProcsRunning, ReadsARealProcStat) { EXPECT_EQ(parse_procs_running(kProcStat), 5u); }

TEST(ParseProcsRunning, AcceptsAMissingFinalNewlineAndExtraBlanks) {
  EXPECT_EQ(parse_procs_running("cpu 1 2 3\nprocs_running   12  "), 12u);
}

TEST(ParseProcsRunning, RejectsMalformedInput) {
  EXPECT_FALSE(parse_procs_running(""));
  EXPECT_FALSE(parse_procs_running("cpu 1 2 3\nprocs_blocked 1\n"));          // line missing
  EXPECT_FALSE(parse_procs_running("procs_running\n"));                       // no value
  EXPECT_FALSE(parse_procs_running("procs_running -1\n"));                    // sign
  EXPECT_FALSE(parse_procs_running("procs_running 3x\n"));                    // junk
  EXPECT_FALSE(parse_procs_running("procs_running 3 4\n"));                   // two values
  EXPECT_FALSE(parse_procs_running("procs_running 99999999999\n"));           // overflow
  EXPECT_FALSE(parse_procs_running("xprocs_running 3\nprocs_runningx 3\n"));  // other names
}

TEST(ParseMeminfo, ReadsARealMeminfo) {
  auto info = parse_meminfo(kMeminfo);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->total_mib, 16315828u / 1024);      // 15933
  EXPECT_EQ(info->available_mib, 13123456u / 1024);  // 12815
  EXPECT_EQ(info->available_mib, 12815u);
}

TEST(ParseMeminfo, RoundsDownToWholeMiB) {
  auto info = parse_meminfo("MemTotal: 2047 kB\nMemAvailable: 1024 kB\n");
  ASSERT_TRUE(info);
  EXPECT_EQ(*info, (MemInfo{1, 1}));
}

TEST(ParseMeminfo, SaturatesAbsurdSizes) {
  auto info = parse_meminfo("MemTotal: 18446744073709551615 kB\nMemAvailable: 0 kB\n");
  ASSERT_TRUE(info);
  EXPECT_EQ(info->total_mib, UINT32_MAX);
  EXPECT_EQ(info->available_mib, 0u);
}

TEST(ParseMeminfo, RejectsMalformedInput) {
  EXPECT_FALSE(parse_meminfo(""));
  EXPECT_FALSE(parse_meminfo("MemTotal: 16315828 kB\nMemFree: 9170960 kB\n"));  // old kernel
  EXPECT_FALSE(parse_meminfo("MemTotal: 16315828 kB\nMemAvailable: 12 MB\n"));  // unit
  EXPECT_FALSE(parse_meminfo("MemTotal: 16315828 kB\nMemAvailable: 12\n"));     // no unit
  EXPECT_FALSE(parse_meminfo("MemTotal: 16315828 kB\nMemAvailable: -12 kB\n"));
  EXPECT_FALSE(parse_meminfo("MemTotal: 16315828 kB\nMemAvailable: 1 kB extra\n"));
  EXPECT_FALSE(parse_meminfo("MemTotal: 16315828 kB\nMemAvailable: 1 kB\nMemAvailable: 2 kB\n"));
  // A cut file (e.g. a read that stopped early) is malformed, not "0 available".
  std::string cut(kMeminfo);
  cut.resize(cut.find("MemAvailable:") + 20);
  EXPECT_FALSE(parse_meminfo(cut));
}

TEST(ParseLoadavg, ReadsARealLoadavg) {
  auto load = parse_loadavg("0.52 1.58 12.09 2/1234 56789\n");
  ASSERT_TRUE(load);
  EXPECT_EQ(*load, (LoadAverage{520, 1580, 12090, 2, 1234, 56789}));
}

TEST(ParseLoadavg, AcceptsOneToThreeDecimals) {
  auto load = parse_loadavg("0.5 1.25 2.125 1/2 3");
  ASSERT_TRUE(load);
  EXPECT_EQ(load->one_minute_milli, 500u);
  EXPECT_EQ(load->five_minutes_milli, 1250u);
  EXPECT_EQ(load->fifteen_minutes_milli, 2125u);
}

TEST(ParseLoadavg, RejectsMalformedInput) {
  EXPECT_FALSE(parse_loadavg(""));
  EXPECT_FALSE(parse_loadavg("0.52 0.58 0.59 2/1234\n"));          // no last pid
  EXPECT_FALSE(parse_loadavg("0.52 0.58 0.59 2-1234 56789\n"));    // no slash
  EXPECT_FALSE(parse_loadavg("0.52 0.58 0.59 2/1234 56789 7\n"));  // extra field
  EXPECT_FALSE(parse_loadavg("1 0.58 0.59 2/1234 56789\n"));       // no decimals
  EXPECT_FALSE(parse_loadavg("0.5234 0.58 0.59 2/1234 56789\n"));  // too many decimals
  EXPECT_FALSE(parse_loadavg("-0.52 0.58 0.59 2/1234 56789\n"));
  EXPECT_FALSE(parse_loadavg("0.52 0.58 0.59 /1234 56789\n"));
  EXPECT_FALSE(parse_loadavg("9999999.00 0.58 0.59 2/1234 56789\n"));  // x 1000 overflows
}

TEST(ParseCpuListCount, CountsRangesAndSingles) {
  EXPECT_EQ(parse_cpu_list_count("0\n"), 1u);
  EXPECT_EQ(parse_cpu_list_count("0-1\n"), 2u);
  EXPECT_EQ(parse_cpu_list_count("0-3,8,10-11\n"), 7u);
  EXPECT_EQ(parse_cpu_list_count("0-65535"), 65536u);
}

TEST(ParseCpuListCount, RejectsMalformedInput) {
  EXPECT_FALSE(parse_cpu_list_count(""));
  EXPECT_FALSE(parse_cpu_list_count("\n"));
  EXPECT_FALSE(parse_cpu_list_count("3-1"));      // reversed
  EXPECT_FALSE(parse_cpu_list_count("0-3,2-5"));  // overlapping
  EXPECT_FALSE(parse_cpu_list_count("4,2"));      // not ascending
  EXPECT_FALSE(parse_cpu_list_count("0-3,"));     // empty item
  EXPECT_FALSE(parse_cpu_list_count("0-"));
  EXPECT_FALSE(parse_cpu_list_count("a-b"));
  EXPECT_FALSE(parse_cpu_list_count("0-65536"));  // beyond kMaxCpuNumber
}

TEST(ProcessStat, ReadsCpuTicksAndRss) {
  // A real line (bash): fields 14-17 = 11/7/30/12, field 22 = 16542, field 24 = 1093.
  const char* line =
      "4242 (bash) S 4241 4242 4242 34816 4300 4194304 2130 11018 0 1 11 7 30 12 20 0 1 0 "
      "16542 8830976 1093 18446744073709551615 94392 95308 14073 0 0 0 65536 3686404 "
      "1266761467 0 0 0 17 1 0 0 0 0 0\n";
  EXPECT_EQ(parse_process_stat(line), (ProcessStat{60, 1093, 16542}));
}

TEST(ProcessStat, CountsFieldsFromTheLastParenthesis) {
  // A command named ") 1 2 (" must not shift the fields.
  const char* line =
      "7 () 1 2 () R 1 7 7 0 -1 4194560 100 0 0 0 5 5 0 0 20 0 1 0 100 1000 9 "
      "18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n";
  EXPECT_EQ(parse_process_stat(line), (ProcessStat{10, 9, 100}));
}

TEST(ProcessStat, RejectsMalformed) {
  for (const char* bad : {"", "7 (x", "7 x) R 1", "7 (x) R 1 7 7 0 -1 4194560 100 0 0 0 5",
                          "7 (x) R 1 7 7 0 -1 4194560 100 0 0 0 a 5 0 0 20 0 1 0 100 1000 9"}) {
    EXPECT_FALSE(parse_process_stat(bad)) << bad;
  }
}

TEST(ProcessStatus, ReadsTheStateAndTheFourUids) {
  const char* text =
      "Name:\tsh\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t12\nPid:\t12\n"
      "Uid:\t1000\t1000\t1000\t1000\nGid:\t1000\t1000\t1000\t1000\n";
  EXPECT_EQ(parse_process_status(text), (ProcessStatus{'S', {1000, 1000, 1000, 1000}}));
}

TEST(ProcessStatus, KnowsAZombie) {
  // A zombie CRIU re-created on restore: the uids of the restoring root, not the job's.
  auto status = parse_process_status("State:\tZ (zombie)\nUid:\t0\t0\t0\t0\n");
  ASSERT_TRUE(status);
  EXPECT_TRUE(status->zombie());
  EXPECT_FALSE(parse_process_status("State:\tR (running)\nUid:\t0\t0\t0\t0\n")->zombie());
}

TEST(ProcessStatus, RejectsMissingOrMalformedLines) {
  for (const char* bad : {"", "State:\tS (sleeping)\n", "Uid:\t1\t1\t1\t1\n",
                          "State:\tS (sleeping)\nUid:\t1\t1\t1\n",
                          "State:\tS (sleeping)\nUid:\t1\tx\t1\t1\n",
                          "State:\nUid:\t1\t1\t1\t1\n"}) {
    EXPECT_FALSE(parse_process_status(bad)) << bad;
  }
}

}  // namespace
}  // namespace clusterlive
