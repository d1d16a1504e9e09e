// membership_sim: runs the membership core on N simulated nodes over a lossy
// in-memory network and prints JSON figures per cluster size (all nodes
// boot at once and see each other's mDNS record; after a warm-up):
//   rounds (protocol periods) until every member sees a newcomer up, until
//   the newcomer sees every member up, until every member sees a crashed
//   node dead, and bytes/s sent per node in steady state.
//
// Usage: membership_sim [--nodes 10,100,1000] [--loss 0.01] [--seed 1]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/membership_constants.h"
#include "sim/sim_cluster.h"

// The membership code and this driver are single-threaded and
// deterministic for a given seed: the same command prints the same figures.

namespace {

using clusterlive::kProbeIntervalMs;
using clusterlive::MemberState;
using clusterlive::sim::SimCluster;
using clusterlive::sim::SimOptions;

constexpr int kMaxRounds = 300;          // give up after this many periods
constexpr int kSteadyStateSeconds = 30;  // window for the traffic figure
constexpr int kWarmUpSeconds = 10;       // after everyone booted at once

struct Figures {
  size_t nodes = 0;
  int rounds_until_join_seen_by_all = -1;
  int rounds_until_joiner_sees_all = -1;
  int rounds_until_crash_seen_dead_by_all = -1;
  double bytes_per_second_per_node = 0;
  size_t suspect_observations = 0;  // (node, member) pairs in suspect, summed each second
  size_t false_deaths = 0;          // the same for dead: must stay 0
  double wall_seconds = 0;
};

// Advances one period at a time until `done()` or kMaxRounds; rounds or -1.
template <typename Predicate>
int rounds_until(SimCluster& cluster, Predicate done) {
  for (int round = 1; round <= kMaxRounds; ++round) {
    cluster.advance(kProbeIntervalMs);
    if (done()) return round;
  }
  return -1;
}

Figures run(size_t nodes, double loss_rate, uint64_t seed) {
  auto started = std::chrono::steady_clock::now();
  SimOptions options;
  options.seed = seed;
  options.loss_rate = loss_rate;
  options.exchange_txt_records = false;  // O(n^2) HMACs otherwise; tested elsewhere
  SimCluster cluster(options);
  Figures figures;
  figures.nodes = nodes;

  // Everyone boots at once and sees everyone's mDNS record (one LAN); the
  // nodes still have to learn each other's incarnations by gossip.
  for (size_t i = 0; i < nodes; ++i) cluster.add_node();
  cluster.advance(kWarmUpSeconds * 1000);

  // Steady state: nobody has crashed, so any "dead" entry is a false death.
  uint64_t bytes_before = cluster.total_bytes_sent();
  for (int second = 0; second < kSteadyStateSeconds; ++second) {
    cluster.advance(1000);
    for (size_t i = 0; i < nodes; ++i) {
      figures.false_deaths += cluster.node(i).count_in_state(MemberState::dead);
      figures.suspect_observations += cluster.node(i).count_in_state(MemberState::suspect);
    }
  }
  figures.bytes_per_second_per_node =
      static_cast<double>(cluster.total_bytes_sent() - bytes_before) / kSteadyStateSeconds /
      static_cast<double>(nodes);

  // A newcomer whose mDNS shows it a single member: the rest is gossip.
  size_t joiner = cluster.add_node_seeing({0});
  bool joiner_sees_all = false;
  int join_seen = -1;
  for (int round = 1; round <= kMaxRounds && (join_seen < 0 || !joiner_sees_all); ++round) {
    cluster.advance(kProbeIntervalMs);
    if (join_seen < 0 && cluster.observers_seeing(joiner, MemberState::up) == nodes) {
      join_seen = round;
    }
    if (!joiner_sees_all && cluster.node(joiner).count_in_state(MemberState::up) == nodes) {
      joiner_sees_all = true;
      figures.rounds_until_joiner_sees_all = round;
    }
  }
  figures.rounds_until_join_seen_by_all = join_seen;

  const size_t victim = nodes / 2;
  cluster.crash(victim);
  figures.rounds_until_crash_seen_dead_by_all = rounds_until(cluster, [&] {
    return cluster.observers_seeing(victim, MemberState::dead) == cluster.running_count();
  });

  figures.wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return figures;
}

std::vector<size_t> parse_sizes(const char* text) {
  std::vector<size_t> sizes;
  for (const char* p = text; *p;) {
    char* end = nullptr;
    unsigned long value = std::strtoul(p, &end, 10);
    if (end == p || value < 2) return {};
    sizes.push_back(value);
    p = *end == ',' ? end + 1 : end;
    if (*end != ',' && *end != '\0') return {};
  }
  return sizes;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<size_t> sizes = {10, 100, 1000};
  double loss_rate = 0.01;
  uint64_t seed = 1;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--nodes" && i + 1 < argc) {
      sizes = parse_sizes(argv[++i]);
    } else if (arg == "--loss" && i + 1 < argc) {
      loss_rate = std::atof(argv[++i]);
    } else if (arg == "--seed" && i + 1 < argc) {
      seed = std::strtoull(argv[++i], nullptr, 10);
    } else {
      sizes.clear();
    }
    if (sizes.empty() || loss_rate < 0 || loss_rate >= 1) {
      std::fprintf(stderr, "usage: %s [--nodes 10,100,1000] [--loss 0.01] [--seed 1]\n", argv[0]);
      return 2;
    }
  }

  std::printf("{\n  \"loss_rate\": %g,\n  \"seed\": %llu,\n  \"probe_interval_ms\": %lld,\n",
              loss_rate, static_cast<unsigned long long>(seed),
              static_cast<long long>(kProbeIntervalMs));
  std::printf("  \"runs\": [\n");
  for (size_t i = 0; i < sizes.size(); ++i) {
    Figures f = run(sizes[i], loss_rate, seed);
    std::printf(
        "    {\"nodes\": %zu, \"rounds_until_join_seen_by_all\": %d,"
        " \"rounds_until_joiner_sees_all\": %d, \"rounds_until_crash_seen_dead_by_all\": %d,"
        " \"bytes_per_second_per_node\": %.0f, \"steady_suspect_observations\": %zu,"
        " \"steady_false_deaths\": %zu, \"wall_seconds\": %.2f}%s\n",
        f.nodes, f.rounds_until_join_seen_by_all, f.rounds_until_joiner_sees_all,
        f.rounds_until_crash_seen_dead_by_all, f.bytes_per_second_per_node, f.suspect_observations,
        f.false_deaths, f.wall_seconds, i + 1 < sizes.size() ? "," : "");
    std::fflush(stdout);
  }
  std::printf("  ]\n}\n");
  return 0;
}
