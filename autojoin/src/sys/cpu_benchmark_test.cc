#include "sys/cpu_benchmark.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <string>

#include "sys/test_temp_dir.h"

namespace clusterlive {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using testing::read_all;
using testing::TempDir;

TEST(CpuBenchmarkWorkload, IsDeterministicAndDependsOnItsInputs) {
  uint64_t a = cpu_benchmark_workload(100'000, 42);
  EXPECT_EQ(cpu_benchmark_workload(100'000, 42), a);
  EXPECT_NE(cpu_benchmark_workload(100'000, 43), a);
  EXPECT_NE(cpu_benchmark_workload(100'001, 42), a);
}

TEST(CpuSpeedFromDuration, KnownAnswers) {
  // 4 M iterations in 13.2 ms: 303 iterations/us, x 8 cycles = 2424 "MHz".
  EXPECT_EQ(cpu_speed_from_duration(4'000'000, microseconds(13'200)), 2424u);
  EXPECT_EQ(cpu_speed_from_duration(1'000, microseconds(8)), 1000u);
  // Clamped to 1..kMaxCpuSpeed.
  EXPECT_EQ(cpu_speed_from_duration(1, std::chrono::hours(1)), 1u);
  EXPECT_EQ(cpu_speed_from_duration(UINT64_MAX, nanoseconds(0)), kMaxCpuSpeed);
}

TEST(CpuBenchmark, MeasuresAPositiveSpeedTwiceAlike) {
  CpuBenchmarkResult first = run_cpu_benchmark();
  CpuBenchmarkResult second = run_cpu_benchmark();
  EXPECT_GT(first.speed, 0u);
  EXPECT_GT(first.best_run.count(), 0);
  EXPECT_GE(first.runs, 1);
  EXPECT_LE(first.runs, kCpuBenchmarkRuns);
  // Loose: the machine may be busy with other builds and tests.
  uint32_t low = std::min(first.speed, second.speed);
  uint32_t high = std::max(first.speed, second.speed);
  EXPECT_LE(high, low * 4) << first.speed << " vs " << second.speed;
  // Short (~13 ms here); loose, as the machine may be busy.
  EXPECT_LT(first.best_run, milliseconds(1000));
  std::cout << "CPU speed " << first.speed << " (best run " << first.best_run.count() << " us of "
            << first.runs << ")\n";
}

TEST(CpuSpeedCache, FormatsAndParses) {
  CpuBenchmarkResult result;
  result.speed = 2431;
  result.best_run = microseconds(13163);
  std::string text = format_cpu_speed_cache(result);
  EXPECT_EQ(text, "clusterlive-cpu-speed v1 speed=2431 best_run_us=13163\n");
  auto parsed = parse_cpu_speed_cache(text);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->speed, 2431u);
  EXPECT_EQ(parsed->best_run, microseconds(13163));
}

TEST(CpuSpeedCache, RejectsAnythingElse) {
  for (const char* bad : {
           "",
           "clusterlive-cpu-speed v1 speed=2431 best_run_us=13163",       // no newline
           "clusterlive-cpu-speed v2 speed=2431 best_run_us=13163\n",     // other workload
           "clusterlive-cpu-speed v1 speed=0 best_run_us=13163\n",        // zero speed
           "clusterlive-cpu-speed v1 speed=1000001 best_run_us=13163\n",  // above kMaxCpuSpeed
           "clusterlive-cpu-speed v1 speed=02431 best_run_us=13163\n",    // leading zero
           "clusterlive-cpu-speed v1 speed=-1 best_run_us=13163\n",
           "clusterlive-cpu-speed v1 speed=2431 best_run_us=\n",
           "clusterlive-cpu-speed v1 speed=2431\n",
           "clusterlive-cpu-speed v1 speed=2431 best_run_us=13163\nmore\n",
           "clusterlive-cpu-speed v1 speed=2431 best_run_us=13163 \n",
           "clusterlive-cpu-speed v1 speed=99999999999999999999 best_run_us=1\n",
       }) {
    EXPECT_FALSE(parse_cpu_speed_cache(bad)) << bad;
  }
}

TEST(MeasuredCpuSpeed, MeasuresOnceAndCaches) {
  TempDir dir;
  std::string cache = dir.at("cpu-speed");
  CpuSpeed first = measured_cpu_speed(cache);
  EXPECT_GT(first.speed, 0u);
  EXPECT_FALSE(first.from_cache);
  EXPECT_EQ(first.problem, "");
  auto written = parse_cpu_speed_cache(read_all(cache));
  ASSERT_TRUE(written);
  EXPECT_EQ(written->speed, first.speed);

  CpuSpeed second = measured_cpu_speed(cache);
  EXPECT_TRUE(second.from_cache);
  EXPECT_EQ(second.speed, first.speed);
  EXPECT_EQ(second.best_run, first.best_run);
}

TEST(MeasuredCpuSpeed, ReusesAValidCachedValue) {
  TempDir dir;
  std::string cache =
      dir.write("cpu-speed", "clusterlive-cpu-speed v1 speed=1234 best_run_us=99\n");
  CpuSpeed speed = measured_cpu_speed(cache);
  EXPECT_TRUE(speed.from_cache);
  EXPECT_EQ(speed.speed, 1234u);
  EXPECT_EQ(speed.best_run, microseconds(99));
  EXPECT_EQ(speed.problem, "");
}

TEST(MeasuredCpuSpeed, MeasuresAgainOverACorruptCache) {
  TempDir dir;
  std::string cache = dir.write("cpu-speed", "clusterlive-cpu-speed v1 speed=12");  // cut short
  CpuSpeed speed = measured_cpu_speed(cache);
  EXPECT_FALSE(speed.from_cache);
  EXPECT_GT(speed.speed, 0u);
  EXPECT_NE(speed.problem.find("not a valid CPU speed record"), std::string::npos);
  auto rewritten = parse_cpu_speed_cache(read_all(cache));
  ASSERT_TRUE(rewritten);
  EXPECT_EQ(rewritten->speed, speed.speed);
}

TEST(MeasuredCpuSpeed, AnUnwritableCacheOnlyCostsAMeasurement) {
  TempDir dir;
  std::string cache = dir.at("missing-dir/cpu-speed");
  CpuSpeed speed = measured_cpu_speed(cache);
  EXPECT_GT(speed.speed, 0u);
  EXPECT_FALSE(speed.from_cache);
  EXPECT_NE(speed.problem.find("cannot cache the CPU speed"), std::string::npos) << speed.problem;
}

}  // namespace
}  // namespace clusterlive
