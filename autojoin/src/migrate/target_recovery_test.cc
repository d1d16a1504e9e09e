// clusterlive-migrate target-recover against a spool, a lock directory and images in a
// temporary directory, with a "restored copy" that is a stopped process in a PID namespace of
// its own.
#include "migrate/target_recovery.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>

#include "jobs/job_shim.h"
#include "migrate/criu_process.h"
#include "migrate/job_inspection.h"
#include "migrate/migrate_test_support.h"
#include "migrate/target_claim.h"
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

// Node node-b's view of attempt 3 of job-1 from node-a, whose target worker died.
struct Fixture {
  TempDir dir;
  std::string spool = dir.mkdirs("jobs/job-1");
  std::string attempt_dir = dir.mkdirs("work/job-1/3/final");
  TargetRecoveryOptions options;

  explicit Fixture(TargetClaim claim) {
    options.job = "job-1";
    options.node = "node-b";
    options.jobs_root = dir.at("jobs");
    options.work_root = dir.at("work");
    options.pid_dir = dir.mkdirs("run/jobs");
    options.lock_dir = dir.at("run");
    dir.write("run/job-1.lock", "");
    dir.write("run/job-1.claim", format_target_claim(claim));
    dir.write("work/job-1/3/final/pages-1.img", "pages");
    dir.write("work/job-1/3/restore-final.log", "log");
  }
  std::string claim_path() const { return dir.at("run/job-1.claim"); }
  std::string pid_file() const { return dir.at("run/jobs/job-1.pid"); }
  // The source's prepared record, not yet committed nor fenced.
  void prepared() const {
    dir.write("jobs/job-1/location", "node-a 0\n");
    dir.write("jobs/job-1/location.3", "node-b 3\n");
  }
  void committed() const { dir.write("jobs/job-1/location", "node-b 3\n"); }
};

// A claim naming a dead worker and, if `copy` is not 0, the copy it vouched for.
TargetClaim claim_of(pid_t copy) {
  return TargetClaim{3, "node-a", dead_pid(), copy, copy > 0 ? start_time_of(copy) : 0};
}

// A stopped copy of the job, as `criu restore --leave-stopped` leaves it.
bool stop(const JobInit& job) {
  kill(job.init, SIGSTOP);
  return eventually([&] { return process_state(job.init) == 'T'; });
}

TEST(TargetRecovery, ResumesTheCopyWhenTheRecordNamesThisNodeAndFollowsItToItsEnd) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root (the spool must be root's)";
  JobInit job;
  if (job.init <= 0) GTEST_SKIP() << "cannot make a PID namespace here";
  ASSERT_TRUE(stop(job));
  Fixture fixture(claim_of(job.init));
  fixture.committed();

  pid_t recovery = fork();
  if (recovery == 0) _exit(run_target_recovery(fixture.options));
  EXPECT_TRUE(eventually([&] { return process_state(job.init) == 'S'; }));
  EXPECT_TRUE(eventually([&] { return !exists(fixture.claim_path()); }));
  EXPECT_EQ(read_all(fixture.pid_file()), pid_line(job.init));
  EXPECT_TRUE(eventually([&] { return !exists(fixture.attempt_dir); }));

  // The init says how the command ended, then ends: the recovery records that, as a shim.
  fixture.dir.write("run/jobs/job-1.exit", "exited 7\n");
  kill(job.init, SIGKILL);
  int status = -1;
  ASSERT_EQ(waitpid(recovery, &status, 0), recovery);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_EQ(read_all(fixture.spool + "/end"), "exited 7\n");
  EXPECT_FALSE(exists(fixture.pid_file()));
  EXPECT_FALSE(exists(fixture.dir.at("run/jobs/job-1.exit")));
}

