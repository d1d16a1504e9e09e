#include "storage/storage_manager.h"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "sys/test_temp_dir.h"

namespace clusterlive {
namespace {

// A mountinfo line with an NFS mount of [fd12::1]:/ on /cluster.
const char* kNfsLine =
    "512 29 0:61 / /cluster rw,relatime shared:300 - nfs4 [fd12::1]:/ rw,vers=4.2\n";

TEST(NfsServerOfMount, FindsTheServerAddress) {
  std::string mountinfo = "29 1 0:26 / / rw - overlay overlay rw\n" + std::string(kNfsLine);
  EXPECT_EQ(nfs_server_of_mount(mountinfo, "/cluster"), "fd12::1");
  EXPECT_EQ(nfs_server_of_mount(mountinfo, "/other"), "");
}

TEST(NfsServerOfMount, NotNfsOrMalformedIsNothing) {
  EXPECT_EQ(nfs_server_of_mount("30 29 0:40 / /cluster rw - tmpfs tmpfs rw\n", "/cluster"), "");
  EXPECT_EQ(nfs_server_of_mount("30 29 0:40 / /cluster rw shared:1\n", "/cluster"), "");
  EXPECT_EQ(nfs_server_of_mount("30 29 0:40 / /cluster rw - nfs4 host:/ rw\n", "/cluster"), "");
  EXPECT_EQ(nfs_server_of_mount("", "/cluster"), "");
}

TEST(NfsServerOfMount, ALaterMountOnTheSamePointHidesTheNfsOne) {
  std::string mountinfo =
      std::string(kNfsLine) + "600 512 0:70 / /cluster rw - tmpfs tmpfs rw\n";
  EXPECT_EQ(nfs_server_of_mount(mountinfo, "/cluster"), "");
}

// A fake helper: logs its arguments, sleeps $dir/sleep seconds if present, exits with the
// code in $dir/exit (0 if absent).
class StorageManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    helper_ = dir_.write("helper",
                         "#!/bin/sh\n"
                         "d=\"$(dirname \"$0\")\"\n"
                         "echo \"$*\" >>\"$d/calls\"\n"
                         "[ -f \"$d/sleep\" ] && sleep \"$(cat \"$d/sleep\")\"\n"
                         "exit \"$(cat \"$d/exit\" 2>/dev/null || echo 0)\"\n");
    chmod(helper_.c_str(), 0755);
    dir_.write("mountinfo", "29 1 0:26 / / rw - overlay overlay rw\n");
    options_.helper_path = helper_;
    options_.mount_point = "/cluster";
    options_.exports_file = dir_.at("exports");
    options_.mountinfo_path = dir_.at("mountinfo");
  }

