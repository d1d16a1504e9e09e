// clusterlive-migrate recover against a spool in a temporary directory, with a "job" that is a
// sleeping process in a PID namespace of its own (so resuming "the job" resumes only it).
#include "migrate/migration_recovery.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <nlohmann/json.hpp>
#include <thread>

#include "migrate/criu_process.h"
#include "migrate/migrate_test_support.h"
#include "migrate/peer_link.h"
#include "sys/test_temp_dir.h"

namespace clusterlive {
namespace {

using testing::dead_pid;
using testing::eventually;
using testing::exists;
using testing::JobInit;
using testing::process_state;
using testing::read_all;
using testing::TempDir;

// A node's view of a migration of job-1 from node-a to node-b, attempt 3, whose worker died.
struct Fixture {
  TempDir dir;
  std::string spool = dir.mkdirs("jobs/job-1");
  std::string attempt_dir = dir.mkdirs("work/job-1/3/final");
  RecoveryOptions options;

  explicit Fixture(pid_t init, uint64_t attempt = 3) {
    options.job = "job-1";
    options.node = "node-a";
    options.init = init;
    options.progress_path = dir.at("run/job-1.json");
    options.jobs_root = dir.at("jobs");
    options.work_root = dir.at("work");
    dir.write("work/job-1/3/final/pages-1.img", "pages");
    dir.write("work/job-1/3/dump-final.log", "log");
    nlohmann::json progress = {{"target", "node-b"},       {"attempt", attempt},
                               {"phase", "final_dump"},    {"round", 2},
                               {"bytes_sent", 4096},       {"rate_bytes_per_s", 1000},
                               {"outcome", "in_progress"}, {"reason", ""},
                               {"updated_unix_ms", 1},     {"worker_pid", dead_pid()},
                               {"freeze_ms", 120}};
    dir.write("run/job-1.json", progress.dump() + "\n");
  }
  nlohmann::json progress() const {
    return nlohmann::json::parse(read_all(options.progress_path), nullptr, false);
  }
};

TEST(MigrationRecovery, ResumesTheJobHereWhenTheRecordNamesThisNode) {
  JobInit job;
  if (job.init <= 0) GTEST_SKIP() << "cannot make a PID namespace here";
  kill(job.init, SIGSTOP);  // as CRIU's dump --leave-stopped leaves it
  ASSERT_TRUE(eventually([&] { return process_state(job.init) == 'T'; }));
  Fixture fixture(job.init);
  fixture.dir.write("jobs/job-1/location", "node-a 0\n");
  fixture.dir.write("jobs/job-1/location.3", "node-b 3\n");

  EXPECT_EQ(run_migration_recovery(fixture.options), 0);

  // Fenced: the commit can no longer land.
  EXPECT_FALSE(exists(fixture.spool + "/location.3"));
  EXPECT_EQ(read_all(fixture.spool + "/fenced.3.node-a"), "node-b 3\n");
  EXPECT_EQ(read_all(fixture.spool + "/location"), "node-a 0\n");
  EXPECT_TRUE(eventually([&] { return process_state(job.init) == 'S'; }));
  nlohmann::json progress = fixture.progress();
  EXPECT_EQ(progress["outcome"], "aborted");
  EXPECT_EQ(progress["worker_pid"], getpid());
  EXPECT_NE(progress["reason"].get<std::string>().find("names node-a"), std::string::npos);
  // The images went, the log stayed; no move was counted.
  EXPECT_FALSE(exists(fixture.attempt_dir));
  EXPECT_TRUE(exists(fixture.dir.at("work/job-1/3/dump-final.log")));
  EXPECT_FALSE(exists(fixture.spool + "/moves"));
}

TEST(MigrationRecovery, KillsTheCopyHereWhenTheCommitLanded) {
  JobInit job;
  if (job.init <= 0) GTEST_SKIP() << "cannot make a PID namespace here";
  kill(job.init, SIGSTOP);
  Fixture fixture(job.init);
  fixture.dir.write("jobs/job-1/location", "node-b 3\n");  // the commit renamed location.3
  fixture.dir.write("jobs/job-1/moves", "1 node-b node-a 80 100\n");

  EXPECT_EQ(run_migration_recovery(fixture.options), 0);

  EXPECT_TRUE(eventually([&] { return process_state(job.init) == 0; }));
  EXPECT_EQ(fixture.progress()["outcome"], "committed");
  EXPECT_EQ(read_all(fixture.spool + "/location"), "node-b 3\n");
  EXPECT_EQ(read_all(fixture.spool + "/moves"),
            "1 node-b node-a 80 100\n3 node-a node-b 120 4096\n");
}

TEST(MigrationRecovery, KillsTheAttemptsCriuBeforeDeciding) {
  Fixture fixture(0);
  fixture.dir.write("jobs/job-1/location", "node-a 0\n");
  fixture.dir.write("jobs/job-1/location.3", "node-b 3\n");
  // Stands in for a CRIU dump the worker left: a process naming the attempt's directory.
  std::string error;
  auto criu = start_process(
      {"sh", "-c", "while :; do sleep 0.2; done", fixture.attempt_dir + "/final"}, -1, error);
  ASSERT_TRUE(criu) << error;
  ASSERT_TRUE(eventually([&] { return process_state(*criu) == 'S'; }));

  EXPECT_EQ(run_migration_recovery(fixture.options), 0);

  int status = 0;
  ASSERT_EQ(waitpid(*criu, &status, 0), *criu);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  // No copy here (init 0) and the record names this node: lost, never revived elsewhere.
  EXPECT_EQ(fixture.progress()["outcome"], "lost");
  EXPECT_TRUE(exists(fixture.spool + "/fenced.3.node-a"));
}

TEST(MigrationRecovery, AttemptZeroPreparedNothing) {
  Fixture fixture(0, 0);
  fixture.dir.write("jobs/job-1/location", "node-a 0\n");
  EXPECT_EQ(run_migration_recovery(fixture.options), 0);
  EXPECT_EQ(fixture.progress()["outcome"], "aborted");
  EXPECT_EQ(read_all(fixture.spool + "/location"), "node-a 0\n");
}

TEST(MigrationRecovery, LeavesAFinishedMigrationAndAHeldLockAlone) {
  Fixture fixture(0);
  fixture.dir.write("jobs/job-1/location", "node-a 0\n");
  fixture.dir.write("jobs/job-1/location.3", "node-b 3\n");
  nlohmann::json original = fixture.progress();
  nlohmann::json ended = original;
  ended["outcome"] = "committed";
  fixture.dir.write("run/job-1.json", ended.dump());
  EXPECT_EQ(run_migration_recovery(fixture.options), 0);
  EXPECT_EQ(fixture.progress(), ended);
  EXPECT_TRUE(exists(fixture.spool + "/location.3"));

  // Unfinished, but another recovery of the job holds the lock: this one leaves it to it.
  fixture.dir.write("run/job-1.json", original.dump());
  int lock = open((fixture.options.progress_path + ".recover").c_str(),
                  O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  ASSERT_GE(lock, 0);
  ASSERT_EQ(flock(lock, LOCK_EX | LOCK_NB), 0);
  EXPECT_EQ(run_migration_recovery(fixture.options), 0);
  close(lock);
  EXPECT_EQ(fixture.progress(), original);
  EXPECT_TRUE(exists(fixture.spool + "/location.3"));
}

}  // namespace
}  // namespace clusterlive
