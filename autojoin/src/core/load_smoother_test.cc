#include "core/load_smoother.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <utility>
#include <vector>

namespace clusterlive {
namespace {

using Views = std::pair<uint32_t, uint32_t>;  // (local, exported)

std::vector<Views> run(const std::vector<uint32_t>& samples, LoadSmoother& smoother) {
  std::vector<Views> views;
  for (uint32_t sample : samples) {
    smoother.add_sample(sample);
    views.emplace_back(smoother.local_load_milli(), smoother.exported_load_milli());
  }
  return views;
}

std::vector<Views> run(const std::vector<uint32_t>& samples) {
  LoadSmoother smoother;
  return run(samples, smoother);
}

TEST(SmoothLoadStep, KnownAnswers) {
  // Rise by 1/8 of 4000 = 500; fall by 1/2 of 4000 = 2000.
  EXPECT_EQ(smooth_load_step(0, 4000, 125, 500), 500u);
  EXPECT_EQ(smooth_load_step(4000, 0, 125, 500), 2000u);
  // 1/8 of 3500 = 437.5, rounded away from zero.
  EXPECT_EQ(smooth_load_step(500, 4000, 125, 500), 938u);
  // Equal input: no change.
  EXPECT_EQ(smooth_load_step(1234, 1234, 125, 500), 1234u);
}

TEST(SmoothLoadStep, ReachesASteadyInputExactly) {
  // Within 1 milli the step is the whole distance, in both directions.
  EXPECT_EQ(smooth_load_step(3999, 4000, 1, 1), 4000u);
  EXPECT_EQ(smooth_load_step(4001, 4000, 1, 1), 4000u);
  uint32_t value = 0;
  for (int i = 0; i < 200 && value != 7000; ++i) value = smooth_load_step(value, 7000, 125, 500);
  EXPECT_EQ(value, 7000u);
}

TEST(SmoothLoadStep, WeightsAboveOneThousandJumpToTheInput) {
  EXPECT_EQ(smooth_load_step(0, 5000, 2000, 2000), 5000u);
  EXPECT_EQ(smooth_load_step(5000, 0, 2000, 2000), 0u);
  EXPECT_EQ(smooth_load_step(0, 5000, 0, 0), 0u);  // weight 0: never moves
}

TEST(SmoothLoadStep, HandlesTheExtremesWithoutOverflow) {
  constexpr uint32_t kMax = kMaxRunnableTasksSample * 1000;
  EXPECT_EQ(smooth_load_step(0, kMax, 1000, 1000), kMax);
  EXPECT_EQ(smooth_load_step(kMax, 0, 500, 500), kMax / 2);
}

TEST(LoadSmoother, StartsIdle) {
  LoadSmoother smoother;
  EXPECT_EQ(smoother.local_load_milli(), 0u);
  EXPECT_EQ(smoother.exported_load_milli(), 0u);
  EXPECT_EQ(smoother.sample_count(), 0u);
}

TEST(LoadSmoother, FirstSampleSetsTheExportedViewOnly) {
  EXPECT_EQ(run({4}), (std::vector<Views>{{500, 4000}}));
}

TEST(LoadSmoother, KnownAnswersForAStepUpThenDown) {
  // Idle, four busy seconds, three idle seconds.
  std::vector<Views> expected = {{0, 0},       {500, 2000}, {938, 3000}, {1321, 3500},
                                 {1656, 3750}, {828, 3375}, {414, 3037}, {207, 2733}};
  EXPECT_EQ(run({0, 4, 4, 4, 4, 0, 0, 0}), expected);
}

TEST(LoadSmoother, LocalRisesSlowlyAndFallsFast) {
  LoadSmoother smoother;
  std::vector<Views> up = run(std::vector<uint32_t>(100, 4), smoother);
  // Half of a step up takes ~5 samples; all of it, exactly, 51 samples.
  EXPECT_LT(up[3].first, 2000u);
  EXPECT_GT(up[5].first, 2000u);
  EXPECT_LT(up[49].first, 4000u);
  EXPECT_EQ(up[50].first, 4000u);
  std::vector<Views> down = run(std::vector<uint32_t>(20, 0), smoother);
  EXPECT_EQ(down[0].first, 2000u);  // half of it gone after one sample
  EXPECT_EQ(down[1].first, 1000u);
  EXPECT_EQ(down[11].first, 0u);
}

TEST(LoadSmoother, ExportedRisesFastAndDecaysSlowly) {
  LoadSmoother smoother;
  smoother.add_sample(0);
  std::vector<Views> up = run({4, 4}, smoother);
  EXPECT_EQ(up[0].second, 2000u);
  EXPECT_EQ(up[1].second, 3000u);  // 75 % after two samples
  run(std::vector<uint32_t>(100, 4), smoother);
  ASSERT_EQ(smoother.exported_load_milli(), 4000u);
  std::vector<Views> down = run(std::vector<uint32_t>(100, 0), smoother);
  EXPECT_EQ(down[0].second, 3600u);
  EXPECT_EQ(down[1].second, 3240u);
  EXPECT_GT(down[5].second, 2000u);  // more than half left after 6 s
  EXPECT_LT(down[6].second, 2000u);  // half-life ~6.6 s
  EXPECT_GT(down[20].second, 0u);    // still visible after 20 s
  EXPECT_EQ(down[62].second, 0u);
}

TEST(LoadSmoother, ViewsMoveMonotonicallyTowardsASteadyInput) {
  for (uint32_t target : {1u, 3u, 17u}) {
    LoadSmoother smoother;
    smoother.add_sample(0);
    uint32_t last_local = 0;
    uint32_t last_exported = 0;
    for (int i = 0; i < 200; ++i) {
      smoother.add_sample(target);
      EXPECT_GE(smoother.local_load_milli(), last_local);
      EXPECT_GE(smoother.exported_load_milli(), last_exported);
      EXPECT_LE(smoother.local_load_milli(), target * 1000);
      EXPECT_LE(smoother.exported_load_milli(), target * 1000);
      last_local = smoother.local_load_milli();
      last_exported = smoother.exported_load_milli();
    }
    EXPECT_EQ(last_local, target * 1000);
    EXPECT_EQ(last_exported, target * 1000);
    for (int i = 0; i < 200; ++i) {
      smoother.add_sample(0);
      EXPECT_LE(smoother.local_load_milli(), last_local);
      EXPECT_LE(smoother.exported_load_milli(), last_exported);
      last_local = smoother.local_load_milli();
      last_exported = smoother.exported_load_milli();
    }
    EXPECT_EQ(last_local, 0u);
    EXPECT_EQ(last_exported, 0u);
  }
}

TEST(LoadSmoother, ExportedIsNeverBelowLocalAfterABurst) {
  // What peers see must not understate what the node itself feels during a burst.
  LoadSmoother smoother;
  for (uint32_t sample : {0u, 8u, 8u, 1u, 8u, 0u, 0u, 3u, 3u, 0u}) {
    smoother.add_sample(sample);
    EXPECT_GE(smoother.exported_load_milli(), smoother.local_load_milli());
  }
}

TEST(LoadSmoother, HugeSamplesAreClamped) {
  LoadSmoother smoother;
  smoother.add_sample(UINT32_MAX);
  EXPECT_EQ(smoother.exported_load_milli(), kMaxRunnableTasksSample * 1000);
  EXPECT_EQ(smoother.sample_count(), 1u);
}

}  // namespace
}  // namespace clusterlive
