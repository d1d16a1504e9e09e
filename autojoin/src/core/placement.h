// Where a job would run fastest: the policy behind `clusterlive migrate JOB best`, and later
// the balancer's. Pure: the caller hands in what membership gossips about each node (cores,
// per-core speed, smoothed load, free memory) and what it knows of the job.
//
// A node's expected speed for one task is
//     cpu_speed * min(1, cores / (runnable_tasks + 1))
// its per-core speed times the share of a core the task gets once it joins the tasks already
// runnable there (the load): a whole core while cores are idle, an equal slice of the cores once
// tasks outnumber them. On the job's own node the load already holds the job (its CPU use, up
// to one task), so that node's "others" are the load minus the job's share; a busy job then
// gets cores / load there, an idle one cores / (load + 1), as it would elsewhere.
// A multi-threaded job still counts as one task: its share on its own node is at most one, so
// the other nodes are, if anything, underrated and the job stays put.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace clusterlive {

// --- Placement policy constants -----------------------------------------------

/// How much faster than where it runs a job must expect to run on a node for `best` to move
/// it there, in percent: loads are smoothed averages a few seconds old, and a move freezes
/// the job for a moment, so a gain within the noise is not worth one.
constexpr uint32_t kPlacementMinGainPercent = 10;
/// Free memory a node must have for `best` to pick it, in percent of the job's RSS. Stricter
/// than the pre-flight's own check (PreflightPolicy::memory_headroom_percent): the free memory
/// a node gossips is seconds old, and a refused move helps nobody.
constexpr uint32_t kPlacementMemoryHeadroomPercent = 200;

/// One node as membership (and this node, for itself) reports it.
struct PlacementNode {
  std::string id;
  bool up = false;          ///< a live member (not suspect, dead or foreign), or this node
  uint32_t cores = 0;       ///< 0: unknown (the node is not considered)
  uint32_t cpu_speed = 0;   ///< relative per-core speed from the boot benchmark; 0: unknown
  uint64_t load_milli = 0;  ///< smoothed runnable tasks x 1000
  uint64_t free_memory_mib = 0;
};

/// The job to place.
struct PlacementJob {
  std::string id;
  std::string node;        ///< the node it runs on
  uint64_t rss_bytes = 0;  ///< resident memory of all its processes
  double cpu_percent = 0;  ///< CPU use, percent of one core (0 .. 100 x cores)
};

struct PlacementPolicy {
  uint32_t min_gain_percent = kPlacementMinGainPercent;
  uint32_t memory_headroom_percent = kPlacementMemoryHeadroomPercent;
};

/// Outcome of choose_fastest_node().
struct PlacementChoice {
  std::optional<std::string> target;  ///< the node to move the job to; nullopt: stay
  /// For a person: why this target ("node-b: 45 % faster than node-a"), or why none, e.g.
  /// "no node would run j-3f9a0c12 faster than node-a (best: node-b, 3 % faster)".
  std::string reason;
};

/// Expected speed of one more task on `node` when `other_tasks` tasks are runnable there (see
/// the formula above); 0 for a node with no cores.
double expected_task_speed(const PlacementNode& node, double other_tasks);

/// Free memory a node needs to take `job` under `policy`, in MiB (rounded up).
uint64_t memory_needed_mib(const PlacementJob& job, const PlacementPolicy& policy = {});

/// Expected speed of `job` on `here`, the node it runs on: its own share of the load there
/// (its CPU use, up to one task) is not counted against it. 0 when `here`'s cores or speed
/// are unknown.
double expected_speed_where_it_runs(const PlacementJob& job, const PlacementNode& here);

/// The up node other than `job.node` with free memory for the job that gives it the highest
/// expected speed (a tie: the lowest node id), if that beats `job.node`'s by more than
/// `policy.min_gain_percent`. Nodes whose cores or speed are unknown are left out. No
/// target when `job.node` is not among `nodes` or its cores or speed are unknown.
PlacementChoice choose_fastest_node(const PlacementJob& job,
                                    const std::vector<PlacementNode>& nodes,
                                    const PlacementPolicy& policy = {});

}  // namespace clusterlive
