// Runs real jobs through the real shim (clusterlive-job) in a scratch spool. Making a PID
// namespace and switching users needs root: without it the tests are skipped, saying so.
#include "jobs/job_manager.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstring>
#include <gtest/gtest.h>
#include <thread>

#include "sys/file_io.h"
#include "sys/test_temp_dir.h"
#include "sys/wall_clock.h"
#include <nlohmann/json.hpp>

namespace clusterlive {
namespace {

constexpr uid_t kNobody = 65534;

// Whether this process may make PID namespaces (not in every container or build root).
bool can_make_pid_namespaces() {
  pid_t child = fork();
  if (child == 0) _exit(unshare(CLONE_NEWPID) == 0 ? 0 : 1);
  int status = 0;
  return child > 0 && waitpid(child, &status, 0) == child && WIFEXITED(status) &&
         WEXITSTATUS(status) == 0;
}

class JobManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root (PID namespaces, switching users)";
    if (!can_make_pid_namespaces()) GTEST_SKIP() << "this environment forbids PID namespaces";
    chmod(temp_.path().c_str(), 0755);  // a job of user nobody starts in it
    options_.node_id = "node-c10001";
    options_.shared_root = "";  // the scratch directory is no mount point
    options_.jobs_root = temp_.at("cluster/jobs");
    options_.runtime_dir = temp_.at("run");
    options_.shim_path = CLUSTERLIVE_JOB_SHIM;
    mkdir(temp_.at("cluster").c_str(), 0755);
    manager_.emplace(options_, random_);
  }

  api::RunRequest request(std::vector<std::string> argv) {
    api::RunRequest r;
    r.argv = std::move(argv);
    r.cwd = temp_.path();
    r.env = {{"PATH", "/usr/sbin:/usr/bin:/sbin:/bin"}, {"GREETING", "hello there"}};
    return r;
  }

