// The moves this window asked for, from the drop until the daemon says how each ended. Pure:
// the controller feeds in the daemon's answers and each `ps` snapshot, with the time.
//
// A job's item stays on its card while its move is pending (showing the move's progress) and
// changes card only when a `ps` snapshot shows it on the new node: nothing moves on a drop.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "api/api_types.h"

namespace clusterlive::view {

/// No news of a pending move for this long (ms): the window stops waiting, as the CLI does.
constexpr int64_t kMoveSilenceLimitMs = 300'000;

struct PendingMove {
  std::string job;
  std::string from;    ///< the node it ran on when dropped
  std::string target;  ///< as asked: a node id, "home" or "best"; the node id once answered
  /// The migration's attempt, from the daemon's answer to `migrate`; 0 until it answered.
  uint64_t attempt = 0;
  std::optional<api::MigrationView> progress;  ///< the migration as the last snapshot showed it
  int64_t last_news_ms = 0;                    ///< when anything about it last changed
};

/// How a pending move ended.
struct FinishedMove {
  std::string job;
  std::string from;
  std::string target;
  bool moved = false;  ///< the job runs on `target` now
  std::string outcome;  ///< "committed", "aborted", "lost", "refused", "superseded", "ended"
                        ///< or "no_news"
  std::string reason;   ///< for a person; empty when moved
};

class PendingMoves {
 public:
  /// A drop asked to move `job` from `from` to `target` at `now_ms`. False (nothing recorded)
  /// while a move of that job is pending already: one request per job at a time.
  bool request(const std::string& job, const std::string& from, const std::string& target,
               int64_t now_ms);

  /// The daemon started the move: its answer to `migrate` is the job with the migration.
  /// An answer without one cannot be followed: the move ends, and is returned.
  std::optional<FinishedMove> started(const api::JobView& answer, int64_t now_ms);

  /// The daemon refused to start the move (or the connection broke before it answered),
  /// with its reason. The move ends.
  std::optional<FinishedMove> refused(const std::string& job, const std::string& reason);

  /// A `ps` snapshot at `now_ms`: follows every started move, and ends those that ended
  /// (the migration's outcome for our attempt, the job's end, the job gone) or had no news
  /// for kMoveSilenceLimitMs.
  std::vector<FinishedMove> update(const std::vector<api::JobView>& jobs, int64_t now_ms);

  /// The pending move of `job`, if there is one.
  const PendingMove* find(const std::string& job) const;
  bool empty() const { return moves_.empty(); }

 private:
  std::map<std::string, PendingMove> moves_;  // by job id
};

/// One line for a pending item, e.g. "→ node-b: pre-copy round 2, 12.3 MiB sent" or
/// "→ node-b: asked".
std::string describe_pending(const PendingMove& move);

}  // namespace clusterlive::view
