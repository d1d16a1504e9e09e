// Test helpers for the API and the CLI: a fake Backend with canned views (jobs too), a
// temporary directory, and an Avahi simple poll that tests drive by hand.
#pragma once

#include <avahi-common/simple-watch.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <future>
#include <optional>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "api/api_types.h"

namespace clusterlive::api::test_support {

/// The job a FakeBackend starts: running here, spool under /cluster/jobs.
inline JobView sample_new_job() {
  JobView job;
  job.id = "j-0badcafe";
  job.home = "node-3a9f01";
  job.where = "node-3a9f01";
  job.state = kJobRunning;
  job.started_unix_ms = 1'795'000'000'000;
  job.spool = "/cluster/jobs/j-0badcafe";
  return job;
}

/// A migration under way: pre-copy round 2 to node-c10003, 12.3 MiB sent at 8.1 MiB/s.
inline MigrationView sample_migration() {
  MigrationView migration;
  migration.target = "node-c10003";
  migration.attempt = 3;
  migration.phase = "precopy";
  migration.round = 2;
  migration.bytes_sent = 12'897'484;
  migration.rate_bytes_per_s = 8'493'465;
  migration.outcome = kMigrationInProgress;
  migration.updated_unix_ms = 1'795'262'399'000;
  return migration;
}

/// Three jobs: one running elsewhere (locked), one exited, one killed. Started at 10:00:00,
/// 10:30:00 UTC on 2026-11-21 and 23:59:59 UTC the day before.
inline std::vector<JobView> sample_jobs() {
  JobView running;
  running.id = "j-3f9a0c12";
  running.name = "render";
  running.owner_uid = 1000;
  running.owner = "ann";
  running.home = "node-3a9f01";
  running.where = "node-77c2e0";
  running.state = kJobRunning;
  running.cpu_percent = 99.5;
  running.rss_kib = 524'288;
  running.migrations = 2;
  running.locked = true;
  running.started_unix_ms = 1'795'255'200'000;
  running.argv = {"./render", "--frames", "1-100", "scene one.blend"};
  running.spool = "/cluster/jobs/j-3f9a0c12";
  JobView exited;
  exited.id = "j-00c0ffee";
  exited.name = "make";
  exited.owner_uid = 1001;
  exited.owner = "bob";
  exited.home = "node-77c2e0";
  exited.state = kJobExited;
  exited.exit_code = 2;
  exited.rss_kib = 1'000;
  exited.started_unix_ms = 1'795'257'000'000;
  exited.argv = {"make", "-j4"};
  exited.spool = "/cluster/jobs/j-00c0ffee";
  JobView killed;
  killed.id = "j-deadbeef";
  killed.name = "sleep";
  killed.owner_uid = 0;
  killed.owner = "root";
  killed.home = "node-3a9f01";
  killed.state = kJobKilled;
  killed.signal = 9;
  killed.migrations = 1;
  killed.started_unix_ms = 1'795'219'199'000;
  killed.argv = {"sleep", "infinity"};
  killed.spool = "/cluster/jobs/j-deadbeef";
  return {running, exited, killed};
}

/// A Backend whose answers the test sets, recording what it was asked.
class FakeBackend : public Backend {
 public:
  StatusView status_view;
  std::vector<NodeView> node_views;
  std::optional<std::string> secret;
  ClusterChange create_answer{true, "", "00112233aabbccdd"};
  ClusterChange join_answer{true, "", "8899aabbccddeeff"};
  bool throw_on_status = false;
  /// Jobs shown by ps, job and kill_job; run_job adds one. Owners are checked as the daemon
  /// does: a user acts on their own jobs, root on all.
  std::vector<JobView> job_views;
  std::string jobs_unavailable;  ///< ps answers this error when set
  /// When set, run_job answers this error instead of starting a job.
  std::optional<JobResult> run_error;
  /// The job run_job starts (its argv, name and owner come from the request).
  JobView next_job = sample_new_job();
  /// Runs before each answer to job(): tests move jobs along here (write output, end them).
  std::function<void(FakeBackend&)> on_job_call;
  /// When set, kill_job answers this error instead of killing.
  std::optional<JobResult> kill_error;
  /// When set, migrate_job answers this error instead of starting a migration.
  std::optional<JobResult> migrate_error;
  /// What migrate_job resolves kMigrateToBest to.
  std::string best_node = "node-c10003";
  /// When set, set_job_locked answers this error instead of (un)locking.
  std::optional<JobResult> lock_error;

