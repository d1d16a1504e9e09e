// clusterlive-memload: a deterministic job for migration benchmarks and checks. Holds MiB of
// memory it has written, then dirties pages at a fixed rate, printing one numbered line per
// second (so a migrated run's output can be compared with an unmigrated one: 0, 1, 2, ...).
//   clusterlive-memload --mib 256 --dirty-mib-per-s 8 [--seconds 600]
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <thread>
#include <vector>

int main(int argc, char** argv) {
  uint64_t mib = 64;
  uint64_t dirty_mib_per_s = 1;
  uint64_t seconds = 3600;
  CLI::App app{"clusterlive-memload: holds memory and dirties it at a steady rate"};
  app.add_option("--mib", mib, "memory to hold, MiB")->check(CLI::Range(1, 1 << 20));
  app.add_option("--dirty-mib-per-s", dirty_mib_per_s, "memory rewritten per second, MiB");
  app.add_option("--seconds", seconds, "how long to run");
  CLI11_PARSE(app, argc, argv);

  constexpr size_t kPage = 4096;
  constexpr int kTicksPerSecond = 10;
  const size_t pages = mib * 1024 * 1024 / kPage;
  std::vector<uint8_t> memory(pages * kPage);
  for (size_t page = 0; page < pages; ++page) memory[page * kPage] = static_cast<uint8_t>(page);
  const size_t pages_per_tick = dirty_mib_per_s * 1024 * 1024 / kPage / kTicksPerSecond;
  size_t next_page = 0;
  auto tick = std::chrono::steady_clock::now();
  for (uint64_t second = 0; second < seconds; ++second) {
    std::printf("%llu\n", static_cast<unsigned long long>(second));
    std::fflush(stdout);
    for (int t = 0; t < kTicksPerSecond; ++t) {
      for (size_t i = 0; i < pages_per_tick && pages > 0; ++i) {
        memory[next_page * kPage + (second % kPage)] ^= 0x5a;  // one byte dirties the page
        next_page = (next_page + 1) % pages;
      }
      tick += std::chrono::milliseconds(1000 / kTicksPerSecond);
      std::this_thread::sleep_until(tick);
    }
  }
  return 0;
}
