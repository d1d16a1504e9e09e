#include "core/random_source.h"

namespace clusterlive {

uint64_t RandomSource::uniform(uint64_t bound) {
  // Rejection sampling removes the bias of a plain modulo.
  const uint64_t limit = UINT64_MAX - (UINT64_MAX % bound);
  uint64_t value = next_u64();
  while (value >= limit) value = next_u64();
  return value % bound;
}

bool RandomSource::chance(double probability) {
  // 53 random bits give a uniform double in [0, 1).
  const double unit = static_cast<double>(next_u64() >> 11) * 0x1.0p-53;
  return unit < probability;
}

uint64_t SeededRandom::next_u64() {
  state_ += 0x9e3779b97f4a7c15ULL;
  uint64_t z = state_;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace clusterlive
