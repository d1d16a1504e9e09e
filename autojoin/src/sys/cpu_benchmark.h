// "CPU speed measured once at boot with a short fixed benchmark" (DESIGN.md, Load balancing):
// a fixed, deterministic integer + memory + floating-point workload, timed on one core.
//
// Scale: speed is "MHz-equivalent": workload iterations per microsecond times
// kCpuSpeedCyclesPerIteration, the cycles one iteration takes on a 2020-era core (its
// critical path is a floating-point multiply-add chain: 4 + 4 cycles on Zen 2 / Skylake).
// A 2020 desktop core thus reads roughly its clock in MHz: measured 2300-2450 on the AMD
// EPYC build VM (RelWithDebInfo, g++ 12). Figures are only comparable between nodes running
// the same build (all nodes of one image do); under QEMU TCG expect 10-30x less.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace clusterlive {

/// Iterations of one benchmark run: ~13 ms on a 2020-era core, ~0.2-0.5 s under QEMU TCG.
constexpr uint64_t kCpuBenchmarkIterations = 4'000'000;
/// Runs measured; the fastest counts (the others absorb frequency ramp-up, cache misses
/// and preemption).
constexpr int kCpuBenchmarkRuns = 3;
/// No further run is started once this much time has been spent in the benchmark, so a slow
/// (emulated) node pays for one run only. Milliseconds.
constexpr int64_t kCpuBenchmarkBudgetMs = 250;
/// Cycles one iteration takes on the reference core (see the scale above).
constexpr uint64_t kCpuSpeedCyclesPerIteration = 8;
/// Largest speed reported or accepted from a cache file.
constexpr uint32_t kMaxCpuSpeed = 1'000'000;
/// Version of the workload; a cache file written for another version is measured again.
constexpr uint32_t kCpuBenchmarkVersion = 1;

/// The workload: `iterations` rounds of xorshift, multiply, a data-dependent table update,
/// an occasional division and a multiply-add / square-root chain. Returns a checksum of
/// everything it computed (the same for the same arguments on every x86-64 build), so
/// nothing can be optimised away.
uint64_t cpu_benchmark_workload(uint64_t iterations, uint64_t seed);

/// Speed (MHz-equivalent, 1..kMaxCpuSpeed) of a core that ran `iterations` in `elapsed`.
uint32_t cpu_speed_from_duration(uint64_t iterations, std::chrono::nanoseconds elapsed);

/// Outcome of a benchmark.
struct CpuBenchmarkResult {
  uint32_t speed = 0;                     ///< MHz-equivalent, from the fastest run
  std::chrono::microseconds best_run{0};  ///< duration of the fastest run
  int runs = 0;                           ///< runs done (1..kCpuBenchmarkRuns)
};

/// Runs the benchmark on the calling thread (one core): up to kCpuBenchmarkRuns runs of
/// kCpuBenchmarkIterations, within kCpuBenchmarkBudgetMs after the first.
CpuBenchmarkResult run_cpu_benchmark();

/// The contents of a speed cache file: "clusterlive-cpu-speed v1 speed=2431 best_run_us=13163\n".
std::string format_cpu_speed_cache(const CpuBenchmarkResult& result);
/// Parses a cache file's contents; nullopt unless it is exactly what format_cpu_speed_cache
/// writes for the current kCpuBenchmarkVersion, with a speed in 1..kMaxCpuSpeed.
std::optional<CpuBenchmarkResult> parse_cpu_speed_cache(std::string_view text);

/// The node's CPU speed for this boot.
struct CpuSpeed {
  uint32_t speed = 0;                     ///< MHz-equivalent, always > 0
  std::chrono::microseconds best_run{0};  ///< the benchmark's fastest run
  bool from_cache = false;                ///< true: read from the cache, not measured
  /// Empty if all went well. Otherwise why the cache was not used or not written (the
  /// speed is valid all the same): worth a journal line.
  std::string problem;
};

/// Reads the speed cached in `cache_path` if it holds a valid record; otherwise measures it
/// (run_cpu_benchmark) and writes the cache atomically (mode 0644). The cache must live on a
/// per-boot file system such as /run (e.g. /run/clusterlive/cpu-speed), so each boot measures
/// once and daemon restarts reuse the figure. Never fails: a missing, corrupt or unwritable
/// cache only costs a measurement (and fills `problem`).
CpuSpeed measured_cpu_speed(const std::string& cache_path);

}  // namespace clusterlive