TEST(TargetRecovery, KillsTheCopyWhenTheRecordNamesTheSource) {
  JobInit job;
  if (job.init <= 0) GTEST_SKIP() << "cannot make a PID namespace here";
  ASSERT_TRUE(stop(job));
  Fixture fixture(claim_of(job.init));
  fixture.prepared();

  EXPECT_EQ(run_target_recovery(fixture.options), 0);

  // Fenced first: the coordinator can no longer commit to the copy it kills.
  EXPECT_FALSE(exists(fixture.spool + "/location.3"));
  EXPECT_EQ(read_all(fixture.spool + "/fenced.3.node-b"), "node-b 3\n");
  EXPECT_EQ(read_all(fixture.spool + "/location"), "node-a 0\n");
  EXPECT_TRUE(eventually([&] { return process_state(job.init) == 0; }));
  EXPECT_FALSE(exists(fixture.claim_path()));
  EXPECT_FALSE(exists(fixture.pid_file()));
  // The images went, the log stayed.
  EXPECT_FALSE(exists(fixture.attempt_dir));
  EXPECT_TRUE(exists(fixture.dir.at("work/job-1/3/restore-final.log")));
}

TEST(TargetRecovery, KillsACopyTheWorkerDiedBeforeVouchingFor) {
  JobInit job;
  if (job.init <= 0) GTEST_SKIP() << "cannot make a PID namespace here";
  ASSERT_TRUE(stop(job));
  Fixture fixture(claim_of(0));
  fixture.dir.write("work/job-1/3/restored.pid", std::to_string(job.init) + "\n");
  fixture.prepared();

  EXPECT_EQ(run_target_recovery(fixture.options), 0);

  EXPECT_TRUE(eventually([&] { return process_state(job.init) == 0; }));
  EXPECT_TRUE(exists(fixture.spool + "/fenced.3.node-b"));
  EXPECT_FALSE(exists(fixture.claim_path()));
}

TEST(TargetRecovery, AVanishedCopyIsNeverResumed) {
  // The record names this node, but the vouched copy is gone (killed): lost, nothing runs.
  Fixture fixture(TargetClaim{3, "node-a", dead_pid(), dead_pid(), 12345});
  fixture.committed();

  EXPECT_EQ(run_target_recovery(fixture.options), 0);

  EXPECT_FALSE(exists(fixture.claim_path()));
  EXPECT_FALSE(exists(fixture.pid_file()));
  EXPECT_EQ(read_all(fixture.spool + "/location"), "node-b 3\n");
}

TEST(TargetRecovery, KillsTheAttemptsCriuBeforeDeciding) {
  Fixture fixture(claim_of(0));
  fixture.prepared();
  // Stands in for a page server the worker left: a process naming the attempt's directory.
  std::string error;
  auto criu = start_process(
      {"sh", "-c", "while :; do sleep 0.2; done", fixture.attempt_dir}, -1, error);
  ASSERT_TRUE(criu) << error;
  ASSERT_TRUE(eventually([&] { return process_state(*criu) == 'S'; }));

  EXPECT_EQ(run_target_recovery(fixture.options), 0);

  int status = 0;
  ASSERT_EQ(waitpid(*criu, &status, 0), *criu);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  EXPECT_TRUE(exists(fixture.spool + "/fenced.3.node-b"));
}

TEST(TargetRecovery, LeavesAHeldLockAndAMissingClaimAlone) {
  Fixture fixture(claim_of(0));
  fixture.prepared();
  int lock = open(fixture.dir.at("run/job-1.lock").c_str(), O_RDWR | O_CLOEXEC);
  ASSERT_GE(lock, 0);
  ASSERT_EQ(flock(lock, LOCK_EX | LOCK_NB), 0);
  EXPECT_EQ(run_target_recovery(fixture.options), 0);  // the worker lives after all
  close(lock);
  EXPECT_TRUE(exists(fixture.claim_path()));
  EXPECT_TRUE(exists(fixture.spool + "/location.3"));

  unlink(fixture.claim_path().c_str());  // decided meanwhile
  EXPECT_EQ(run_target_recovery(fixture.options), 0);
  EXPECT_TRUE(exists(fixture.spool + "/location.3"));
}

TEST(TargetRecovery, AnUnreadableClaimIsRemovedWithAnError) {
  Fixture fixture(claim_of(0));
  fixture.prepared();
  fixture.dir.write("run/job-1.claim", "{not json");
  EXPECT_EQ(run_target_recovery(fixture.options), 1);
  EXPECT_FALSE(exists(fixture.claim_path()));
  EXPECT_TRUE(exists(fixture.spool + "/location.3"));
}

}  // namespace
}  // namespace clusterlive
