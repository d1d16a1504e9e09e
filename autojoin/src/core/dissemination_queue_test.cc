#include "core/dissemination_queue.h"

#include <gtest/gtest.h>

namespace clusterlive {
namespace {

MemberUpdate suspect(const std::string& id, uint64_t incarnation) {
  return MemberUpdate{id, MemberState::suspect, incarnation, {}};
}

TEST(DisseminationQueue, SendsEachUpdateRetransmitLimitTimes) {
  DisseminationQueue queue;
  queue.push(suspect("node-a", 1));
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(queue.take_for_message(1000, 10, 3).size(), 1u);
  }
  EXPECT_TRUE(queue.take_for_message(1000, 10, 3).empty());
}

TEST(DisseminationQueue, NewerUpdateReplacesOlderAboutSameNode) {
  DisseminationQueue queue;
  queue.push(suspect("node-a", 1));
  queue.push(MemberUpdate{"node-a", MemberState::dead, 1, {}});
  std::vector<MemberUpdate> taken = queue.take_for_message(1000, 10, 5);
  ASSERT_EQ(taken.size(), 1u);
  EXPECT_EQ(taken[0].state, MemberState::dead);
}

TEST(DisseminationQueue, LeastSentFirstWithinBudget) {
  DisseminationQueue queue;
  queue.push(suspect("node-a", 1));
  queue.take_for_message(1000, 10, 5);  // node-a sent once
  queue.push(suspect("node-b", 1));
  std::vector<MemberUpdate> taken = queue.take_for_message(1000, 1, 5);
  ASSERT_EQ(taken.size(), 1u);
  EXPECT_EQ(taken[0].node_id, "node-b");
  EXPECT_TRUE(queue.take_for_message(5, 10, 5).empty()) << "nothing fits in 5 bytes";
}

TEST(DisseminationQueue, StaysBounded) {
  DisseminationQueue queue;
  for (size_t i = 0; i < kMaxQueuedUpdates + 50; ++i) {
    queue.push(suspect("node-" + std::to_string(i), 1));
  }
  EXPECT_EQ(queue.size(), kMaxQueuedUpdates);
}

}  // namespace
}  // namespace clusterlive