  std::string calls() const {
    std::ifstream in(dir_.at("calls"));
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

  // Polls until the running action is done (bounded), at time `now`; starts nothing.
  void finish(StorageManager& manager, const StorageWanted&, TimeMs now) {
    for (int i = 0; i < 500 && !manager.busy_with().empty(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      manager.poll(now);
    }
    ASSERT_TRUE(manager.busy_with().empty()) << "the helper never finished";
  }

  testing::TempDir dir_;
  std::string helper_;
  StorageManagerOptions options_;
};

StorageWanted serve_and_mount() {
  return StorageWanted{true, "fd12::1", "fd12::/48", "fd12::1", "node-a"};
}

TEST_F(StorageManagerTest, ServesFirstThenMountsOneActionAtATime) {
  StorageManager manager(options_);
  EXPECT_FALSE(manager.serving());
  EXPECT_EQ(manager.mounted_from(), "");

  manager.reconcile(serve_and_mount(), 0);
  EXPECT_NE(manager.busy_with().find("standby fd12::1"), std::string::npos);
  manager.reconcile(serve_and_mount(), 0);  // still running or just done: no second start
  finish(manager, serve_and_mount(), 0);
  EXPECT_FALSE(manager.serving()) << "standing by is not serving";

  manager.reconcile(serve_and_mount(), 0);
  EXPECT_NE(manager.busy_with().find("serve fd12::1 fd12::/48"), std::string::npos);
  finish(manager, serve_and_mount(), 0);
  EXPECT_TRUE(manager.serving());

  manager.reconcile(serve_and_mount(), 0);
  finish(manager, serve_and_mount(), 0);
  EXPECT_EQ(manager.mounted_from(), "fd12::1");
  EXPECT_FALSE(manager.homes_linked());

  manager.reconcile(serve_and_mount(), 0);
  finish(manager, serve_and_mount(), 0);
  EXPECT_TRUE(manager.homes_linked());
  EXPECT_EQ(calls(),
            "standby fd12::1\nserve fd12::1 fd12::/48\nmount fd12::1 node-a\nlink-homes\n");

  // Reached: nothing more is started.
  manager.reconcile(serve_and_mount(), 0);
  EXPECT_EQ(manager.busy_with(), "");
  EXPECT_EQ(manager.take_log_lines().size(), 8u);  // four starts, four "done"
}

TEST_F(StorageManagerTest, HomesAreLinkedAfterEveryMountAndRetriedUntilTheyAre) {
  StorageManager manager(options_);
  StorageWanted first{false, "", "", "fd12::1", "node-b"};
  manager.reconcile(first, 0);
  finish(manager, first, 0);
  ASSERT_EQ(manager.mounted_from(), "fd12::1");

  dir_.write("exit", "1");
  manager.reconcile(first, 0);
  finish(manager, first, 0);
  EXPECT_FALSE(manager.homes_linked());
  EXPECT_NE(manager.last_error().find("link-homes failed"), std::string::npos)
      << manager.last_error();
  EXPECT_EQ(manager.mounted_from(), "fd12::1") << "the mount itself stands";
  manager.reconcile(first, kStorageRetryMs - 1);
  EXPECT_EQ(manager.busy_with(), "") << "retried too soon";
  dir_.write("exit", "0");
  manager.reconcile(first, kStorageRetryMs);
  finish(manager, first, kStorageRetryMs);
  EXPECT_TRUE(manager.homes_linked());

  // Another storage node: mounted, then linked again.
  StorageWanted second{false, "", "", "fd12::2", "node-b"};
  manager.reconcile(second, kStorageRetryMs);
  finish(manager, second, kStorageRetryMs);
  EXPECT_FALSE(manager.homes_linked());
  manager.reconcile(second, kStorageRetryMs);
  finish(manager, second, kStorageRetryMs);
  EXPECT_TRUE(manager.homes_linked());
  EXPECT_EQ(calls(), "mount fd12::1 node-b\nlink-homes\nlink-homes\nmount fd12::2 node-b\nlink-homes\n");
}

TEST_F(StorageManagerTest, ADaemonRestartLinksTheHomesOfTheMountInPlaceOnce) {
  dir_.write("mountinfo", kNfsLine);
  StorageManager manager(options_);
  StorageWanted same{false, "", "", "fd12::1", "node-b"};
  manager.reconcile(same, 0);
  finish(manager, same, 0);
  EXPECT_TRUE(manager.homes_linked());
  manager.reconcile(same, 0);
  EXPECT_EQ(manager.busy_with(), "");
  EXPECT_EQ(calls(), "link-homes\n");
}

TEST_F(StorageManagerTest, ReconcileDoesNotWaitForTheHelper) {
  dir_.write("sleep", "2");
  StorageManager manager(options_);
  auto before = std::chrono::steady_clock::now();
  manager.reconcile(serve_and_mount(), 0);
  manager.reconcile(serve_and_mount(), 0);
  EXPECT_LT(std::chrono::steady_clock::now() - before, std::chrono::milliseconds(500));
  EXPECT_FALSE(manager.busy_with().empty());
  finish(manager, serve_and_mount(), 0);  // standby
  manager.reconcile(serve_and_mount(), 0);
  EXPECT_FALSE(manager.serving()) << "serving only once the helper succeeded";
  finish(manager, serve_and_mount(), 0);
  EXPECT_TRUE(manager.serving());
}

TEST_F(StorageManagerTest, AFailedActionIsReportedAndRetriedOnlyAfterAPause) {
  dir_.write("exit", "1");
  StorageManager manager(options_);
  StorageWanted mount_only{false, "", "", "fd12::9", "node-b"};
  manager.reconcile(mount_only, 0);
  finish(manager, mount_only, 0);
  EXPECT_EQ(manager.mounted_from(), "");
  EXPECT_NE(manager.last_error().find("failed with exit code 1"), std::string::npos)
      << manager.last_error();

  manager.reconcile(mount_only, kStorageRetryMs - 1);
  EXPECT_EQ(manager.busy_with(), "") << "retried too soon";
  dir_.write("exit", "0");
  manager.reconcile(mount_only, kStorageRetryMs);
  finish(manager, mount_only, kStorageRetryMs);
  EXPECT_EQ(manager.mounted_from(), "fd12::9");
  EXPECT_EQ(manager.last_error(), "");
}

TEST_F(StorageManagerTest, AHelperThatHangsIsKilledAfterTheTimeout) {
  dir_.write("sleep", "600");
  StorageManager manager(options_);
  StorageWanted mount_only{false, "", "", "fd12::9", "node-b"};
  manager.reconcile(mount_only, 0);
  ASSERT_FALSE(manager.busy_with().empty());
  manager.reconcile(mount_only, kStorageActionTimeoutMs - 1);
  EXPECT_FALSE(manager.busy_with().empty());
  manager.reconcile(mount_only, kStorageActionTimeoutMs);
  EXPECT_EQ(manager.busy_with(), "");
  EXPECT_NE(manager.last_error().find("killed"), std::string::npos) << manager.last_error();
}

TEST_F(StorageManagerTest, PicksUpWhatIsInPlaceAndUndoesWhatIsNoLongerWanted) {
  dir_.write("exports", "/srv/cluster fd12::/48(rw)\n");
  dir_.write("mountinfo", kNfsLine);
  StorageManager manager(options_);
  EXPECT_TRUE(manager.serving());
  EXPECT_EQ(manager.mounted_from(), "fd12::1");

  StorageWanted nothing{};
  manager.reconcile(nothing, 0);
  finish(manager, nothing, 0);
  EXPECT_FALSE(manager.serving());
  manager.reconcile(nothing, 0);
  finish(manager, nothing, 0);
  EXPECT_EQ(manager.mounted_from(), "");
  EXPECT_EQ(calls(), "unserve\nunmount\n");
}

TEST_F(StorageManagerTest, ANodeOnItsWayOutNoLongerClaimsToServe) {
  dir_.write("exports", "/srv/cluster fd12::/48(rw)\n");
  dir_.write("sleep", "1");
  StorageManager manager(options_);
  EXPECT_TRUE(manager.claims_serving());
  StorageWanted nothing{};
  manager.reconcile(nothing, 0);
  ASSERT_NE(manager.busy_with().find("unserve"), std::string::npos);
  EXPECT_TRUE(manager.serving()) << "the export is still up";
  EXPECT_FALSE(manager.claims_serving()) << "but deciding on it would serve again";
  finish(manager, nothing, 0);
  EXPECT_FALSE(manager.claims_serving());
}

TEST_F(StorageManagerTest, AnotherServerReplacesTheMount) {
  dir_.write("mountinfo", kNfsLine);
  StorageManager manager(options_);
  StorageWanted elsewhere{false, "", "", "fd12::7", "node-c"};
  manager.reconcile(elsewhere, 0);
  finish(manager, elsewhere, 0);
  EXPECT_EQ(manager.mounted_from(), "fd12::7");
  EXPECT_EQ(calls(), "mount fd12::7 node-c\n");
}

TEST_F(StorageManagerTest, AMissingHelperIsAClearError) {
  options_.helper_path = dir_.at("no-such-helper");
  StorageManager manager(options_);
  manager.reconcile(serve_and_mount(), 0);
  finish(manager, serve_and_mount(), 0);
  EXPECT_FALSE(manager.serving());
  EXPECT_NE(manager.last_error().find("no-such-helper"), std::string::npos)
      << manager.last_error();
}

TEST(StorageHelper, RefusesBadUsageWithoutTouchingAnything) {
  for (const char* arguments :
       {"", "standby", "serve", "serve fd12::1", "mount fd12::1", "link-homes all", "unmount now",
        "format"}) {
    std::string command = std::string(STORAGE_HELPER) + " " + arguments + " 2>/dev/null";
    int status = std::system(command.c_str());
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1) << arguments;
  }
}

}  // namespace
}  // namespace clusterlive
