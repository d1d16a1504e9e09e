#include "core/replay_window.h"

#include <gtest/gtest.h>

#include "core/membership_constants.h"

namespace clusterlive {
namespace {

TEST(ReplayWindow, AcceptsEachSequenceOnce) {
  ReplayWindow window;
  EXPECT_TRUE(window.accept(100));
  EXPECT_FALSE(window.accept(100));
  EXPECT_TRUE(window.accept(101));
  EXPECT_FALSE(window.accept(101));
}

TEST(ReplayWindow, AcceptsReorderedWithinWindow) {
  ReplayWindow window;
  EXPECT_TRUE(window.accept(5000));
  EXPECT_TRUE(window.accept(4998));
  EXPECT_TRUE(window.accept(4999));
  EXPECT_FALSE(window.accept(4998));
  EXPECT_TRUE(window.accept(5000 - (kReplayWindowSize - 1)));
  EXPECT_FALSE(window.accept(5000 - (kReplayWindowSize - 1)));
}

TEST(ReplayWindow, RefusesTooOld) {
  ReplayWindow window;
  EXPECT_TRUE(window.accept(10000));
  EXPECT_FALSE(window.accept(10000 - kReplayWindowSize));
  EXPECT_FALSE(window.accept(0));
}

TEST(ReplayWindow, BigJumpClearsHistory) {
  ReplayWindow window;
  EXPECT_TRUE(window.accept(5));
  EXPECT_TRUE(window.accept(5 + 100000));
  EXPECT_FALSE(window.accept(5 + 100000));
  EXPECT_TRUE(window.accept(5 + 99999));
  EXPECT_FALSE(window.accept(5)) << "fell out of the window";
}

}  // namespace
}  // namespace clusterlive
