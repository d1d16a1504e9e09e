#include "core/placement.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace clusterlive {
namespace {

constexpr uint64_t kGiB = 1024ull * 1024 * 1024;

PlacementNode node(const std::string& id, uint32_t cores, uint32_t speed, double load,
                   uint64_t free_mib = 64 * 1024, bool up = true) {
  return PlacementNode{id, up, cores, speed, static_cast<uint64_t>(load * 1000), free_mib};
}

/// A busy job (one core's worth) of 1 GiB on node-a.
PlacementJob busy_job() { return PlacementJob{"j-3f9a0c12", "node-a", kGiB, 100}; }

TEST(Placement, ExpectedSpeedIsAWholeCoreUntilTasksOutnumberCores) {
  PlacementNode four = node("n", 4, 1000, 0);
  EXPECT_DOUBLE_EQ(expected_task_speed(four, 0), 1000);
  EXPECT_DOUBLE_EQ(expected_task_speed(four, 3), 1000);
  EXPECT_DOUBLE_EQ(expected_task_speed(four, 7), 500);
  EXPECT_DOUBLE_EQ(expected_task_speed(four, -1), 1000);  // a load just below the job's share
  EXPECT_DOUBLE_EQ(expected_task_speed(node("n", 0, 1000, 0), 0), 0);
}

TEST(Placement, ALoneNodeIsRefused) {
  PlacementChoice choice = choose_fastest_node(busy_job(), {node("node-a", 4, 1000, 8)});
  EXPECT_FALSE(choice.target);
  EXPECT_EQ(choice.reason, "no other live node to move j-3f9a0c12 to");
}

TEST(Placement, MovesToTheNodeWhereTheJobGetsMostCpu) {
  // node-a: 2 cores, the job and 3 others: half a core each. node-b: one task on 2 cores.
  PlacementChoice choice = choose_fastest_node(
      busy_job(),
      {node("node-a", 2, 1000, 4), node("node-b", 2, 1000, 1), node("node-c", 1, 1000, 1)});
  ASSERT_TRUE(choice.target) << choice.reason;
  EXPECT_EQ(*choice.target, "node-b");
  EXPECT_EQ(choice.reason, "node-b: 100 % faster than node-a");
}

TEST(Placement, AFasterCpuWinsOverMoreIdleCores) {
  PlacementChoice choice = choose_fastest_node(
      busy_job(),
      {node("node-a", 4, 1000, 1), node("node-b", 16, 1000, 0), node("node-c", 2, 1500, 1)});
  ASSERT_TRUE(choice.target) << choice.reason;
  EXPECT_EQ(*choice.target, "node-c");
}

TEST(Placement, TheJobCountsInItsOwnNodesLoad) {
  // Busy: the job is the one task on node-a's single core, as fast as it gets anywhere.
  std::vector<PlacementNode> nodes = {node("node-a", 1, 1000, 1), node("node-b", 1, 1000, 0)};
  PlacementChoice busy = choose_fastest_node(busy_job(), nodes);
  EXPECT_FALSE(busy.target);
  EXPECT_EQ(busy.reason,
            "no node would run j-3f9a0c12 faster than node-a (best: node-b, 0 % faster)");
  // Idle: the load is someone else's, so the job would share node-a's core when it wakes.
  PlacementJob idle = busy_job();
  idle.cpu_percent = 0;
  PlacementChoice choice = choose_fastest_node(idle, nodes);
  ASSERT_TRUE(choice.target) << choice.reason;
  EXPECT_EQ(*choice.target, "node-b");
  // A multi-threaded job's share is one task: the rest of the load stays others'.
  PlacementJob threads = busy_job();
  threads.cpu_percent = 400;
  EXPECT_FALSE(
      choose_fastest_node(threads, {node("node-a", 4, 1000, 4), node("node-b", 4, 1000, 0)})
          .target);
}

TEST(Placement, TheGainMustExceedTheMargin) {
  std::vector<PlacementNode> at_margin = {node("node-a", 1, 1000, 1), node("node-b", 1, 1100, 0)};
  PlacementChoice refused = choose_fastest_node(busy_job(), at_margin);
  EXPECT_FALSE(refused.target);
  EXPECT_EQ(refused.reason,
            "no node would run j-3f9a0c12 faster than node-a (best: node-b, 10 % faster)");
  std::vector<PlacementNode> past = {node("node-a", 1, 1000, 1), node("node-b", 1, 1110, 0)};
  EXPECT_EQ(choose_fastest_node(busy_job(), past).target, "node-b");
  PlacementPolicy strict;
  strict.min_gain_percent = 20;
  EXPECT_FALSE(choose_fastest_node(busy_job(), past, strict).target);
  // A slower best is said so.
  std::vector<PlacementNode> slower = {node("node-a", 1, 1000, 1), node("node-b", 1, 800, 0)};
  EXPECT_EQ(choose_fastest_node(busy_job(), slower).reason,
            "no node would run j-3f9a0c12 faster than node-a (best: node-b, 20 % slower)");
}

TEST(Placement, ATieGoesToTheLowestNodeId) {
  PlacementChoice choice =
      choose_fastest_node(busy_job(), {node("node-d", 2, 1000, 0), node("node-a", 1, 1000, 3),
                                       node("node-c", 2, 1000, 0), node("node-b", 4, 1000, 2)});
  ASSERT_TRUE(choice.target) << choice.reason;
  EXPECT_EQ(*choice.target, "node-b");
}

TEST(Placement, NodesThatAreNotUpOrNotKnownAreIgnored) {
  PlacementNode suspect = node("node-b", 64, 3000, 0);
  suspect.up = false;
  PlacementNode unknown_speed = node("node-c", 64, 0, 0);
  PlacementNode unknown_cores = node("node-d", 0, 3000, 0);
  PlacementChoice choice = choose_fastest_node(
      busy_job(), {node("node-a", 1, 1000, 2), suspect, unknown_speed, unknown_cores});
  EXPECT_FALSE(choice.target);
  EXPECT_EQ(choice.reason, "no other live node to move j-3f9a0c12 to");
  // Nor can anything be judged while the job's own node is unknown.
  PlacementChoice lost =
      choose_fastest_node(busy_job(), {node("node-a", 0, 1000, 2), node("node-e", 4, 1000, 0)});
  EXPECT_FALSE(lost.target);
  EXPECT_EQ(lost.reason, "the load of node-a, where j-3f9a0c12 runs, is not known");
  EXPECT_FALSE(choose_fastest_node(busy_job(), {node("node-e", 4, 1000, 0)}).target);
}

TEST(Placement, ANodeNeedsTwiceTheJobsMemoryFree) {
  // 1 GiB of RSS: 2048 MiB free needed.
  std::vector<PlacementNode> nodes = {node("node-a", 1, 1000, 3), node("node-b", 8, 3000, 0, 2047),
                                      node("node-c", 8, 1500, 0, 2048)};
  EXPECT_EQ(choose_fastest_node(busy_job(), nodes).target, "node-c");
  nodes.pop_back();
  PlacementChoice choice = choose_fastest_node(busy_job(), nodes);
  EXPECT_FALSE(choice.target);
  EXPECT_EQ(choice.reason, "no other live node has the 2048 MiB free that j-3f9a0c12 needs");
}

TEST(Placement, MemoryNeededIsTheHeadroomOfTheRssRoundedUp) {
  EXPECT_EQ(memory_needed_mib(busy_job()), 2048u);
  PlacementJob small = busy_job();
  small.rss_bytes = 1;  // one byte still needs a whole MiB
  EXPECT_EQ(memory_needed_mib(small), 1u);
  EXPECT_EQ(memory_needed_mib(busy_job(), PlacementPolicy{10, 125}), 1280u);
}

TEST(Placement, TheSpeedWhereTheJobRunsLeavesItsOwnShareOut) {
  // Alone and busy on one core: a whole core. Idle beside one busy task: half of it.
  EXPECT_DOUBLE_EQ(expected_speed_where_it_runs(busy_job(), node("node-a", 1, 1000, 1)), 1000);
  PlacementJob idle = busy_job();
  idle.cpu_percent = 0;
  EXPECT_DOUBLE_EQ(expected_speed_where_it_runs(idle, node("node-a", 1, 1000, 1)), 500);
  EXPECT_DOUBLE_EQ(expected_speed_where_it_runs(busy_job(), node("node-a", 0, 1000, 1)), 0);
}

}  // namespace
}  // namespace clusterlive