  // Waits (up to 20 s) until the job has ended, and returns its row.
  api::JobView wait_for_end(const std::string& id) {
    for (int i = 0; i < 400; ++i) {
      api::JobResult result = manager_->get(id);
      if (result.ok && result.job.state != "running") return result.job;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ADD_FAILURE() << "job " << id << " did not end";
    return manager_->get(id).job;
  }

  std::string spool_file(const api::JobView& job, const std::string& name) {
    return read_file_bounded(job.spool + "/" + name, 1 << 20).text;
  }

  testing::TempDir temp_;
  JobManagerOptions options_;
  SeededRandom random_{7};
  std::optional<JobManager> manager_;
};

// The command is PID 2 of its own namespace: PID 1 is the job's root init, through which CRIU
// dumps the namespace (job_shim.cc, run_job_init).
TEST_F(JobManagerTest, AJobHasItsOwnPidNamespaceWithItsOutputAndExitCode) {
  api::JobResult started = manager_->run(
      {0, 0, 1}, request({"sh", "-c", "echo pid $$; echo \"$GREETING\"; echo oops >&2; exit 3"}));
  ASSERT_TRUE(started.ok) << started.error;
  EXPECT_EQ(started.job.state, "running");
  EXPECT_EQ(started.job.where, "node-c10001");
  EXPECT_EQ(started.job.name, "sh");
  api::JobView ended = wait_for_end(started.job.id);
  EXPECT_EQ(ended.state, "exited");
  EXPECT_EQ(ended.exit_code, 3);
  EXPECT_EQ(spool_file(ended, "stdout"), "pid 2\nhello there\n");
  EXPECT_EQ(spool_file(ended, "stderr"), "oops\n");
  EXPECT_EQ(spool_file(ended, "location"), "node-c10001 0\n");
}

TEST_F(JobManagerTest, ACommandKilledByASignalIsRecordedAsKilled) {
  // The init reports the command's own end, not its own exit.
  api::JobResult started = manager_->run({0, 0, 1}, request({"sh", "-c", "kill -TERM $$"}));
  ASSERT_TRUE(started.ok) << started.error;
  api::JobView ended = wait_for_end(started.job.id);
  EXPECT_EQ(ended.state, "killed");
  EXPECT_EQ(ended.signal, SIGTERM);
}

TEST_F(JobManagerTest, AJobRunsAsItsCallerAndOwnsItsOutput) {
  api::JobResult started = manager_->run({kNobody, kNobody, 1}, request({"id", "-u"}));
  ASSERT_TRUE(started.ok) << started.error;
  api::JobView ended = wait_for_end(started.job.id);
  EXPECT_EQ(ended.exit_code, 0);
  EXPECT_EQ(spool_file(ended, "stdout"), "65534\n");
  struct stat out {};
  ASSERT_EQ(stat((ended.spool + "/stdout").c_str(), &out), 0);
  EXPECT_EQ(out.st_uid, kNobody);
  EXPECT_EQ(out.st_mode & 0777, 0600u);
  EXPECT_EQ(ended.owner_uid, kNobody);
}

TEST_F(JobManagerTest, KillEndsTheWholeNamespaceAndOnlyTheOwnerOrRootMayKill) {
  api::JobResult started =
      manager_->run({kNobody, kNobody, 1}, request({"sh", "-c", "sleep 100 & sleep 100"}));
  ASSERT_TRUE(started.ok) << started.error;
  // The pid file appears once the shim has forked the job.
  std::string pid_file = options_.runtime_dir + "/" + started.job.id + ".pid";
  for (int i = 0; i < 100 && access(pid_file.c_str(), F_OK) != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  api::JobResult refused = manager_->kill({1000, 1000, 1}, started.job.id);
  EXPECT_FALSE(refused.ok);
  EXPECT_EQ(refused.error_code, "permission_denied");
  api::JobResult killed = manager_->kill({kNobody, kNobody, 1}, started.job.id);
  ASSERT_TRUE(killed.ok) << killed.error;
  api::JobView ended = wait_for_end(started.job.id);
  EXPECT_EQ(ended.state, "killed");
  EXPECT_EQ(ended.signal, 9);
  EXPECT_EQ(manager_->kill({0, 0, 1}, started.job.id).error_code, "failed");  // already ended
}

TEST_F(JobManagerTest, LockIsAFileInTheSpoolForTheOwnerOrRootUntilTheJobEnds) {
  api::JobResult started = manager_->run({kNobody, kNobody, 1}, request({"sleep", "100"}));
  ASSERT_TRUE(started.ok) << started.error;
  EXPECT_FALSE(started.job.locked);
  const std::string lock_file = started.job.spool + "/locked";
  api::JobResult refused = manager_->set_locked({1000, 1000, 1}, started.job.id, true);
  EXPECT_EQ(refused.error_code, "permission_denied");
  EXPECT_NE(access(lock_file.c_str(), F_OK), 0);

  api::JobResult locked = manager_->set_locked({kNobody, kNobody, 1}, started.job.id, true);
  ASSERT_TRUE(locked.ok) << locked.error;
  EXPECT_TRUE(locked.job.locked);
  EXPECT_EQ(access(lock_file.c_str(), F_OK), 0);
  EXPECT_TRUE(manager_->get(started.job.id).job.locked);  // every node reads the same file
  // Locking again, or unlocking twice, is fine.
  EXPECT_TRUE(manager_->set_locked({0, 0, 1}, started.job.id, true).ok);
  api::JobResult unlocked = manager_->set_locked({0, 0, 1}, started.job.id, false);
  ASSERT_TRUE(unlocked.ok) << unlocked.error;
  EXPECT_FALSE(unlocked.job.locked);
  EXPECT_TRUE(manager_->set_locked({0, 0, 1}, started.job.id, false).ok);
  EXPECT_FALSE(manager_->get(started.job.id).job.locked);

  EXPECT_EQ(manager_->set_locked({0, 0, 1}, "j-99999999", true).error_code, "not_found");
  for (int i = 0; i < 100 && !manager_->kill({0, 0, 1}, started.job.id).ok; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // until the shim wrote the pid
  }
  wait_for_end(started.job.id);
  EXPECT_EQ(manager_->set_locked({0, 0, 1}, started.job.id, true).error_code, "failed");
}

TEST_F(JobManagerTest, AMissingCommandEndsWith127AndSaysWhy) {
  api::JobResult started = manager_->run({0, 0, 1}, request({"no-such-command-here"}));
  ASSERT_TRUE(started.ok) << started.error;
  api::JobView ended = wait_for_end(started.job.id);
  EXPECT_EQ(ended.exit_code, 127);
  EXPECT_NE(spool_file(ended, "stderr").find("cannot run no-such-command-here"), std::string::npos)
      << spool_file(ended, "stderr");
}

TEST_F(JobManagerTest, AJobInheritsNoSignalStateAndNoStrayFds) {
  int stray = open("/dev/null", O_RDONLY);  // no close-on-exec: must not reach the job
  ASSERT_GE(stray, 3);
  std::signal(SIGPIPE, SIG_IGN);  // as the daemon does
  // Signal 33, one of glibc's own, ignored by a parent (glibc's sigaction cannot do that).
  struct {
    void (*handler)(int);
    unsigned long flags;
    void (*restorer)();
    uint64_t mask;
  } ignore{SIG_IGN, 0, nullptr, 0};
  ASSERT_EQ(syscall(SYS_rt_sigaction, 33, &ignore, nullptr, sizeof ignore.mask), 0);
  api::JobResult started = manager_->run(
      {kNobody, kNobody, 1},
      request({"sh", "-c", "grep -E '^Sig(Ign|Blk)' /proc/self/status; ls /proc/self/fd"}));
  std::signal(SIGPIPE, SIG_DFL);
  ignore.handler = SIG_DFL;
  syscall(SYS_rt_sigaction, 33, &ignore, nullptr, sizeof ignore.mask);
  close(stray);
  ASSERT_TRUE(started.ok) << started.error;
  api::JobView ended = wait_for_end(started.job.id);
  EXPECT_EQ(spool_file(ended, "stdout"),
            "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n0\n1\n2\n3\n")
      << "fd 3 is ls's own directory";
}

// The daemon runs real-time (its unit); a job started from there still runs at the normal
// policy and nice 0, even if the reset at fork were forgotten.
TEST_F(JobManagerTest, AJobRunsAtTheNormalPolicyAndPriorityNotTheDaemons) {
  struct sched_param realtime{};
  realtime.sched_priority = 1;
  ASSERT_EQ(sched_setscheduler(0, SCHED_RR, &realtime), 0) << std::strerror(errno);
  ASSERT_EQ(setpriority(PRIO_PROCESS, 0, -5), 0) << std::strerror(errno);
  // Fields 19 and 41 of /proc/PID/stat: nice and scheduling policy (0: SCHED_OTHER).
  api::JobResult started = manager_->run(
      {kNobody, kNobody, 1}, request({"awk", "{ print $19, $41 }", "/proc/self/stat"}));
  struct sched_param normal{};
  sched_setscheduler(0, SCHED_OTHER, &normal);
  setpriority(PRIO_PROCESS, 0, 0);
  ASSERT_TRUE(started.ok) << started.error;
  api::JobView ended = wait_for_end(started.job.id);
  EXPECT_EQ(ended.exit_code, 0) << spool_file(ended, "stderr");
  EXPECT_EQ(spool_file(ended, "stdout"), "0 0\n");
}

TEST_F(JobManagerTest, RefusesASpoolOthersCouldTamperWith) {
  mkdir(options_.jobs_root.c_str(), 0755);
  chmod(options_.jobs_root.c_str(), 0777);
  api::JobResult refused = manager_->run({0, 0, 1}, request({"true"}));
  EXPECT_FALSE(refused.ok);
  EXPECT_NE(refused.error.find("not safe"), std::string::npos) << refused.error;
  chmod(options_.jobs_root.c_str(), 0755);
  chmod(temp_.at("cluster").c_str(), 0777);  // a writable parent without the sticky bit
  EXPECT_FALSE(manager_->run({0, 0, 1}, request({"true"})).ok);
  chmod(temp_.at("cluster").c_str(), 01777);
  api::JobResult started = manager_->run({0, 0, 1}, request({"true"}));
  ASSERT_TRUE(started.ok) << started.error;
  wait_for_end(started.job.id);  // its shim must not outlive the spool it records into
}

TEST_F(JobManagerTest, ANonExecutableCommandEndsWith126) {
  std::string script = temp_.write("script.sh", "#!/bin/sh\necho hi\n");
  chmod(script.c_str(), 0644);
  api::JobResult started = manager_->run({0, 0, 1}, request({script}));
  ASSERT_TRUE(started.ok) << started.error;
  EXPECT_EQ(wait_for_end(started.job.id).exit_code, 126);
}

TEST_F(JobManagerTest, AMissingShimIsAFailedRunThatLeavesNothing) {
  options_.shim_path = temp_.at("no-such-shim");
  JobManager manager(options_, random_);
  api::JobResult refused = manager.run({0, 0, 1}, request({"true"}));
  EXPECT_FALSE(refused.ok);
  EXPECT_NE(refused.error.find("no-such-shim"), std::string::npos) << refused.error;
  EXPECT_TRUE(manager.list().empty());
}

TEST_F(JobManagerTest, ListsJobsNewestFirstAndSkipsJunk) {
  std::string first = manager_->run({0, 0, 1}, request({"true"})).job.id;
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  std::string second = manager_->run({0, 0, 1}, request({"true"})).job.id;
  wait_for_end(first);
  wait_for_end(second);
  temp_.write("cluster/jobs/j-deadbeef/job.json", "{not json");
  temp_.write("cluster/jobs/not-a-job/job.json", "{}");
  std::vector<api::JobView> jobs = manager_->list();
  ASSERT_EQ(jobs.size(), 2u);
  EXPECT_EQ(jobs[0].id, second);
  EXPECT_EQ(jobs[1].id, first);
  EXPECT_EQ(manager_->get("j-deadbeef").error_code, "not_found");
  EXPECT_EQ(manager_->get("../../etc").error_code, "not_found");
}

// The record names this node from the commit on; the pid follows when the target's worker
// resumes the job. Meanwhile the job is arriving, not lost.
TEST_F(JobManagerTest, AJobJustMovedHereIsRunningBeforeItsPidIsWritten) {
  const std::string spool = "cluster/jobs/j-0badcafe/";
  temp_.write(spool + "job.json",
              R"({"name":"n","owner_uid":0,"owner":"root","home":"node-c10002","argv":["x"],)"
              R"("started_unix_ms":1000})");
  temp_.write(spool + "location", "node-c10001 3\n");
  auto migration = [&](int64_t updated) {
    nlohmann::json view = {{"target", "node-c10001"}, {"attempt", 3}, {"phase", "commit"},
                           {"round", 1}, {"bytes_sent", 0}, {"rate_bytes_per_s", 0},
                           {"outcome", "in_progress"}, {"reason", ""},
                           {"updated_unix_ms", updated}};
    temp_.write(spool + "migration.json", view.dump());
  };
  migration(unix_time_ms());
  EXPECT_EQ(manager_->get("j-0badcafe").job.state, api::kJobMigrating);
  migration(unix_time_ms() - 60'000);  // long gone: no copy here after all
  EXPECT_EQ(manager_->get("j-0badcafe").job.state, api::kJobLost);
}

TEST_F(JobManagerTest, NoSharedDirectoryMeansNoJob) {
  options_.shared_root = temp_.at("cluster");  // a plain directory, not a mount
  JobManager manager(options_, random_);
  api::JobResult refused = manager.run({0, 0, 1}, request({"true"}));
  EXPECT_FALSE(refused.ok);
  EXPECT_NE(refused.error.find("no shared"), std::string::npos) << refused.error;
}

}  // namespace
}  // namespace clusterlive
