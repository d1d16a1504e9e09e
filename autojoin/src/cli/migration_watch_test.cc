#include "cli/migration_watch.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "api/api_test_support.h"

namespace clusterlive::cli {
namespace {

using Kind = MigrationStep::Kind;

/// The job as `migrate` answers it: migrating, attempt 3 to node-c10003 "starting".
api::JobView started_job() {
  api::JobView job = api::test_support::sample_jobs()[0];
  job.state = api::kJobMigrating;
  api::MigrationView migration;
  migration.target = "node-c10003";
  migration.attempt = 3;
  migration.phase = "starting";
  migration.outcome = api::kMigrationInProgress;
  migration.updated_unix_ms = 1'000;
  job.migration = migration;
  return job;
}

/// `job` with its migration moved along to `phase` and `round`, updated at `updated`.
api::JobView at(api::JobView job, const std::string& phase, uint32_t round, int64_t updated,
                uint64_t bytes = 0, uint64_t rate = 0) {
  job.migration->phase = phase;
  job.migration->round = round;
  job.migration->bytes_sent = bytes;
  job.migration->rate_bytes_per_s = rate;
  job.migration->updated_unix_ms = updated;
  return job;
}

/// Feeds `views` one a second; returns the progress lines and the last step.
MigrationStep feed(MigrationWatch& watch, const std::vector<api::JobView>& views,
                   std::vector<std::string>& progress, int64_t* now_ms = nullptr) {
  int64_t now = now_ms ? *now_ms : 0;
  MigrationStep step;
  for (const api::JobView& view : views) {
    step = watch.look(view, now);
    if (!step.progress.empty()) progress.push_back(step.progress);
    if (step.done()) break;
    now += 1'000;
  }
  if (now_ms) *now_ms = now;
  return step;
}

TEST(MigrationWatch, ShowsEachPhaseAndRoundOnceThenTheCommit) {
  api::JobView job = started_job();
  MigrationWatch watch(job, "node-c10003");
  api::JobView committed = at(job, "committed", 3, 9, 47'815'065, 8'493'465);
  committed.migration->outcome = api::kMigrationCommitted;
  committed.migration->freeze_ms = 1234;
  committed.state = api::kJobRunning;
  committed.where = "node-c10003";
  std::vector<std::string> progress;
  MigrationStep step = feed(watch,
                            {job, job, at(job, "preflight", 0, 2), at(job, "preflight", 0, 2),
                             at(job, "precopy", 1, 3, 10'485'760, 4'194'304),
                             at(job, "precopy", 1, 4, 11'000'000, 4'194'304),  // same round
                             at(job, "precopy", 2, 5, 12'897'484, 8'493'465),
                             at(job, "final_dump", 0, 6, 47'815'065, 8'493'465), committed},
                            progress);
  EXPECT_EQ(step.kind, Kind::committed);
  EXPECT_TRUE(step.done());
  EXPECT_EQ(step.message, "j-3f9a0c12 moved to node-c10003 (frozen 1.23 s, 45.6 MiB sent)");
  EXPECT_EQ(progress, (std::vector<std::string>{
                          "j-3f9a0c12: starting",
                          "j-3f9a0c12: preflight",
                          "j-3f9a0c12: precopy round 1, 10.0 MiB sent, 4.0 MiB/s",
                          "j-3f9a0c12: precopy round 2, 12.3 MiB sent, 8.1 MiB/s",
                          "j-3f9a0c12: final dump, 45.6 MiB sent, 8.1 MiB/s",
                      }));
}

TEST(MigrationWatch, CommitWithoutAFreezeTime) {
  api::JobView job = started_job();
  job.migration->outcome = api::kMigrationCommitted;  // over before the first look
  job.migration->bytes_sent = 2048;
  MigrationWatch watch(job, "node-c10003");
  MigrationStep step = watch.look(job, 0);
  EXPECT_EQ(step.kind, Kind::committed);
  EXPECT_EQ(step.progress, "");  // the end says it all
  EXPECT_EQ(step.message, "j-3f9a0c12 moved to node-c10003 (2.0 KiB sent)");
}

TEST(MigrationWatch, HomeIsNamedAsTheDaemonNamesIt) {
  api::JobView job = started_job();
  job.migration->target = "";  // not named yet
  MigrationWatch watch(job, "home");
  EXPECT_EQ(watch.look(job, 0).kind, Kind::waiting);
  job.migration->target = "node-3a9f01";
  job.migration->outcome = api::kMigrationAborted;
  job.migration->reason = "node-3a9f01 is dead";
  MigrationStep step = watch.look(job, 1'000);
  EXPECT_EQ(step.kind, Kind::failed);
  EXPECT_EQ(step.message,
            "clusterlive: migration of j-3f9a0c12 to node-3a9f01 failed: node-3a9f01 is dead");

  api::JobView unnamed = started_job();
  unnamed.migration->target = "";
  unnamed.migration->outcome = api::kMigrationLost;
  MigrationWatch never_named(unnamed, "home");
  EXPECT_EQ(never_named.look(unnamed, 0).message,
            "clusterlive: migration of j-3f9a0c12 to home failed: lost");
}

TEST(MigrationWatch, AbortsAndLossesFail) {
  struct Case {
    const char* outcome;
    const char* reason;
    const char* message;
  };
  for (const Case& c : std::vector<Case>{
           {api::kMigrationAborted, "criu restore failed (see restore.log)",
            "clusterlive: migration of j-3f9a0c12 to node-c10003 failed: criu restore failed "
            "(see restore.log)"},
           {api::kMigrationAborted, "",
            "clusterlive: migration of j-3f9a0c12 to node-c10003 failed: aborted"},
           {api::kMigrationLost, "both copies died",
            "clusterlive: migration of j-3f9a0c12 to node-c10003 failed: both copies died"},
           // An outcome this client does not know is an end it cannot call a success.
           {"paused_forever", "",
            "clusterlive: migration of j-3f9a0c12 to node-c10003 failed: paused_forever"},
           {"", "",
            "clusterlive: migration of j-3f9a0c12 to node-c10003 failed: clusterlived "
            "did not say why"},
           {api::kMigrationAborted, "bad\x1b[2J\nreason",
            "clusterlive: migration of j-3f9a0c12 to node-c10003 failed: bad?[2J?reason"},
       }) {
    api::JobView job = started_job();
    MigrationWatch watch(job, "node-c10003");
    watch.look(job, 0);
    job.migration->outcome = c.outcome;
    job.migration->reason = c.reason;
    MigrationStep step = watch.look(job, 200);
    EXPECT_EQ(step.kind, Kind::failed) << c.outcome;
    EXPECT_EQ(step.message, c.message);
  }
}

TEST(MigrationWatch, TheJobEndingFirstStopsTheWait) {
  api::JobView job = started_job();
  MigrationWatch watch(job, "node-c10003");
  watch.look(job, 0);
  job.state = api::kJobExited;
  job.exit_code = 0;
  job.migration.reset();  // a daemon may drop it with the job
  MigrationStep step = watch.look(job, 200);
  EXPECT_EQ(step.kind, Kind::job_ended);
  EXPECT_EQ(step.message,
            "clusterlive: job j-3f9a0c12 ended (exited 0) before its migration to node-c10003 "
            "finished");
  // A migration that ended (aborted, as the job died) says more than the job's end.
  api::JobView killed = started_job();
  killed.state = api::kJobKilled;
  killed.signal = 9;
  killed.migration->outcome = api::kMigrationAborted;
  killed.migration->reason = "the job ended";
  MigrationWatch again(killed, "node-c10003");
  EXPECT_EQ(again.look(killed, 0).kind, Kind::failed);
}

TEST(MigrationWatch, AnotherAttemptMeansOursEndedUnseen) {
  api::JobView job = started_job();
  MigrationWatch watch(job, "node-c10003");
  watch.look(job, 0);
  job.migration->attempt = 4;
  job.migration->target = "node-0a1b2c";
  job.migration->outcome = api::kMigrationCommitted;
  MigrationStep step = watch.look(job, 200);
  EXPECT_EQ(step.kind, Kind::lost_track);
  EXPECT_EQ(step.message,
            "clusterlive: lost track of the migration of j-3f9a0c12 to node-c10003: the job "
            "shows attempt 4 now (see clusterlive job j-3f9a0c12)");
  // A daemon that gave no attempt number: whatever migration it shows is ours.
  api::JobView unnumbered = started_job();
  unnumbered.migration->attempt = 0;
  MigrationWatch lenient(unnumbered, "node-c10003");
  unnumbered.migration->attempt = 9;
  unnumbered.migration->outcome = api::kMigrationCommitted;
  EXPECT_EQ(lenient.look(unnumbered, 0).kind, Kind::committed);
}

TEST(MigrationWatch, AnOlderAttemptIsThePreviousMigrationNotOurs) {
  // Asked on a node the job does not run on: until the source's worker writes attempt 3, the
  // job shows its previous migration (attempt 2, committed long ago).
  api::JobView job = started_job();
  MigrationWatch watch(job, "node-c10003");
  api::JobView previous = job;
  previous.migration->attempt = 2;
  previous.migration->outcome = api::kMigrationCommitted;
  previous.migration->phase = "committed";
  EXPECT_EQ(watch.look(previous, 0).kind, Kind::waiting);
  EXPECT_EQ(watch.look(previous, 1'000).kind, Kind::waiting);
  job.migration->outcome = api::kMigrationCommitted;
  EXPECT_EQ(watch.look(at(job, "committed", 1, 5'000), 2'000).kind, Kind::committed);
}

TEST(MigrationWatch, GivesUpWhenNothingChangesFor300Seconds) {
  api::JobView job = started_job();
  MigrationWatch watch(job, "node-c10003");
  EXPECT_EQ(watch.look(job, 0).kind, Kind::waiting);
  EXPECT_EQ(watch.look(job, kMigrationStallGiveUpMs - 1).kind, Kind::waiting);
  // A change restarts the count: the daemon still works on it.
  api::JobView later = at(job, "precopy", 1, 2);
  EXPECT_EQ(watch.look(later, kMigrationStallGiveUpMs + 10).kind, Kind::waiting);
  EXPECT_EQ(watch.look(later, 2 * kMigrationStallGiveUpMs).kind, Kind::waiting);
  MigrationStep step = watch.look(later, 2 * kMigrationStallGiveUpMs + 10);
  EXPECT_EQ(step.kind, Kind::gave_up);
  EXPECT_EQ(step.progress, "");
  EXPECT_EQ(step.message,
            "clusterlive: gave up waiting for the migration of j-3f9a0c12 to node-c10003: no "
            "progress for 300 s (it may still end: see clusterlive job j-3f9a0c12)");
}

TEST(MigrationWatch, GivesUpWhenTheMigrationStaysAbsent) {
  api::JobView job = started_job();
  MigrationWatch watch(job, "node-c10003");
  watch.look(job, 0);
  api::JobView absent = job;
  absent.migration.reset();
  EXPECT_EQ(watch.look(absent, 1'000).kind, Kind::waiting);  // absent is a change
  EXPECT_EQ(watch.look(absent, 1'000 + kMigrationStallGiveUpMs - 1).kind, Kind::waiting);
  MigrationStep step = watch.look(absent, 1'000 + kMigrationStallGiveUpMs);
  EXPECT_EQ(step.kind, Kind::gave_up);
  EXPECT_EQ(step.message,
            "clusterlive: gave up waiting for the migration of j-3f9a0c12 to node-c10003: "
            "clusterlived shows no migration for 300 s (it may still end: see clusterlive job "
            "j-3f9a0c12)");
  // Coming back counts as a change, and its phase is shown again.
  MigrationWatch back(job, "node-c10003");
  back.look(absent, 0);
  MigrationStep returned = back.look(job, kMigrationStallGiveUpMs - 1);
  EXPECT_EQ(returned.kind, Kind::waiting);
  EXPECT_EQ(returned.progress, "j-3f9a0c12: starting");
  EXPECT_EQ(back.look(job, 2 * kMigrationStallGiveUpMs - 2).kind, Kind::waiting);
}

TEST(MigrationWatch, HostileTextIsMadeSafe) {
  api::JobView job = started_job();
  job.id = "j-\x1b[31m";
  job.migration->target = "node\x1b]0;x\x07";
  job.migration->phase =
      "pre\x9b"
      "copy";
  MigrationWatch watch(job, "node-c10003");
  MigrationStep step = watch.look(job, 0);
  EXPECT_EQ(step.progress.find('\x1b'), std::string::npos) << step.progress;
  job.migration->outcome = api::kMigrationCommitted;
  step = watch.look(job, 1);
  EXPECT_EQ(step.message, "j-?[31m moved to node?]0;x? (0 B sent)");
}

}  // namespace
}  // namespace clusterlive::cli