  int status_calls = 0;
  int nodes_calls = 0;
  int secret_calls = 0;
  int create_calls = 0;
  int jobs_calls = 0;
  int job_calls = 0;
  std::vector<std::string> joined;                            ///< secrets passed to join_cluster
  std::vector<std::pair<Caller, RunRequest>> runs;            ///< what run_job was asked
  std::vector<std::pair<Caller, std::string>> kills;          ///< what kill_job was asked
  std::vector<std::pair<Caller, MigrateRequest>> migrations;  ///< what migrate_job was asked
  /// What set_job_locked was asked: caller, job id, locked.
  std::vector<std::tuple<Caller, std::string, bool>> locks;

  StatusView status() override {
    ++status_calls;
    if (throw_on_status) throw std::runtime_error("status broke");
    return status_view;
  }
  std::vector<NodeView> nodes() override {
    ++nodes_calls;
    return node_views;
  }
  std::optional<std::string> secret_hex() override {
    ++secret_calls;
    return secret;
  }
  ClusterChange create_cluster() override {
    ++create_calls;
    return create_answer;
  }
  ClusterChange join_cluster(const std::string& secret_text) override {
    joined.push_back(secret_text);
    return join_answer;
  }
  JobResult run_job(const Caller& caller, const RunRequest& request) override {
    runs.emplace_back(caller, request);
    if (run_error) return *run_error;
    JobView view = next_job;
    view.argv = request.argv;
    view.name = request.name.empty() ? request.argv.at(0) : request.name;
    view.owner_uid = static_cast<uint32_t>(caller.uid);
    view.owner = std::to_string(caller.uid);
    job_views.push_back(view);
    return {true, "", "", view};
  }
  JobList jobs() override {
    ++jobs_calls;
    return {job_views, jobs_unavailable};
  }
  JobResult job(const std::string& id) override {
    ++job_calls;
    if (on_job_call) on_job_call(*this);
    JobView* view = find(id);
    if (!view) return {false, "not_found", "no job " + id, {}};
    return {true, "", "", *view};
  }
  JobResult kill_job(const Caller& caller, const std::string& id) override {
    kills.emplace_back(caller, id);
    if (kill_error) return *kill_error;
    JobView* view = find(id);
    if (!view) return {false, "not_found", "no job " + id, {}};
    if (!caller.is_root() && caller.uid != view->owner_uid) {
      return {false, "permission_denied", id + " belongs to " + view->owner, {}};
    }
    return {true, "", "", *view};
  }

  /// Starts a migration as the daemon answers it: the job "migrating", its migration attempt
  /// migrations + 1 "starting", in progress ("home" is the job's home, "best" best_node).
  /// Tests move it along
  /// in on_job_call.
  JobResult migrate_job(const Caller& caller, const MigrateRequest& request) override {
    migrations.emplace_back(caller, request);
    if (migrate_error) return *migrate_error;
    JobView* view = find(request.job);
    if (!view) return {false, "not_found", "no job " + request.job, {}};
    if (!caller.is_root() && caller.uid != view->owner_uid) {
      return {false, "permission_denied", request.job + " belongs to " + view->owner, {}};
    }
    MigrationView migration;
    migration.target = request.target == kMigrateToHome   ? view->home
                       : request.target == kMigrateToBest ? best_node
                                                          : request.target;
    migration.attempt = view->migrations + 1;
    migration.phase = "starting";
    migration.outcome = kMigrationInProgress;
    migration.updated_unix_ms = 1'795'262'400'000;
    view->state = kJobMigrating;
    view->migration = migration;
    return {true, "", "", *view};
  }

  /// (Un)locks a job of job_views as the daemon does: the owner or root, not an ended job.
  JobResult set_job_locked(const Caller& caller, const std::string& id, bool locked) override {
    locks.emplace_back(caller, id, locked);
    if (lock_error) return *lock_error;
    JobView* view = find(id);
    if (!view) return {false, "not_found", "no job " + id, {}};
    if (!caller.is_root() && caller.uid != view->owner_uid) {
      return {false, "permission_denied", id + " belongs to " + view->owner, {}};
    }
    if (view->ended()) return {false, "failed", "job " + id + " has already ended", {}};
    view->locked = locked;
    return {true, "", "", *view};
  }

