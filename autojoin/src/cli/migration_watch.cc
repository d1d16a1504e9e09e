#include "cli/migration_watch.h"

#include <utility>

#include "cli/format.h"

namespace clusterlive::cli {

MigrationWatch::MigrationWatch(const api::JobView& started, std::string target)
    : id_(terminal_safe(started.id)), target_(terminal_safe(target)), attempt_(0) {
  if (started.migration) {
    attempt_ = started.migration->attempt;
    // The daemon names the node ("home" resolved); until then, the word typed.
    if (!started.migration->target.empty()) target_ = terminal_safe(started.migration->target);
  }
}

MigrationStep MigrationWatch::look(const api::JobView& job, int64_t now_ms) {
  using Kind = MigrationStep::Kind;
  MigrationStep step;
  const api::MigrationView* migration = job.migration ? &*job.migration : nullptr;
  // An older attempt than ours: ours has not shown yet. A node that relayed the request to
  // the one running the job shows the previous migration until the new one's worker writes.
  if (migration && attempt_ != 0 && migration->attempt < attempt_) migration = nullptr;
  // Another attempt than ours: ours ended between two looks, and a new one (the balancer's,
  // or someone else's migrate) started. Saying how ours ended would be a guess.
  bool ours = migration && (attempt_ == 0 || migration->attempt == attempt_);

  std::optional<int64_t> updated;
  if (migration) updated = migration->updated_unix_ms;
  if (!looked_ || updated != last_updated_) last_change_ms_ = now_ms;
  last_updated_ = updated;

  if (ours && !migration->ended() &&
      (!looked_ || migration->phase != last_phase_ || migration->round != last_round_)) {
    step.progress = id_ + ": " + migration_progress_text(*migration);
    last_phase_ = migration->phase;
    last_round_ = migration->round;
  }
  looked_ = true;
  if (ours && !migration->target.empty()) target_ = terminal_safe(migration->target);

  if (ours && migration->ended()) {
    if (migration->outcome == api::kMigrationCommitted) {
      step.kind = Kind::committed;
      std::string facts;
      if (migration->freeze_ms) facts = "frozen " + format_seconds(*migration->freeze_ms) + ", ";
      facts += format_bytes(migration->bytes_sent) + " sent";
      step.message = id_ + " moved to " + target_ + " (" + facts + ")";
    } else {
      step.kind = Kind::failed;
      std::string reason = migration->reason.empty() ? migration->outcome : migration->reason;
      if (reason.empty()) reason = "clusterlived did not say why";
      step.message = "clusterlive: migration of " + id_ + " to " + target_ +
                     " failed: " + terminal_safe(reason);
    }
    return step;
  }
  if (migration && !ours) {
    step.kind = Kind::lost_track;
    step.message = "clusterlive: lost track of the migration of " + id_ + " to " + target_ +
                   ": the job shows attempt " + std::to_string(migration->attempt) +
                   " now (see clusterlive job " + id_ + ")";
    return step;
  }
  if (job.ended()) {
    step.kind = Kind::job_ended;
    step.message = "clusterlive: job " + id_ + " ended (" + job_state_text(job) +
                   ") before its migration to " + target_ + " finished";
    return step;
  }
  if (now_ms - last_change_ms_ >= kMigrationStallGiveUpMs) {
    step.kind = Kind::gave_up;
    step.message = "clusterlive: gave up waiting for the migration of " + id_ + " to " + target_ +
                   ": " + (migration ? "no progress" : "clusterlived shows no migration") +
                   " for " + std::to_string(kMigrationStallGiveUpMs / 1000) +
                   " s (it may still end: see clusterlive job " + id_ + ")";
  }
  return step;
}

}  // namespace clusterlive::cli
