#include "core/load_smoother.h"

#include <algorithm>
#include <limits>

namespace clusterlive {

static_assert(uint64_t{kMaxRunnableTasksSample} * 1000 <= std::numeric_limits<uint32_t>::max(),
              "the largest sample, x 1000, must fit load_milli");
static_assert(kLocalLoadRisePermille < kLocalLoadFallPermille,
              "the local view must rise slower than it falls");
static_assert(kExportedLoadRisePermille > kExportedLoadDecayPermille,
              "the exported view must rise faster than it decays");

namespace {

// ceil(distance * weight / 1000) for weight in 1..1000: never 0 for a non-zero distance,
// never more than the distance.
uint32_t step_towards(uint32_t distance, uint32_t weight_permille) {
  uint64_t scaled = uint64_t{distance} * weight_permille;
  return static_cast<uint32_t>((scaled + 999) / 1000);
}

}  // namespace

uint32_t smooth_load_step(uint32_t previous_milli, uint32_t sample_milli, uint32_t rise_permille,
                          uint32_t fall_permille) {
  rise_permille = std::min<uint32_t>(rise_permille, 1000);
  fall_permille = std::min<uint32_t>(fall_permille, 1000);
  if (sample_milli > previous_milli) {
    return previous_milli + step_towards(sample_milli - previous_milli, rise_permille);
  }
  return previous_milli - step_towards(previous_milli - sample_milli, fall_permille);
}

void LoadSmoother::add_sample(uint32_t runnable_tasks) {
  uint32_t sample_milli = std::min(runnable_tasks, kMaxRunnableTasksSample) * 1000;
  local_milli_ =
      smooth_load_step(local_milli_, sample_milli, kLocalLoadRisePermille, kLocalLoadFallPermille);
  exported_milli_ = samples_ == 0
                        ? sample_milli
                        : smooth_load_step(exported_milli_, sample_milli, kExportedLoadRisePermille,
                                           kExportedLoadDecayPermille);
  if (samples_ != std::numeric_limits<uint64_t>::max()) ++samples_;
}

}  // namespace clusterlive