  /// The job `id` among job_views, nullptr if there is none.
  JobView* find(const std::string& id) {
    for (JobView& view : job_views) {
      if (view.id == id) return &view;
    }
    return nullptr;
  }
};

/// A status with every member set.
inline StatusView sample_status() {
  StatusView s;
  s.version = "0.3.0";
  s.node = "node-3a9f01";
  s.cluster_id = "0123456789abcdef";
  s.secret_source = "boot medium";
  s.members_up = 3;
  s.members_suspect = 1;
  s.members_dead = 2;
  s.foreign_nodes = 1;
  s.criu = {true, true, "Looks good."};
  s.mesh.up = true;
  s.mesh.interface = "clmesh0";
  s.mesh.address = "fd01:2345:6789:0:1122:3344:5566:7788";
  s.mesh.listen_port = 51820;
  s.mesh.public_key = "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=";
  s.mesh.peers = 3;
  s.mesh.peers_with_recent_handshake = 2;
  s.storage = {"node-0a1b2c", false, false, true, true, "/cluster", "node-0a1b2c serves", "", ""};
  s.uptime_ms = 7'385'000;
  s.counters = {{"records_bad_mac", 4}, {"datagrams_replayed", 1}};
  return s;
}

/// Three nodes: this one, a member with everything known, a foreign one with little.
inline std::vector<NodeView> sample_nodes() {
  NodeView self;
  self.name = "node-3a9f01";
  self.self = true;
  self.state = "up";
  self.addresses = {"192.168.1.10", "fd01:2345:6789:0:1122:3344:5566:7788"};
  self.cores = 4;
  self.cpu_speed = 1000;
  self.load = 0.52;
  self.free_memory_mib = 3021;
  self.state_for_ms = 60'000;
  NodeView peer;
  peer.name = "node-77c2e0";
  peer.state = "suspect";
  peer.addresses = {"192.168.1.11"};
  peer.cores = 16;
  peer.cpu_speed = 1830;
  peer.load = 12.25;
  peer.free_memory_mib = 120'000;
  peer.last_heard_ms_ago = 400;
  peer.state_for_ms = 1'500;
  NodeView foreign;
  foreign.name = "node-000001";
  foreign.state = "foreign";
  foreign.cluster_id = "fedcba9876543210";
  foreign.addresses = {"192.168.1.99"};
  foreign.last_heard_ms_ago = 125'000;
  return {self, peer, foreign};
}

/// A fresh directory under /tmp, mode 0755 (so a test child running as nobody can reach a
/// socket in it), removed with everything in it at the end.
class TempDir {
 public:
  TempDir() {
    char name[] = "/tmp/clusterlive-test-XXXXXX";
    if (!mkdtemp(name)) throw std::runtime_error("mkdtemp failed");
    path_ = name;
    chmod(path_.c_str(), 0755);
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

/// An Avahi simple poll, driven by the test.
class PollLoop {
 public:
  PollLoop() : simple_(avahi_simple_poll_new()) {}
  ~PollLoop() { avahi_simple_poll_free(simple_); }
  PollLoop(const PollLoop&) = delete;
  PollLoop& operator=(const PollLoop&) = delete;

  const AvahiPoll* poll() const { return avahi_simple_poll_get(simple_); }

  /// Runs the loop until `done()` or `timeout_ms` passes; returns `done()`.
  bool run_until(const std::function<bool()>& done, int timeout_ms = 5000) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return done();
      avahi_simple_poll_iterate(simple_, 10);
    }
    return true;
  }
  /// Runs the loop for `ms`.
  void run_for(int ms) {
    run_until([] { return false; }, ms);
  }
  /// Runs `work` on another thread while the loop runs here, and returns its result.
  template <typename F>
  auto run_beside(F work, int timeout_ms = 10'000) {
    auto future = std::async(std::launch::async, std::move(work));
    bool ready = run_until(
        [&] { return future.wait_for(std::chrono::milliseconds(0)) == std::future_status::ready; },
        timeout_ms);
    EXPECT_TRUE(ready) << "the work beside the loop did not finish in time";
    return future.get();
  }

 private:
  AvahiSimplePoll* simple_;
};

}  // namespace clusterlive::api::test_support
