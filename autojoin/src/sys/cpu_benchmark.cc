#include "sys/cpu_benchmark.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstring>

#include "core/decimal.h"
#include "sys/file_io.h"

namespace clusterlive {
namespace {

/// Largest cache file read, in bytes (the real one is ~60).
constexpr size_t kMaxCpuSpeedCacheBytes = 256;
/// Entries of the workload's table: 4 KiB, in any L1 cache.
constexpr size_t kWorkloadTableEntries = 1024;

// The seed comes through a volatile so the compiler cannot run the workload at build time;
// the checksum goes into one so it cannot drop it.
volatile uint64_t benchmark_seed = 0x9e3779b97f4a7c15ULL;
volatile uint64_t benchmark_sink = 0;

bool consume_prefix(std::string_view& text, std::string_view prefix) {
  if (text.substr(0, prefix.size()) != prefix) return false;
  text.remove_prefix(prefix.size());
  return true;
}

}  // namespace

uint64_t cpu_benchmark_workload(uint64_t iterations, uint64_t seed) {
  std::array<uint32_t, kWorkloadTableEntries> table{};
  for (uint32_t i = 0; i < table.size(); ++i) table[i] = i * 2654435761u;
  uint64_t x = seed != 0 ? seed : 0x9e3779b97f4a7c15ULL;  // xorshift state must not be 0
  uint64_t sum = 0;
  double chain = 1.0;
  for (uint64_t i = 0; i < iterations; ++i) {
    x ^= x >> 12;  // xorshift64*
    x ^= x << 25;
    x ^= x >> 27;
    uint64_t mixed = x * 0x2545F4914F6CDD1DULL;
    uint32_t& slot = table[(mixed >> 20) % kWorkloadTableEntries];
    slot = slot * 31u + static_cast<uint32_t>(mixed >> 32);
    sum += slot;
    if ((mixed & 3) == 0) sum ^= static_cast<uint32_t>(mixed >> 7) / ((slot & 0xffffu) | 1u);
    chain = chain * 0.999999 + static_cast<double>(mixed >> 44) * 1e-9;
    if ((i & 7) == 0) chain = std::sqrt(chain + 1.0);
  }
  uint64_t chain_bits = 0;
  std::memcpy(&chain_bits, &chain, sizeof chain_bits);
  return sum ^ chain_bits;
}

uint32_t cpu_speed_from_duration(uint64_t iterations, std::chrono::nanoseconds elapsed) {
  // iterations / microsecond * cycles per iteration. In double: exact enough for a figure
  // of 7 digits, and no overflow whatever the caller passes.
  double nanoseconds = static_cast<double>(std::max<int64_t>(elapsed.count(), 1));
  double speed = static_cast<double>(iterations) *
                 static_cast<double>(kCpuSpeedCyclesPerIteration) * 1000.0 / nanoseconds;
  return static_cast<uint32_t>(std::clamp(std::round(speed), 1.0, double{kMaxCpuSpeed}));
}

CpuBenchmarkResult run_cpu_benchmark() {
  using Clock = std::chrono::steady_clock;
  CpuBenchmarkResult result;
  const Clock::time_point start = Clock::now();
  std::chrono::nanoseconds best = std::chrono::nanoseconds::max();
  for (int run = 0; run < kCpuBenchmarkRuns; ++run) {
    if (run > 0 && Clock::now() - start >= std::chrono::milliseconds(kCpuBenchmarkBudgetMs)) {
      break;
    }
    Clock::time_point before = Clock::now();
    benchmark_sink = cpu_benchmark_workload(kCpuBenchmarkIterations, benchmark_seed);
    best = std::min(best, std::chrono::nanoseconds(Clock::now() - before));
    result.runs = run + 1;
  }
  result.speed = cpu_speed_from_duration(kCpuBenchmarkIterations, best);
  result.best_run = std::chrono::duration_cast<std::chrono::microseconds>(best);
  return result;
}

std::string format_cpu_speed_cache(const CpuBenchmarkResult& result) {
  return "clusterlive-cpu-speed v" + std::to_string(kCpuBenchmarkVersion) +
         " speed=" + std::to_string(result.speed) +
         " best_run_us=" + std::to_string(result.best_run.count()) + "\n";
}

std::optional<CpuBenchmarkResult> parse_cpu_speed_cache(std::string_view text) {
  if (!consume_prefix(
          text, "clusterlive-cpu-speed v" + std::to_string(kCpuBenchmarkVersion) + " speed=")) {
    return std::nullopt;
  }
  size_t space = text.find(' ');
  auto speed = parse_decimal<uint64_t>(text.substr(0, space), true);
  if (space == std::string_view::npos) return std::nullopt;
  text.remove_prefix(space);
  if (!consume_prefix(text, " best_run_us=")) return std::nullopt;
  if (text.empty() || text.back() != '\n') return std::nullopt;
  text.remove_suffix(1);
  auto best_run_us = parse_decimal<uint64_t>(text, true);
  if (!speed || *speed == 0 || *speed > kMaxCpuSpeed || !best_run_us ||
      *best_run_us > static_cast<uint64_t>(INT64_MAX)) {
    return std::nullopt;
  }
  CpuBenchmarkResult result;
  result.speed = static_cast<uint32_t>(*speed);
  result.best_run = std::chrono::microseconds(static_cast<int64_t>(*best_run_us));
  return result;
}

CpuSpeed measured_cpu_speed(const std::string& cache_path) {
  CpuSpeed speed;
  ReadResult cached = read_file_bounded(cache_path, kMaxCpuSpeedCacheBytes);
  if (cached.status == ReadStatus::ok) {
    if (auto record = parse_cpu_speed_cache(cached.text)) {
      speed.speed = record->speed;
      speed.best_run = record->best_run;
      speed.from_cache = true;
      return speed;
    }
    speed.problem = cache_path + ": not a valid CPU speed record; measured again";
  } else if (cached.status != ReadStatus::not_found) {
    speed.problem = cached.error + "; measured again";
  }

  CpuBenchmarkResult measured = run_cpu_benchmark();
  speed.speed = measured.speed;
  speed.best_run = measured.best_run;
  std::string write_error;
  if (!write_file_atomically(cache_path, format_cpu_speed_cache(measured), AtomicWriteOptions{},
                             write_error)) {
    if (!speed.problem.empty()) speed.problem += "; ";
    speed.problem += "cannot cache the CPU speed: " + write_error;
  }
  return speed;
}

}  // namespace clusterlive
