// Smoothing of the load a node measures: the number of runnable tasks, sampled once a second,
// turned into two views (DESIGN.md, "Load balancing"):
//   local    rises slowly and falls fast. The node decides to move work away from this view,
//            so a burst of a few seconds (a compiler, a page load) does not send jobs away,
//            and a finished job stops counting at once.
//   exported rises fast and decays slowly. Peers see this view in the load gossip, so a node
//            that just got busy is seen as busy at once, and stays so long enough that several
//            peers do not all pile work onto it in the seconds after it gets some.
// Pure: the caller samples /proc and calls add_sample() once per kLoadSampleIntervalMs.
#pragma once

#include <cstdint>

namespace clusterlive {

// --- Load smoothing constants -------------------------------------------------
// Each view is an exponential moving average: on every sample,
//   view += weight * (sample - view)
// with `weight` (per mille, per sample) chosen by the direction of the change. A weight w
// per sample halves the distance to a steady input every ln(2) / -ln(1 - w/1000) samples.

/// The interval the weights below assume between two samples, in milliseconds.
constexpr int64_t kLoadSampleIntervalMs = 1000;
/// Local view, input above the view: 1/8 per sample, half-life ~5.2 s. A burst must last
/// ~5 s to count half, ~17 s to count 90 %.
constexpr uint32_t kLocalLoadRisePermille = 125;
/// Local view, input below the view: 1/2 per sample, half-life 1 s.
constexpr uint32_t kLocalLoadFallPermille = 500;
/// Exported view, input above the view: 1/2 per sample, half-life 1 s (75 % after 2 s).
constexpr uint32_t kExportedLoadRisePermille = 500;
/// Exported view, input below the view: 1/10 per sample, half-life ~6.6 s. A node whose job
/// ended looks idle to its peers ~20 s later (90 % decayed), time enough for a migration
/// decided on its old figure to land and be measured.
constexpr uint32_t kExportedLoadDecayPermille = 100;
/// Samples above this many runnable tasks are clamped (keeps load x 1000 inside uint32).
constexpr uint32_t kMaxRunnableTasksSample = 1'000'000;

/// One step of the smoothing, in load x 1000 ("milli"): moves `previous_milli` towards
/// `sample_milli` by `rise_permille`/1000 of the distance when the sample is higher, by
/// `fall_permille`/1000 when lower. The step is rounded away from zero (at least 1 milli
/// while the distance is not 0, at most the whole distance), so a steady input is reached
/// exactly rather than approached forever. Weights above 1000 are treated as 1000.
uint32_t smooth_load_step(uint32_t previous_milli, uint32_t sample_milli, uint32_t rise_permille,
                          uint32_t fall_permille);

/// The two smoothed views of one node's load. Before the first sample both are 0. The first
/// sample is the exported view's start value, so a daemon restarted on a busy node exports
/// its real load at once instead of looking idle for a few seconds; the local view starts
/// from 0 and rises slowly as always, so a restart never sends work away on one sample.
class LoadSmoother {
 public:
  /// Adds the sample taken now: the number of runnable tasks (procs_running).
  void add_sample(uint32_t runnable_tasks);

  /// The view used to decide to move work away: rise slow, fall fast. Load x 1000.
  uint32_t local_load_milli() const { return local_milli_; }
  /// The view gossiped to peers: rise fast, decay slow. Load x 1000.
  uint32_t exported_load_milli() const { return exported_milli_; }
  /// Number of samples added so far (saturating).
  uint64_t sample_count() const { return samples_; }

 private:
  uint32_t local_milli_ = 0;
  uint32_t exported_milli_ = 0;
  uint64_t samples_ = 0;
};

}  // namespace clusterlive
