#include "criu/criu_commands.h"

#include <gtest/gtest.h>

namespace clusterlive::criu {
namespace {

using Argv = std::vector<std::string>;

const std::string kSource = "/var/lib/clusterlive/images/job-17/3";
const std::string kTarget = "/var/lib/clusterlive/images/job-17/3";

TEST(ImageSet, NamesAndParents) {
  EXPECT_EQ(ImageSet::precopy(1).name(), "1");
  EXPECT_EQ(ImageSet::precopy(1).parent_round(), 0u);
  EXPECT_EQ(ImageSet::precopy(4).name(), "4");
  EXPECT_EQ(ImageSet::precopy(4).parent_round(), 3u);
  EXPECT_EQ(ImageSet::final_after(0).name(), "final");
  EXPECT_EQ(ImageSet::final_after(0).parent_round(), 0u);
  EXPECT_EQ(ImageSet::final_after(3).name(), "final");
  EXPECT_EQ(ImageSet::final_after(3).parent_round(), 3u);
}

TEST(Layout, DirectoriesAndLogs) {
  EXPECT_EQ(images_dir("/a", ImageSet::precopy(2)), "/a/2");
  EXPECT_EQ(images_dir("/a", ImageSet::final_after(2)), "/a/final");
  EXPECT_EQ(log_path("/a", "pre-dump", ImageSet::precopy(2)), "/a/pre-dump-2.log");
  EXPECT_EQ(log_path("/a", "dump", ImageSet::final_after(2)), "/a/dump-final.log");
}

TEST(PageServer, FirstRoundHasNoParent) {
  PageServerRequest request{kTarget, ImageSet::precopy(1), "fd00:c1::2", 27000, -1};
  EXPECT_EQ(page_server_command(request),
            (Argv{"criu", "page-server", "-D", kTarget + "/1", "--address", "fd00:c1::2", "--port",
                  "27000", "-o", kTarget + "/page-server-1.log", "-v4"}));
}

TEST(PageServer, LaterRoundNamesThePreviousOneDedupsItAndReportsReadiness) {
  PageServerRequest request{kTarget, ImageSet::precopy(3), "fd00:c1::2", 27001, 3};
  EXPECT_EQ(page_server_command(request),
            (Argv{"criu", "page-server", "-D", kTarget + "/3", "--prev-images-dir", "../2",
                  "--auto-dedup", "--address", "fd00:c1::2", "--port", "27001", "--status-fd", "3",
                  "-o", kTarget + "/page-server-3.log", "-v4"}));
}

TEST(PageServer, FinalSetNamesTheLastRound) {
  PageServerRequest request{kTarget, ImageSet::final_after(2), "fd00:c1::2", 27000, 5};
  EXPECT_EQ(page_server_command(request),
            (Argv{"criu", "page-server", "-D", kTarget + "/final", "--prev-images-dir", "../2",
                  "--auto-dedup", "--address", "fd00:c1::2", "--port", "27000", "--status-fd", "5",
                  "-o", kTarget + "/page-server-final.log", "-v4"}));
}

TEST(PreDump, FirstRound) {
  DumpRequest request{4242, kSource, ImageSet::precopy(1), "fd00:c1::2", 27000};
  EXPECT_EQ(pre_dump_command(request),
            (Argv{"criu", "pre-dump", "-t", "4242", "-D", kSource + "/1", "--track-mem",
                  "--page-server", "--address", "fd00:c1::2", "--port", "27000", "-o",
                  kSource + "/pre-dump-1.log", "-v4"}));
}

TEST(PreDump, LaterRound) {
  DumpRequest request{4242, kSource, ImageSet::precopy(2), "fd00:c1::2", 27000};
  EXPECT_EQ(pre_dump_command(request),
            (Argv{"criu", "pre-dump", "-t", "4242", "-D", kSource + "/2", "--prev-images-dir",
                  "../1", "--track-mem", "--page-server", "--address", "fd00:c1::2", "--port",
                  "27000", "-o", kSource + "/pre-dump-2.log", "-v4"}));
}

TEST(Dump, AfterPrecopyTracksMemorySoUnchangedPagesStayInTheParent) {
  DumpRequest request{4242, kSource, ImageSet::final_after(3), "fd00:c1::2", 27000};
  EXPECT_EQ(dump_command(request),
            (Argv{"criu", "dump", "-t", "4242", "-D", kSource + "/final", "--prev-images-dir",
                  "../3", "--track-mem", "--page-server", "--address", "fd00:c1::2", "--port",
                  "27000", "--leave-stopped", "-o", kSource + "/dump-final.log", "-v4"}));
}

TEST(Dump, StopAndCopyNeedsNoTracking) {
  // The exact line scripts/criu-lab ran on CRIU 4.1.1 (stop-and-copy there: no soft-dirty).
  DumpRequest request{47, "/lab/src/2", ImageSet::final_after(0), "127.0.0.1", 27099};
  EXPECT_EQ(dump_command(request),
            (Argv{"criu", "dump", "-t", "47", "-D", "/lab/src/2/final", "--page-server",
                  "--address", "127.0.0.1", "--port", "27099", "--leave-stopped", "-o",
                  "/lab/src/2/dump-final.log", "-v4"}));
}

TEST(Restore, DetachedStoppedWithPidfile) {
  RestoreRequest request{kTarget, "/run/clusterlive/jobs/job-17/restored.pid"};
  EXPECT_EQ(restore_command(request),
            (Argv{"criu", "restore", "-D", kTarget + "/final", "-d", "--leave-stopped", "--pidfile",
                  "/run/clusterlive/jobs/job-17/restored.pid", "-o", kTarget + "/restore-final.log",
                  "-v4"}));
}

TEST(Restore, NeverUsesFlagsWeRuledOut) {
  // Sockets are refused by pre-flight; locks, unlinked-file relinking and sibling restore are
  // ruled out on purpose (README.md).
  std::vector<Argv> all{
      restore_command({kTarget, "/p"}),
      dump_command({1, kSource, ImageSet::final_after(1), "a", 1}),
      pre_dump_command({1, kSource, ImageSet::precopy(1), "a", 1}),
  };
  for (const Argv& argv : all) {
    for (const char* banned :
         {"--tcp-established", "--ext-unix-sk", "--file-locks", "-l", "--link-remap",
          "--restore-sibling", "-S", "--shell-job", "--lazy-pages", "--display-stats"}) {
      for (const std::string& arg : argv) EXPECT_NE(arg, banned);
    }
  }
}

TEST(Check, Commands) {
  EXPECT_EQ(check_command(), (Argv{"criu", "check"}));
  EXPECT_EQ(check_precopy_command(), (Argv{"criu", "check", "--feature", "mem_dirty_track"}));
}

}  // namespace
}  // namespace clusterlive::criu
