#include "pending_moves.h"

#include <cstdio>

namespace clusterlive::view {
namespace {

FinishedMove finish(const PendingMove& move, std::string outcome, std::string reason,
                    bool moved = false) {
  return FinishedMove{move.job, move.from, move.target, moved, std::move(outcome),
                      std::move(reason)};
}

/// True when `migration` is ours: the attempt the daemon answered with (a relayed request
/// may show an older attempt first, which is the job's previous migration).
bool is_our_attempt(const PendingMove& move, const api::MigrationView& migration) {
  return move.attempt != 0 && migration.attempt == move.attempt;
}

}  // namespace

bool PendingMoves::request(const std::string& job, const std::string& from,
                           const std::string& target, int64_t now_ms) {
  if (moves_.count(job) != 0) return false;
  PendingMove move;
  move.job = job;
  move.from = from;
  move.target = target;
  move.last_news_ms = now_ms;
  moves_.emplace(job, std::move(move));
  return true;
}

std::optional<FinishedMove> PendingMoves::started(const api::JobView& answer, int64_t now_ms) {
  auto it = moves_.find(answer.id);
  if (it == moves_.end()) return std::nullopt;
  if (!answer.migration) {
    FinishedMove finished =
        finish(it->second, "refused", "the daemon's answer names no migration to follow");
    moves_.erase(it);
    return finished;
  }
  PendingMove& move = it->second;
  move.attempt = answer.migration->attempt;
  move.target = answer.migration->target;  // "home" and "best" resolved to a node
  move.progress = answer.migration;
  move.last_news_ms = now_ms;
  return std::nullopt;
}

std::optional<FinishedMove> PendingMoves::refused(const std::string& job,
                                                  const std::string& reason) {
  auto it = moves_.find(job);
  if (it == moves_.end()) return std::nullopt;
  FinishedMove finished = finish(it->second, "refused", reason);
  moves_.erase(it);
  return finished;
}

std::vector<FinishedMove> PendingMoves::update(const std::vector<api::JobView>& jobs,
                                               int64_t now_ms) {
  std::map<std::string, const api::JobView*> by_id;
  for (const api::JobView& job : jobs) by_id[job.id] = &job;

  std::vector<FinishedMove> finished;
  for (auto it = moves_.begin(); it != moves_.end();) {
    PendingMove& move = it->second;
    std::optional<FinishedMove> end;
    auto found = by_id.find(move.job);
    if (move.attempt == 0) {
      // Not answered yet: the daemon's answer to `migrate` decides (refused() or started()).
    } else if (found == by_id.end()) {
      end = finish(move, "ended", move.job + " is gone from the cluster's job list");
    } else {
      const api::JobView& job = *found->second;
      if (job.migration && is_our_attempt(move, *job.migration)) {
        if (!move.progress || job.migration->updated_unix_ms != move.progress->updated_unix_ms)
          move.last_news_ms = now_ms;
        move.progress = job.migration;
        if (job.migration->ended()) {
          bool committed = job.migration->outcome == api::kMigrationCommitted;
          end = finish(move, job.migration->outcome, committed ? "" : job.migration->reason,
                       committed);
        }
      }
      else if (job.migration && job.migration->attempt > move.attempt)
        end = finish(move, "superseded",
                     "another move of " + move.job + " (attempt " +
                         std::to_string(job.migration->attempt) + ") came after this one");
      if (!end && job.ended())
        end = finish(move, "ended", move.job + " ended (" + job.state + ") before it moved");
    }
    if (!end && now_ms - move.last_news_ms > kMoveSilenceLimitMs)
      end = finish(move, "no_news", "no news of the move for " +
                                        std::to_string(kMoveSilenceLimitMs / 1000) + " s");
    if (end) {
      finished.push_back(std::move(*end));
      it = moves_.erase(it);
    } else {
      ++it;
    }
  }
  return finished;
}

const PendingMove* PendingMoves::find(const std::string& job) const {
  auto it = moves_.find(job);
  return it == moves_.end() ? nullptr : &it->second;
}

std::string describe_pending(const PendingMove& move) {
  std::string text = "\u2192 " + move.target + ": ";
  if (move.attempt == 0 || !move.progress) return text + "asked";
  const api::MigrationView& progress = *move.progress;
  if (progress.phase == "precopy") {
    char part[80];
    std::snprintf(part, sizeof part, "pre-copy round %u, %.1f MiB sent", progress.round,
                  static_cast<double>(progress.bytes_sent) / (1024.0 * 1024.0));
    return text + part;
  }
  if (progress.phase == "final_dump") return text + "frozen, final dump";
  return text + progress.phase;
}

}  // namespace clusterlive::view
