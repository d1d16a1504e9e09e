#include "core/preflight.h"

#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <limits>
#include <sstream>
#include <string>

#ifndef PREFLIGHT_TESTDATA
#error "PREFLIGHT_TESTDATA must name the directory of the pre-flight fixtures"
#endif

namespace clusterlive {
namespace {

// The fixtures stand for job 42 of user alice: `clusterlive run ./crunch` from her work
// directory on /cluster, pid 1 (crunch, the namespace's init) and pid 7 (a forked worker),
// on a trixie live node (overlay root, dev 00:1d; NFS /cluster, dev 00:2e).

std::string read_fixture(const std::string& name) {
  std::ifstream in(std::string(PREFLIGHT_TESTDATA) + "/" + name, std::ios::binary);
  if (!in) {
    ADD_FAILURE() << "missing fixture " << name;
    return "";
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<Mapping> maps_fixture(const std::string& name) {
  auto maps = parse_maps(read_fixture(name));
  if (!maps) ADD_FAILURE() << "unparsable fixture " << name;
  return maps.value_or(std::vector<Mapping>{});
}

std::vector<FdEntry> fds_fixture(const std::string& name) {
  auto fds = parse_fd_table(read_fixture(name));
  if (!fds) ADD_FAILURE() << "unparsable fixture " << name;
  return fds.value_or(std::vector<FdEntry>{});
}

int32_t tty_fixture(const std::string& name) {
  auto tty = parse_stat_tty_nr(read_fixture(name));
  if (!tty) ADD_FAILURE() << "unparsable fixture " << name;
  return tty.value_or(-1);
}

std::vector<std::string> flags_fixture(const std::string& name) {
  auto flags = parse_cpuinfo_flags(read_fixture(name));
  if (!flags) ADD_FAILURE() << "unparsable fixture " << name;
  return flags.value_or(std::vector<std::string>{});
}

// "PATH<TAB>SIZE<TAB>BUILD-ID" lines: what a node's daemon reports about each file.
std::map<std::string, FileFacts> files_fixture(const std::string& name) {
  std::map<std::string, FileFacts> files;
  std::istringstream in(read_fixture(name));
  std::string line;
  while (std::getline(in, line)) {
    size_t first_tab = line.find('\t');
    size_t second_tab = line.find('\t', first_tab + 1);
    if (first_tab == std::string::npos || second_tab == std::string::npos) {
      ADD_FAILURE() << "bad line in " << name << ": " << line;
      continue;
    }
    FileFacts facts;
    facts.exists = true;
    facts.size = std::stoull(line.substr(first_tab + 1, second_tab - first_tab - 1));
    facts.build_id = line.substr(second_tab + 1);
    files[line.substr(0, first_tab)] = facts;
  }
  return files;
}

constexpr uint64_t kMiB = uint64_t{1} << 20;

// Everything a pre-flight looks at; clean_move() passes every rule.
struct Move {
  JobSnapshot job;
  NodeFacts source;
  NodeFacts target;
  PreflightPolicy policy;

  ProcessSnapshot& crunch() { return job.processes.at(0); }
  ProcessSnapshot& worker() { return job.processes.at(1); }
};

Move clean_move() {
  Move move;
  move.job.name = "42";
  move.job.spool_dir = "/cluster/jobs/42/";
  move.job.processes.push_back(ProcessSnapshot{
      1, maps_fixture("crunch.maps"), fds_fixture("crunch.fds"), tty_fixture("crunch.stat")});
  move.job.processes.push_back(ProcessSnapshot{
      7, maps_fixture("worker.maps"), fds_fixture("worker.fds"), tty_fixture("worker.stat")});
  move.job.rss_bytes = 800 * kMiB;

  move.source.name = "node-3a9f01";
  move.source.cpu_flags = flags_fixture("zen4_vm.cpuinfo");
  move.source.criu_features = {"mem_dirty_track", "timens"};
  move.source.files = files_fixture("crunch.files");

  move.target = move.source;
  move.target.name = "node-b2c4d6";
  move.target.criu_features = {"mem_dirty_track", "uffd", "uffd-noncoop", "timens", "pidfd_store"};
  move.target.available_bytes = 4096 * kMiB;
  return move;
}

// ---- parsers ----

TEST(ParseMaps, ReadsARealMaps) {
  auto maps = parse_maps(read_fixture("crunch.maps"));
  ASSERT_TRUE(maps);
  ASSERT_EQ(maps->size(), 31u);
  Mapping text;
  text.start = 0x55d4c2a01000;
  text.end = 0x55d4c2a02000;
  text.perms = "r-xp";
  text.offset = 0x1000;
  text.dev_major = 0;
  text.dev_minor = 0x2e;
  text.inode = 1048602;
  text.path = "/cluster/home/alice/bin/crunch";
  EXPECT_EQ(maps->at(1), text);

  EXPECT_EQ(maps->at(5).path, "[heap]");
  EXPECT_EQ(maps->at(6).path, "");  // anonymous: the line ends "0 " with no padding
  EXPECT_EQ(maps->at(6).inode, 0u);
  EXPECT_EQ(maps->at(7).path, "/dev/zero");  // shared anonymous memory
  EXPECT_TRUE(maps->at(7).deleted);
  EXPECT_TRUE(maps->at(7).shared());
  EXPECT_EQ(maps->back().start, 0xffffffffff600000u);
  EXPECT_EQ(maps->back().path, "[vsyscall]");
  EXPECT_EQ(maps->back().perms, "--xp");
}

TEST(ParseMaps, MarksDeletedFiles) {
  auto maps = parse_maps(read_fixture("deleted_binary.maps"));
  ASSERT_TRUE(maps);
  EXPECT_EQ(maps->at(0).path, "/cluster/home/alice/bin/crunch");
  EXPECT_TRUE(maps->at(0).deleted);
  EXPECT_FALSE(maps->at(0).shared());
}

TEST(ParseMapsLine, KeepsBlanksInsideAndAtTheEndOfPaths) {
  auto mapping = parse_maps_line(
      "7f3a5c400000-7f3a5d400000 r--s 00000000 00:2e 1048611                    "
      "/cluster/home/alice/my data.bin ");
  ASSERT_TRUE(mapping);
  EXPECT_EQ(mapping->path, "/cluster/home/alice/my data.bin ");
  EXPECT_FALSE(mapping->deleted);
}

TEST(ParseMapsLine, ReadsWideDevicesAndNamedAnonymousMemory) {
  auto mapping = parse_maps_line("7f00-8f00 rw-p 00000000 103:1a 7 [anon:jemalloc]");
  ASSERT_TRUE(mapping);
  EXPECT_EQ(mapping->dev_major, 0x103u);
  EXPECT_EQ(mapping->dev_minor, 0x1au);
  EXPECT_EQ(mapping->path, "[anon:jemalloc]");
}

TEST(ParseMapsLine, RejectsJunk) {
  const char* const kJunk[] = {
      "",
      "55d4c2a00000-55d4c2a01000",                                     // cut after range
      "55d4c2a00000-55d4c2a01000 r--p",                                // cut after perms
      "55d4c2a00000-55d4c2a01000 r--p 00000000",                       // cut after offset
      "55d4c2a00000-55d4c2a01000 r--p 00000000 00:2e",                 // cut after dev
      "55d4c2a00000-55d4c2a01000 r--p 00000000 00:2e ",                // no inode
      "55d4c2a00000 r--p 00000000 00:2e 1 /x",                         // no '-'
      "55d4c2a00000- r--p 00000000 00:2e 1 /x",                        // no end
      "55d4c2a01000-55d4c2a00000 r--p 00000000 00:2e 1 /x",            // reversed
      "55d4c2a00000-55d4c2a00000 r--p 00000000 00:2e 1 /x",            // empty
      "1ffffffffffffffff-2ffffffffffffffff r--p 00000000 00:2e 1 /x",  // 65-bit addresses
      "55D4C2A00000-55D4C2A01000 r--p 00000000 00:2e 1 /x",            // upper case
      "0x1000-0x2000 r--p 00000000 00:2e 1 /x",                        // prefix
      "1000-2000 r--q 00000000 00:2e 1 /x",                            // perms
      "1000-2000 r-- 00000000 00:2e 1 /x",                             // perms
      "1000-2000 rwxps 00000000 00:2e 1 /x",                           // perms
      "1000-2000 r--p 1ffffffffffffffff 00:2e 1 /x",                   // offset overflow
      "1000-2000 r--p 00000000 002e 1 /x",                             // dev without ':'
      "1000-2000 r--p 00000000 100000000:00 1 /x",                     // dev overflow
      "1000-2000 r--p 00000000 00:2e 99999999999999999999 /x",         // inode overflow
      "1000-2000 r--p 00000000 00:2e -1 /x",                           // inode sign
  };
  for (const char* line : kJunk) EXPECT_FALSE(parse_maps_line(line)) << line;
  EXPECT_FALSE(parse_maps_line("1000-2000 r--p 00000000 00:2e 1 /" + std::string(4096, 'a')));
  EXPECT_TRUE(parse_maps_line("1000-2000 r--p 00000000 00:2e 1 /" + std::string(4095, 'a')));
}

TEST(ParseMaps, OneBadLineSpoilsTheWhole) {
  std::string maps = read_fixture("crunch.maps");
  maps.insert(maps.find("[heap]\n") + 7, "7f00-\n");
  EXPECT_FALSE(parse_maps(maps));
  std::string cut = read_fixture("crunch.maps");
  cut.resize(cut.find(" 00:00 0 ") + 5);  // a read that stopped inside a line
  EXPECT_FALSE(parse_maps(cut));
}

TEST(ParseMaps, IsBounded) {
  EXPECT_EQ(parse_maps(""), std::vector<Mapping>{});
  std::string maps;
  for (size_t i = 0; i < kMaxMappings; ++i) maps += "1000-2000 rw-p 00000000 00:00 0 \n";
  auto full = parse_maps(maps);
  ASSERT_TRUE(full);
  EXPECT_EQ(full->size(), kMaxMappings);
  maps += "1000-2000 rw-p 00000000 00:00 0 \n";
  EXPECT_FALSE(parse_maps(maps));
}

TEST(ParseFdTable, ReadsARealTable) {
  auto fds = parse_fd_table(read_fixture("crunch.fds"));
  ASSERT_TRUE(fds);
  ASSERT_EQ(fds->size(), 15u);
  EXPECT_EQ(fds->at(0), (FdEntry{"0", "/dev/null"}));
  EXPECT_EQ(fds->at(4), (FdEntry{"4", "pipe:[1379345]"}));
  EXPECT_EQ(fds->at(10), (FdEntry{"10", "anon_inode:inotify"}));
  EXPECT_EQ(fds->at(12), (FdEntry{"cwd", "/cluster/home/alice/work"}));
  EXPECT_EQ(fds->at(14), (FdEntry{"exe", "/cluster/home/alice/bin/crunch"}));
}

TEST(ParseFdTable, TakesEverythingAfterTheFirstTabAsTheTarget) {
  auto fds = parse_fd_table("3\t/cluster/home/alice/a\tb (deleted)");
  ASSERT_TRUE(fds);
  EXPECT_EQ(fds->at(0).target, "/cluster/home/alice/a\tb (deleted)");
  EXPECT_EQ(parse_fd_table(""), std::vector<FdEntry>{});
}

TEST(ParseFdTable, RejectsJunk) {
  const char* const kJunk[] = {
      "3 /dev/null\n",                   // blank instead of tab
      "3\n",                             // no target
      "3\t\n",                           // empty target
      "\t/dev/null\n",                   // no slot
      "-1\t/dev/null\n",                 // sign
      "03\t/dev/null\n",                 // not canonical: could pose as a second fd 3
      "2147483648\t/dev/null\n",         // beyond INT32_MAX
      "99999999999999999999\t/x\n",      // overflow
      "mem\t/x\n",                       // unknown name
      "3\t/dev/null\n3\tpipe:[1]\n",     // repeated fd
      "cwd\t/a\ncwd\t/b\n",              // repeated link
      "0\t/dev/null\n\n1\t/dev/null\n",  // empty line inside
  };
  for (const char* table : kJunk) EXPECT_FALSE(parse_fd_table(table)) << table;
  EXPECT_TRUE(parse_fd_table("2147483647\t/dev/null\n"));
  EXPECT_FALSE(parse_fd_table("3\t/" + std::string(4096, 'a')));
  EXPECT_TRUE(parse_fd_table("3\t/" + std::string(4095, 'a')));
}

TEST(ParseFdTable, IsBounded) {
  std::string table;
  for (size_t fd = 0; fd < kMaxFdEntries; ++fd) table += std::to_string(fd) + "\tpipe:[1]\n";
  EXPECT_TRUE(parse_fd_table(table));
  table += std::to_string(kMaxFdEntries) + "\tpipe:[1]\n";
  EXPECT_FALSE(parse_fd_table(table));
}

TEST(ParseStatTtyNr, ReadsRealStatLines) {
  EXPECT_EQ(parse_stat_tty_nr(read_fixture("crunch.stat")), 0);
  EXPECT_EQ(parse_stat_tty_nr(read_fixture("worker.stat")), 0);
  EXPECT_EQ(parse_stat_tty_nr(read_fixture("on_pts3.stat")), 34819);  // 136:3
}

TEST(ParseStatTtyNr, CountsFieldsFromTheLastParenthesis) {
  // comm is "x) S 1 1 1 99": a parser stopping at the first ')' would read tty_nr 99.
  EXPECT_EQ(parse_stat_tty_nr(read_fixture("odd_comm.stat")), 0);
  EXPECT_EQ(parse_stat_tty_nr("7 (a) (b) S 1 7 7 0 -1 4194560\n"), 0);
  EXPECT_EQ(parse_stat_tty_nr("7 () R 1 7 7 34816 -1\n"), 34816);
  EXPECT_EQ(parse_stat_tty_nr("7 (a\nb) R 1 7 7 0 -1\n"), 0);  // comm may hold a newline
  EXPECT_EQ(parse_stat_tty_nr("7 (x) R 1 7 7 -5"), -5);
}

TEST(ParseStatTtyNr, RejectsJunk) {
  const char* const kJunk[] = {
      "",
      "\n",
      "7",
      "7 (crunch",                          // no ')'
      "7 crunch) R 1 7 7 0",                // no '('
      "(crunch) R 1 7 7 0",                 // no pid
      "x7 (crunch) R 1 7 7 0",              // bad pid
      "7 (crunch)R 1 7 7 0",                // no blank after ')'
      "7 (crunch) R 1 7 7",                 // cut before tty_nr
      "7 (crunch) R 1 7",                   // cut earlier
      "7 (crunch)",                         // nothing after comm
      "7 (crunch) RS 1 7 7 0",              // state of two letters
      "7 (crunch) 1 1 7 7 0",               // state not a letter
      "7 (crunch) R x 7 7 0",               // bad ppid
      "7 (crunch) R 1 7 7 2147483648",      // tty_nr beyond int32
      "7 (crunch) R 1 7 7 -2147483649",     // below int32
      "7 (crunch) R 1 7 7 99999999999999",  // huge
      "7 (crunch) R 1 7 7 0x10",            // not decimal
      "7 (crunch) R 1 7 7 --1",
  };
  for (const char* stat : kJunk) EXPECT_FALSE(parse_stat_tty_nr(stat)) << stat;
  EXPECT_EQ(parse_stat_tty_nr("7 (crunch) R 1 7 7 -2147483648"),
            std::numeric_limits<int32_t>::min());
}

TEST(TtyName, NamesTheUsualTerminals) {
  EXPECT_EQ(tty_name(34819), "/dev/pts/3");  // 136:3
  EXPECT_EQ(tty_name((300 & 0xff) | (136 << 8) | ((300 & ~0xff) << 12)), "/dev/pts/300");
  EXPECT_EQ(tty_name((4 << 8) | 1), "/dev/tty1");
  EXPECT_EQ(tty_name((4 << 8) | 64), "/dev/ttyS0");
  EXPECT_EQ(tty_name(5 << 8), "/dev/tty");
  EXPECT_EQ(tty_name((5 << 8) | 1), "/dev/console");
  EXPECT_EQ(tty_name((188 << 8) | 0), "tty device 188:0");  // a USB serial adapter
}

TEST(ParseCpuinfoFlags, ReadsRealCpuinfo) {
  auto zen = parse_cpuinfo_flags(read_fixture("zen4_vm.cpuinfo"));
  ASSERT_TRUE(zen);
  EXPECT_EQ(zen->size(), 106u);
  EXPECT_EQ(zen->front(), "fpu");
  EXPECT_EQ(zen->back(), "avx512_vp2intersect");
  auto ivy = parse_cpuinfo_flags(read_fixture("ivybridge.cpuinfo"));
  ASSERT_TRUE(ivy);
  EXPECT_EQ(ivy->size(), 90u);
  EXPECT_EQ(ivy->back(), "flush_l1d");
}

TEST(ParseCpuinfoFlags, ReadsOnlyTheFlagsLine) {
  auto flags = parse_cpuinfo_flags("vmx flags\t: vnmi ept\nflags\t\t: fpu sse sse fpu avx\n");
  ASSERT_TRUE(flags);
  EXPECT_EQ(*flags, (std::vector<std::string>{"fpu", "sse", "avx"}));  // repeats dropped
}

TEST(ParseCpuinfoFlags, RejectsJunk) {
  const char* const kJunk[] = {
      "",
      "processor\t: 0\nbugs\t\t: spectre_v1\n",  // no flags line
      "flags\t\t:\n",                            // no flags: not "a CPU without features"
      "flags\t\t:   \n",
      "flags\t\t: fpu SSE\n",    // upper case
      "flags\t\t: fpu sse-2\n",  // punctuation
      "flagsx\t: fpu\n",         // another name
  };
  for (const char* cpuinfo : kJunk) EXPECT_FALSE(parse_cpuinfo_flags(cpuinfo)) << cpuinfo;
  EXPECT_FALSE(parse_cpuinfo_flags("flags : " + std::string(kMaxCpuFlagBytes + 1, 'a')));
  EXPECT_TRUE(parse_cpuinfo_flags("flags : " + std::string(kMaxCpuFlagBytes, 'a')));
  std::string many = "flags :";
  for (size_t i = 0; i <= kMaxCpuFlags; ++i) many += " f" + std::to_string(i);
  EXPECT_FALSE(parse_cpuinfo_flags(many));
}

// ---- the decision: one row per rule ----

struct Case {
  const char* name;
  std::function<void(Move&)> change;  // turns the clean move into the case
  PreflightCause cause;
  const char* refusal;  // exact; "" when the move passes
};

std::ostream& operator<<(std::ostream& out, const Case& c) { return out << c.name; }

const Case kCases[] = {
    {"Clean", [](Move&) {}, PreflightCause::kNone, ""},
    {"TerminalByTtyNr", [](Move& m) { m.crunch().tty_nr = tty_fixture("on_pts3.stat"); },
     PreflightCause::kTerminal,
     "job 42 has a terminal (/dev/pts/3): run it with `clusterlive run` without a tty"},
    {"TerminalByFd", [](Move& m) { m.worker().fds = fds_fixture("terminal.fds"); },
     PreflightCause::kTerminal,
     "job 42 has a terminal (/dev/pts/3): run it with `clusterlive run` without a tty"},
    {"TerminalBeforeOtherCauses",
     [](Move& m) {
       m.crunch().fds = fds_fixture("socket.fds");
       m.worker().fds = fds_fixture("terminal.fds");
     },
     PreflightCause::kTerminal,
     "job 42 has a terminal (/dev/pts/3): run it with `clusterlive run` without a tty"},
    {"FileOutsideRoots", [](Move& m) { m.worker().fds = fds_fixture("tmp_file.fds"); },
     PreflightCause::kOutsideRoots, "pid 7 has /tmp/x.dat open, outside /cluster"},
    {"MappingOutsideRoots", [](Move& m) { m.crunch().maps = maps_fixture("tmp_mapping.maps"); },
     PreflightCause::kOutsideRoots, "pid 1 maps /tmp/scratch.dat, outside /cluster"},
    {"WorkingDirectoryOutsideRoots", [](Move& m) { m.worker().fds = fds_fixture("tmp_cwd.fds"); },
     PreflightCause::kOutsideRoots, "pid 7 works in /tmp, outside /cluster"},
    {"WorkingInTheRootDirectory",
     [](Move& m) {
       for (auto& fd : m.crunch().fds) {
         if (fd.slot == "cwd") fd.target = "/";
       }
     },
     PreflightCause::kNone, ""},
    {"LookalikeOfARoot",
     [](Move& m) {
       m.worker().fds.push_back({"9", "/clusterfs/x"});
     },
     PreflightCause::kOutsideRoots, "pid 7 has /clusterfs/x open, outside /cluster"},
    {"DotDotOutOfARoot",
     [](Move& m) {
       m.worker().fds.push_back({"9", "/cluster/../tmp/x"});
     },
     PreflightCause::kOutsideRoots, "pid 7 has /cluster/../tmp/x open, outside /cluster"},
    {"ControlCharactersInAPathAreNotEchoed",
     [](Move& m) {
       m.worker().fds.push_back({"9", "/tmp/\x1b[2Jx"});
     },
     PreflightCause::kOutsideRoots, "pid 7 has /tmp/?[2Jx open, outside /cluster"},
    {"Chrooted", [](Move& m) { m.worker().fds = fds_fixture("chroot.fds"); },
     PreflightCause::kUnsupportedFile,
     "pid 7 has its root in /srv/chroot/bookworm: chrooted jobs are not migrated"},
    {"DeletedFile", [](Move& m) { m.worker().fds = fds_fixture("deleted_file.fds"); },
     PreflightCause::kDeletedFile,
     "pid 7 has /cluster/home/alice/work/partial-0007.out (deleted) open: a deleted file "
     "cannot be reopened on another node"},
    {"DeletedMapping", [](Move& m) { m.crunch().maps = maps_fixture("deleted_binary.maps"); },
     PreflightCause::kDeletedFile,
     "pid 1 maps /cluster/home/alice/bin/crunch (deleted): a deleted file cannot be reopened "
     "on another node"},
    {"PrivateDeletedDevZeroIsNotSharedMemory",
     [](Move& m) { m.crunch().maps.at(7).perms = "rw-p"; }, PreflightCause::kDeletedFile,
     "pid 1 maps /dev/zero (deleted): a deleted file cannot be reopened on another node"},
    {"Socket", [](Move& m) { m.worker().fds = fds_fixture("socket.fds"); }, PreflightCause::kSocket,
     "pid 7 has a socket open (socket:[456]): sockets are not migrated in v1"},
    {"UnknownAnonInode", [](Move& m) { m.worker().fds = fds_fixture("io_uring.fds"); },
     PreflightCause::kUnsupportedFile,
     "pid 7 has anon_inode:[io_uring] open, a kind of file that is not migrated"},
    {"NamespaceFd",
     [](Move& m) {
       m.worker().fds.push_back({"9", "net:[4026531840]"});
     },
     PreflightCause::kUnsupportedFile,
     "pid 7 has net:[4026531840] open, a kind of file that is not migrated"},
    {"UnknownSpecialMapping",
     [](Move& m) {
       m.crunch().maps.push_back(*parse_maps_line(
           "7ffff7ff0000-7ffff7ff1000 r-xp 00000000 00:00 0                          [uprobes]"));
     },
     PreflightCause::kUnsupportedFile,
     "pid 1 maps [uprobes], a kind of mapping that is not migrated"},
    {"HarmlessDevicesPipesAndEventFdsPass",
     [](Move& m) {
       m.worker().fds.push_back({"20", "/dev/zero"});
       m.worker().fds.push_back({"21", "pipe:[99]"});
       m.worker().fds.push_back({"22", "anon_inode:[eventfd]"});
       m.crunch().maps.push_back(*parse_maps_line("1000-2000 r--p 00000000 00:05 4 /dev/zero"));
       m.crunch().maps.push_back(*parse_maps_line("2000-3000 rw-p 00000000 00:00 0 [anon:x]"));
     },
     PreflightCause::kNone, ""},
    {"SpoolOutsideTheSharedRoots",
     [](Move& m) {
       m.job.spool_dir = "/srv/spool/42";
       m.worker().fds.at(1).target = "/srv/spool/42/stdout";
       m.source.files["/srv/spool/42/stdout"] = {true, 20480, ""};
       m.target.files["/srv/spool/42/stdout"] = {true, 4096, ""};
     },
     PreflightCause::kNone, ""},
    {"TargetLacksAFile",
     [](Move& m) { m.target.files["/cluster/home/alice/data/matrix.bin"].exists = false; },
     PreflightCause::kFileMissing, "node-b2c4d6 has no /cluster/home/alice/data/matrix.bin"},
    {"TargetDidNotReportAFile",
     [](Move& m) { m.target.files.erase("/usr/lib/x86_64-linux-gnu/libm.so.6"); },
     PreflightCause::kFileMissing,
     "node-b2c4d6 did not report on /usr/lib/x86_64-linux-gnu/libm.so.6"},
    {"SourceLostAFile",
     [](Move& m) { m.source.files["/cluster/home/alice/work/partial-0007.out"].exists = false; },
     PreflightCause::kFileMissing,
     "node-3a9f01 no longer has /cluster/home/alice/work/partial-0007.out (removed during "
     "pre-flight?)"},
    {"ImageFileSizeDiffers",
     [](Move& m) { m.target.files["/usr/lib/x86_64-linux-gnu/libc.so.6"].size += 4096; },
     PreflightCause::kFileDiffers,
     "node-b2c4d6 has a different /usr/lib/x86_64-linux-gnu/libc.so.6: 1926232 bytes there, "
     "1922136 bytes on node-3a9f01"},
    {"BuildIdDiffers",
     [](Move& m) {
       m.target.files["/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"].build_id =
           "0e3c5a1f7b9d2c4e6a8f0b1d3e5c7a9f2b4d6e81";
     },
     PreflightCause::kFileDiffers,
     "node-b2c4d6 has a different /usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2: its build-id "
     "differs"},
    {"SharedBinaryBuildIdDiffers",
     [](Move& m) { m.target.files["/cluster/home/alice/bin/crunch"].build_id = ""; },
     PreflightCause::kFileDiffers,
     "node-b2c4d6 has a different /cluster/home/alice/bin/crunch: its build-id differs"},
    {"SharedFileSizeMayDiffer",  // the job's output grows; NFS attributes lag
     [](Move& m) { m.target.files["/cluster/jobs/42/stdout"].size = 16384; }, PreflightCause::kNone,
     ""},
    {"CpuLacksFeatures", [](Move& m) { m.target.cpu_flags = flags_fixture("ivybridge.cpuinfo"); },
     PreflightCause::kCpuFeatures,
     "node-b2c4d6 lacks CPU features: mmxext, fxsr_opt, pdpe1gb, fma, movbe and 41 more"},
    {"CpuLacksOneFeature", [](Move& m) { std::erase(m.target.cpu_flags, "avx512f"); },
     PreflightCause::kCpuFeatures, "node-b2c4d6 lacks CPU features: avx512f"},
    {"CpuDiffersOnlyInFlagsThatAreNotInstructions",
     [](Move& m) {
       for (const char* flag : {"hypervisor", "constant_tsc", "tsc_known_freq", "topoext"}) {
         std::erase(m.target.cpu_flags, flag);
       }
     },
     PreflightCause::kNone, ""},
    {"StrictCpuPolicy",
     [](Move& m) {
       m.policy.ignored_cpu_flags.clear();
       std::erase(m.target.cpu_flags, "hypervisor");
     },
     PreflightCause::kCpuFeatures, "node-b2c4d6 lacks CPU features: hypervisor"},
    {"TargetCpuFlagsUnknown", [](Move& m) { m.target.cpu_flags.clear(); },
     PreflightCause::kBadInput, "the CPU flags of node-b2c4d6 are unknown"},
    {"CriuLacksFeature",
     [](Move& m) {
       m.target.criu_features = {"timens", "uffd"};
     },
     PreflightCause::kCriuFeatures, "node-b2c4d6 lacks CRIU features: mem_dirty_track"},
    {"TooLittleMemory", [](Move& m) { m.target.available_bytes = 900 * kMiB; },
     PreflightCause::kMemory,
     "node-b2c4d6 has 900 MiB of memory available, job 42 needs 1000 MiB (125% of its 800 MiB "
     "resident)"},
    {"OneByteTooLittleMemory", [](Move& m) { m.target.available_bytes = 1000 * kMiB - 1; },
     PreflightCause::kMemory,
     "node-b2c4d6 has 999 MiB of memory available, job 42 needs 1000 MiB (125% of its 800 MiB "
     "resident)"},
    {"JustEnoughMemory", [](Move& m) { m.target.available_bytes = 1000 * kMiB; },
     PreflightCause::kNone, ""},
    {"AbsurdResidentSizeSaturates",
     [](Move& m) {
       m.job.rss_bytes = std::numeric_limits<uint64_t>::max();
       m.target.available_bytes = std::numeric_limits<uint64_t>::max() - 1;
     },
     PreflightCause::kMemory,
     "node-b2c4d6 has 17592186044415 MiB of memory available, job 42 needs 17592186044416 MiB "
     "(125% of its 17592186044416 MiB resident)"},
    {"NoProcesses", [](Move& m) { m.job.processes.clear(); }, PreflightCause::kBadInput,
     "job 42 has no processes to move"},
    {"BadPolicyRoot", [](Move& m) { m.policy.image_roots.push_back("/opt"); },
     PreflightCause::kBadInput, "allowed root /opt is not an absolute path ending in '/'"},
};

class PreflightRules : public ::testing::TestWithParam<Case> {};

TEST_P(PreflightRules, AppliesTheRule) {
  const Case& c = GetParam();
  Move move = clean_move();
  c.change(move);
  PreflightResult result = preflight_decide(move.job, move.source, move.target, move.policy);
  EXPECT_EQ(result.cause, c.cause);
  EXPECT_EQ(result.refusal, c.refusal);
  EXPECT_EQ(result.ok, c.cause == PreflightCause::kNone);
}

INSTANTIATE_TEST_SUITE_P(Preflight, PreflightRules, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<Case>& row) {
                           return std::string(row.param.name);
                         });

// ---- the two phases ----

TEST(PreflightFilesToCheck, ListsEachFileOnceSorted) {
  Move move = clean_move();
  PreflightResult result = preflight_files_to_check(move.job, move.policy);
  ASSERT_TRUE(result.ok) << result.refusal;
  // Exactly the paths of the fixture's answers: the binary and libraries mapped by both
  // processes appear once; /dev/null, pipes, anonymous memory and "/dev/zero (deleted)" not.
  std::vector<std::string> expected;
  for (const auto& [path, facts] : files_fixture("crunch.files")) expected.push_back(path);
  EXPECT_EQ(result.files_to_check, expected);
  EXPECT_EQ(expected.size(), 10u);
}

TEST(PreflightFilesToCheck, RefusesBeforeAskingAnyone) {
  Move move = clean_move();
  move.crunch().tty_nr = tty_fixture("on_pts3.stat");
  PreflightResult result = preflight_files_to_check(move.job, move.policy);
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.cause, PreflightCause::kTerminal);
  EXPECT_TRUE(result.files_to_check.empty());
}

TEST(PreflightDecide, ReportsWhatItChecked) {
  Move move = clean_move();
  PreflightResult result = preflight_decide(move.job, move.source, move.target, move.policy);
  ASSERT_TRUE(result.ok) << result.refusal;
  EXPECT_TRUE(result.refusal.empty());
  EXPECT_EQ(result.files_to_check, preflight_files_to_check(move.job).files_to_check);
}

TEST(PreflightDecide, IgnoresAnswersNobodyAskedFor) {
  Move move = clean_move();
  move.target.files["/etc/shadow"] = FileFacts{true, 1, "ff"};
  EXPECT_TRUE(preflight_decide(move.job, move.source, move.target, move.policy).ok);
}

}  // namespace
}  // namespace clusterlive
