// What `clusterlive migrate` says while it waits for a migration, and when it stops: fed the
// job as clusterlived shows it, look after look, it answers with the progress line to print
// (when the phase or round changed) and, at the end, the outcome. Pure: no I/O, no clock (the
// caller passes the time), so that every way a migration can end is unit-tested.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "api/api_types.h"

namespace clusterlive::cli {

/// A migration whose view has not changed (absent, or the same updated_unix_ms) for this long
/// is given up on, in ms: the daemon updates a live one at least every round, and its own
/// deadlines (kRestoreTimeoutMs, the largest, is 120 s) end a stuck one well before.
constexpr int64_t kMigrationStallGiveUpMs = 300'000;

/// Where a watched migration stands after one look.
struct MigrationStep {
  enum class Kind {
    waiting,     ///< still under way: look again
    committed,   ///< the job runs on the target now
    failed,      ///< aborted or lost (or an outcome this client does not know)
    job_ended,   ///< the job ended (exited, killed, lost) before its migration did
    lost_track,  ///< the job shows another attempt: this one ended unseen
    gave_up,     ///< nothing changed for kMigrationStallGiveUpMs
  };
  Kind kind = Kind::waiting;
  /// A line for stderr, without its newline, when the phase or round changed; else "".
  std::string progress;
  /// Unless waiting: the last line, without its newline: for stdout when committed, else an
  /// error for stderr ("clusterlive: ...").
  std::string message;

  bool done() const { return kind != Kind::waiting; }
};

/// Follows one migration of one job. Terminal-safe output: every text from the daemon is.
class MigrationWatch {
 public:
  /// `started`: the job as `migrate` answered it. `target`: as the user typed it (a node id
  /// or "home"), named in messages until the daemon names the node.
  MigrationWatch(const api::JobView& started, std::string target);

  /// Takes the job as shown at `now_ms` (any monotonic clock, in ms; first at the answer to
  /// `migrate` itself, then after each look) and says what to print and whether to stop.
  MigrationStep look(const api::JobView& job, int64_t now_ms);

 private:
  std::string id_;      ///< the job's id, terminal-safe
  std::string target_;  ///< the target's name for messages, terminal-safe
  uint64_t attempt_;    ///< the attempt `migrate` started, 0 when the daemon did not say
  bool looked_ = false;
  std::string last_phase_;
  uint32_t last_round_ = 0;
  std::optional<int64_t> last_updated_;  ///< updated_unix_ms at the last look; nullopt: absent
  int64_t last_change_ms_ = 0;           ///< `now_ms` when the view last changed
};

}  // namespace clusterlive::cli
