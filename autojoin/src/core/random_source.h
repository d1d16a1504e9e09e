// Randomness for the core, injected so tests and simulations are repeatable.
#pragma once

#include <cstdint>

namespace clusterlive {

/// Source of random numbers for protocol choices (probe order, gossip peers).
/// These choices need unpredictability only against bad luck, not against
/// an attacker, so a seeded generator is fine in production too.
class RandomSource {
 public:
  virtual ~RandomSource() = default;
  /// A uniformly distributed 64-bit value.
  virtual uint64_t next_u64() = 0;
  /// A uniformly distributed value in [0, bound); bound must be > 0.
  uint64_t uniform(uint64_t bound);
  /// True with the given probability (0..1).
  bool chance(double probability);
};

/// splitmix64: tiny, fast, and gives the same sequence on every compiler
/// (std::uniform_int_distribution does not).
class SeededRandom final : public RandomSource {
 public:
  explicit SeededRandom(uint64_t seed) : state_(seed) {}
  uint64_t next_u64() override;

 private:
  uint64_t state_;
};

}  // namespace clusterlive
