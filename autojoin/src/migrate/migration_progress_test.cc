// Which orphaned migrations the daemon starts a recovery for (migration_progress.h).
#include "migrate/migration_progress.h"

#include <gtest/gtest.h>

namespace clusterlive {
namespace {

TEST(MigrationProgress, ParsesWhatTheDaemonNeeds) {
  auto summary = parse_progress_summary(
      R"({"target":"node-b","attempt":3,"outcome":"in_progress","worker_pid":42})");
  ASSERT_TRUE(summary);
  EXPECT_EQ(summary->outcome, "in_progress");
  EXPECT_EQ(summary->worker_pid, 42);
  EXPECT_EQ(parse_progress_summary(R"({"outcome":"aborted"})")->worker_pid, 0);
  EXPECT_FALSE(parse_progress_summary("{\"outcome\":"));  // torn
  EXPECT_FALSE(parse_progress_summary(R"({"worker_pid":42})"));
  EXPECT_EQ(protocol_name(to_string(MigrationOutcome::in_progress)), "in_progress");
}

TEST(MigrationProgress, OnlyAnUnfinishedMigrationWithoutALiveWorkerNeedsRecovery) {
  auto alive = [](pid_t pid) { return pid == 7; };
  EXPECT_FALSE(needs_recovery({"in_progress", 7}, alive));
  EXPECT_TRUE(needs_recovery({"in_progress", 8}, alive));
  EXPECT_TRUE(needs_recovery({"in_progress", 0}, alive));
  EXPECT_FALSE(needs_recovery({"aborted", 8}, alive));
  EXPECT_FALSE(needs_recovery({"committed", 8}, alive));
  EXPECT_FALSE(needs_recovery({"lost", 8}, alive));
}

TEST(MigrationProgress, StartsARecoveryPerJobAtMostEveryInterval) {
  RecoveryScheduler scheduler;
  auto alive = [](pid_t pid) { return pid == 7; };
  std::map<std::string, ProgressSummary> progress = {
      {"job-1", {"in_progress", 8}}, {"job-2", {"in_progress", 7}}, {"job-3", {"committed", 8}}};
  EXPECT_EQ(scheduler.due(progress, alive, 1'000), std::vector<std::string>{"job-1"});
  EXPECT_TRUE(scheduler.due(progress, alive, 1'000 + kRecoveryRespawnIntervalMs - 1).empty());
  progress["job-4"] = {"in_progress", 9};  // another one is not held up by job-1's interval
  EXPECT_EQ(scheduler.due(progress, alive, 2'000), std::vector<std::string>{"job-4"});
  EXPECT_EQ(scheduler.due(progress, alive, 1'000 + kRecoveryRespawnIntervalMs),
            std::vector<std::string>{"job-1"});
  // A job whose file went is forgotten: when a file for it comes back, it is new again.
  progress.erase("job-1");
  EXPECT_EQ(scheduler.due(progress, alive, 12'000), std::vector<std::string>{"job-4"});
  progress["job-1"] = {"in_progress", 8};
  EXPECT_EQ(scheduler.due(progress, alive, 12'001), std::vector<std::string>{"job-1"});
}

}  // namespace
}  // namespace clusterlive
