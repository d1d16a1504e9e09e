#include "core/storage_choice.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace clusterlive {
namespace {

StorageCandidate node(const std::string& id, bool pinned = false, bool serving = false,
                      uint32_t epoch = kNoStorageEpoch) {
  return StorageCandidate{id, pinned, serving, epoch};
}

TEST(ChooseStorage, NobodyServesAndNotSettledWaits) {
  StorageDecision decision = choose_storage("node-b", {node("node-a"), node("node-b")}, false);
  EXPECT_FALSE(decision.mount_from);
  EXPECT_FALSE(decision.serve_here);
  // Even the node that would be elected waits: it may not have heard of a lower id yet.
  EXPECT_FALSE(choose_storage("node-a", {node("node-a"), node("node-b")}, false).serve_here);
}

TEST(ChooseStorage, OnlyWaitingKeepsAMountInPlace) {
  // A restarted daemon that has not heard of the server yet keeps the mount its previous run
  // made; once a server is known, or once it elects, the decision says what to mount.
  std::vector<StorageCandidate> nobody_serves = {node("node-a"), node("node-b")};
  EXPECT_TRUE(choose_storage("node-b", nobody_serves, false).keep_mount);
  EXPECT_FALSE(choose_storage("node-b", nobody_serves, true).keep_mount) << "elected: remount";
  std::vector<StorageCandidate> a_serves = {node("node-a", false, true), node("node-b")};
  EXPECT_FALSE(choose_storage("node-b", a_serves, false).keep_mount);
}

TEST(ChooseStorage, SettledElectsTheLowestIdAndOnlyItServes) {
  std::vector<StorageCandidate> live = {node("node-c"), node("node-a"), node("node-b")};
  StorageDecision a = choose_storage("node-a", live, true);
  EXPECT_TRUE(a.serve_here);
  EXPECT_FALSE(a.mount_from) << "nothing to mount until the export is up";
  EXPECT_NE(a.reason.find("lowest node id"), std::string::npos) << a.reason;
  EXPECT_FALSE(choose_storage("node-b", live, true).serve_here);
  EXPECT_FALSE(choose_storage("node-c", live, true).serve_here);
}

TEST(ChooseStorage, APinnedNodeIsElectedBeforeALowerId) {
  std::vector<StorageCandidate> live = {node("node-a"), node("node-z", true), node("node-y", true)};
  EXPECT_TRUE(choose_storage("node-y", live, true).serve_here);
  EXPECT_FALSE(choose_storage("node-z", live, true).serve_here);
  EXPECT_FALSE(choose_storage("node-a", live, true).serve_here);
}

TEST(ChooseStorage, EveryoneMountsTheServingNode) {
  std::vector<StorageCandidate> live = {node("node-a"), node("node-b", false, true), node("node-c")};
  for (const char* self : {"node-a", "node-b", "node-c"}) {
    StorageDecision decision = choose_storage(self, live, false);
    EXPECT_EQ(decision.mount_from, "node-b") << self;
    EXPECT_EQ(decision.serve_here, std::string(self) == "node-b") << self;
  }
}

TEST(ChooseStorage, ALowerOrPinnedNodeJoiningLaterNeverMovesTheStorage) {
  std::vector<StorageCandidate> live = {node("node-m", false, true), node("node-0", true)};
  StorageDecision newcomer = choose_storage("node-0", live, true);
  EXPECT_FALSE(newcomer.serve_here);
  EXPECT_EQ(newcomer.mount_from, "node-m");
  EXPECT_TRUE(choose_storage("node-m", live, true).serve_here);
}

TEST(ChooseStorage, TwoServersAfterASplitTheLowestIdWinsAndTheOtherStops) {
  std::vector<StorageCandidate> live = {node("node-b", false, true), node("node-a", false, true),
                                        node("node-c")};
  StorageDecision loser = choose_storage("node-b", live, true);
  EXPECT_FALSE(loser.serve_here);
  EXPECT_EQ(loser.mount_from, "node-a");
  EXPECT_NE(loser.reason.find("also serve"), std::string::npos) << loser.reason;
  EXPECT_TRUE(choose_storage("node-a", live, true).serve_here);
  EXPECT_EQ(choose_storage("node-c", live, true).mount_from, "node-a");
}

TEST(ChooseStorage, TwoServersAPinnedOneWinsOverALowerId) {
  std::vector<StorageCandidate> live = {node("node-a", false, true), node("node-q", true, true)};
  EXPECT_FALSE(choose_storage("node-a", live, true).serve_here);
  EXPECT_TRUE(choose_storage("node-q", live, true).serve_here);
}

TEST(ChooseStorage, TwoServersAfterASplitTheOldestStoreWinsWhateverItsIdOrPin) {
  // node-z served the cluster (epoch 1); cut off from it, node-a elected itself (epoch 2) and
  // serves an empty store. When they meet again, node-z's store (every job's files) wins.
  std::vector<StorageCandidate> live = {node("node-a", true, true, 2), node("node-z", false, true, 1),
                                        node("node-m")};
  StorageDecision split_side = choose_storage("node-a", live, true, 2);
  EXPECT_FALSE(split_side.serve_here);
  EXPECT_EQ(split_side.mount_from, "node-z");
  EXPECT_NE(split_side.reason.find("oldest store, epoch 1"), std::string::npos) << split_side.reason;
  EXPECT_TRUE(choose_storage("node-z", live, true, 2).serve_here);
  EXPECT_EQ(choose_storage("node-m", live, true, 2).mount_from, "node-z");
}

TEST(ChooseStorage, AServerWhoseEpochIsNotKnownYetRanksAfterAKnownOne) {
  std::vector<StorageCandidate> live = {node("node-a", false, true), node("node-b", false, true, 3)};
  EXPECT_EQ(choose_storage("node-c", live, true).mount_from, "node-b");
}

TEST(ChooseStorage, AnElectedNodeServesWithAnEpochAboveEveryOneSeen) {
  std::vector<StorageCandidate> live = {node("node-b"), node("node-c")};
  StorageDecision decision = choose_storage("node-b", live, true, 4);
  EXPECT_TRUE(decision.serve_here);
  EXPECT_EQ(decision.epoch_if_elected, 5u);
  EXPECT_EQ(choose_storage("node-b", live, true).epoch_if_elected, 1u);
}

TEST(ChooseStorage, TheServerGoneTheLowestLiveNodeIsElected) {
  // node-a served and died: it is no longer in the live set.
  std::vector<StorageCandidate> live = {node("node-b"), node("node-c")};
  EXPECT_TRUE(choose_storage("node-b", live, true).serve_here);
  EXPECT_FALSE(choose_storage("node-c", live, true).mount_from);
}

TEST(ChooseStorage, ALoneNodeWithoutItsOwnEntryElectsItselfOnceSettled) {
  EXPECT_TRUE(choose_storage("node-a", {}, true).serve_here);
  EXPECT_FALSE(choose_storage("node-a", {}, false).serve_here);
}

}  // namespace
}  // namespace clusterlive
