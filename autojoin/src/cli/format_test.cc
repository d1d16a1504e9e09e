#include "cli/format.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>
#include <limits>

#include "api/api_test_support.h"

namespace clusterlive::cli {
namespace {

TEST(Format, Durations) {
  EXPECT_EQ(format_duration(-5), "0s");
  EXPECT_EQ(format_duration(0), "0s");
  EXPECT_EQ(format_duration(999), "0s");
  EXPECT_EQ(format_duration(45'000), "45s");
  EXPECT_EQ(format_duration(59'999), "59s");
  EXPECT_EQ(format_duration(60'000), "1m 00s");
  EXPECT_EQ(format_duration(307'000), "5m 07s");
  EXPECT_EQ(format_duration(3'600'000), "1h 00m");
  EXPECT_EQ(format_duration(7'385'000), "2h 03m");
  EXPECT_EQ(format_duration(86'400'000), "1d 00h");
  EXPECT_EQ(format_duration(3 * 86'400'000LL + 4 * 3'600'000LL + 59'000), "3d 04h");
  EXPECT_EQ(format_duration(400LL * 86'400'000LL), "400d 00h");
}

TEST(Format, Ago) {
  EXPECT_EQ(format_ago(std::nullopt), "-");
  EXPECT_EQ(format_ago(0), "0.0s ago");
  EXPECT_EQ(format_ago(-20), "0.0s ago");
  EXPECT_EQ(format_ago(400), "0.4s ago");
  EXPECT_EQ(format_ago(1'290), "1.2s ago");
  EXPECT_EQ(format_ago(9'999), "9.9s ago");
  EXPECT_EQ(format_ago(10'000), "10s ago");
  EXPECT_EQ(format_ago(125'000), "2m 05s ago");
}

TEST(Format, TerminalSafe) {
  EXPECT_EQ(terminal_safe("node-3a9f01"), "node-3a9f01");
  EXPECT_EQ(terminal_safe("a\x1b[2Jb"), "a?[2Jb");
  EXPECT_EQ(terminal_safe("tab\there\nnl\x7f"), "tab?here?nl?");
  EXPECT_EQ(terminal_safe("c1 \xc2\x9b"
                          "31m"),
            "c1 ?31m");  // U+009B, CSI
  EXPECT_EQ(terminal_safe("caf\xc3\xa9 \xe2\x80\x94"), "caf\xc3\xa9 \xe2\x80\x94");
  EXPECT_EQ(terminal_safe("end\xc2"), "end\xc2");
}

TEST(Format, DisplayWidth) {
  EXPECT_EQ(display_width(""), 0u);
  EXPECT_EQ(display_width("abc"), 3u);
  EXPECT_EQ(display_width("none \xe2\x80\x94 x"), 8u);
}

TEST(Format, Fields) {
  EXPECT_EQ(format_fields({{"node", "a"}, {"secret source", "b"}, {"x", ""}}),
            "node:          a\n"
            "secret source: b\n"
            "x:             \n");
}

TEST(Format, Table) {
  EXPECT_EQ(format_table({"NAME", "N", "END"}, {{"a", "1", "x"}, {"long name", "100", ""}},
                         {false, true, false}),
            "NAME         N  END\n"
            "a            1  x\n"
            "long name  100\n");
}

TEST(Format, Status) {
  EXPECT_EQ(format_status(api::test_support::sample_status(), false),
            "node:          node-3a9f01\n"
            "cluster:       0123456789abcdef\n"
            "secret source: boot medium\n"
            "members:       3 up, 1 suspect, 2 dead\n"
            "foreign nodes: 1\n"
            "criu check:    ok: Looks good.\n"
            "mesh:          clmesh0, up\n"
            "mesh address:  fd01:2345:6789:0:1122:3344:5566:7788, port 51820\n"
            "mesh peers:    3, 2 with a handshake in the last 180 s\n"
            "storage:       /cluster from node-0a1b2c\n"
            "uptime:        2h 03m\n"
            "version:       0.3.0\n");

  api::StatusView linking = api::test_support::sample_status();
  linking.storage.homes_linked = false;
  EXPECT_NE(format_status(linking, false)
                .find("storage:       /cluster from node-0a1b2c (homes not linked there yet)\n"),
            std::string::npos);
}

TEST(Format, StatusWithCounters) {
  std::string text = format_status(api::test_support::sample_status(), true);
  EXPECT_NE(text.find("version:       0.3.0\n"
                      "counters:\n"
                      "  datagrams_replayed: 1\n"
                      "  records_bad_mac:    4\n"),
            std::string::npos)
      << text;
  api::StatusView none;
  EXPECT_NE(format_status(none, true).find("counters:      none\n"), std::string::npos);
}

TEST(Format, StatusAlone) {
  api::StatusView alone;
  alone.version = "0.3.0";
  alone.node = "node-000002";
  alone.alone_reason = "no cluster secret";
  alone.criu = {true, false, "Error (criu/cr-check.c:1230): UFFD is not supported"};
  alone.mesh.interface = "clmesh0";
  alone.mesh.error = "no cluster secret";
  alone.storage.mount_point = "/cluster";
  alone.storage.decision = "no cluster: running alone";
  alone.storage.pinned = true;
  alone.storage.busy_with = "clusterlive-storage unmount";
  alone.storage.error = "clusterlive-storage mount fd12::1 node-000002 failed with exit code 1";
  alone.uptime_ms = 4'200;
  EXPECT_EQ(format_status(alone, false),
            "node:          node-000002\n"
            "cluster:       none \xe2\x80\x94 running alone: no cluster secret\n"
            "secret source: -\n"
            "members:       0 up, 0 suspect, 0 dead\n"
            "foreign nodes: 0\n"
            "criu check:    FAILED: Error (criu/cr-check.c:1230): UFFD is not supported\n"
            "mesh:          clmesh0, down\n"
            "mesh address:  -\n"
            "mesh peers:    0\n"
            "mesh error:    no cluster secret\n"
            "storage:       not mounted \xe2\x80\x94 no cluster: running alone (pinned, busy: "
            "clusterlive-storage unmount)\n"
            "storage error: clusterlive-storage mount fd12::1 node-000002 failed with exit code 1\n"
            "uptime:        4s\n"
            "version:       0.3.0\n");
  api::StatusView unknown;
  std::string text = format_status(unknown, false);
  EXPECT_NE(text.find("cluster:       none \xe2\x80\x94 running alone\n"), std::string::npos);
  EXPECT_NE(text.find("criu check:    not checked yet\n"), std::string::npos);
  EXPECT_NE(text.find("mesh:          down\n"), std::string::npos);
  EXPECT_NE(text.find("node:          -\n"), std::string::npos);
}

TEST(Format, Nodes) {
  EXPECT_EQ(format_nodes(api::test_support::sample_nodes()),
            "NAME          STATE    ADDRESSES                                          CORES  "
            "SPEED   LOAD  MEM(MiB)  LAST-HEARD\n"
            "node-3a9f01*  up       192.168.1.10,fd01:2345:6789:0:1122:3344:5566:7788      4  "
            " 1000   0.52      3021  -\n"
            "node-77c2e0   suspect  192.168.1.11                                          16  "
            " 1830  12.25    120000  0.4s ago\n"
            "node-000001   foreign  192.168.1.99                                           -  "
            "    -      -         -  2m 05s ago\n"
            "* this node; foreign: a node of another cluster, shown, never joined\n");
}

TEST(Format, NodesWithHostileNamesAndNothingKnown) {
  api::NodeView odd;
  odd.name = "evil\x1b]0;pwned\x07";
  odd.state = "up";
  std::string text = format_nodes({odd});
  EXPECT_EQ(text.find('\x1b'), std::string::npos);
  EXPECT_EQ(text.find('\x07'), std::string::npos);
  EXPECT_NE(text.find("evil?]0;pwned?  up     -"), std::string::npos) << text;
  EXPECT_NE(text.find("\n* this node\n"), std::string::npos) << text;
  EXPECT_EQ(format_nodes({}),
            "NAME  STATE  ADDRESSES  CORES  SPEED  LOAD  MEM(MiB)  LAST-HEARD\n"
            "* this node\n");
}

/// Runs the tests of local times in UTC, whatever the machine's zone.
class FormatTimes : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tz = getenv("TZ");
    if (tz) saved_ = tz;
    had_ = tz != nullptr;
    setenv("TZ", "UTC", 1);
    tzset();
  }
  void TearDown() override {
    if (had_) {
      setenv("TZ", saved_.c_str(), 1);
    } else {
      unsetenv("TZ");
    }
    tzset();
  }

 private:
  std::string saved_;
  bool had_ = false;
};

/// 2026-11-21 12:00:00 UTC.
constexpr int64_t kNoon = 1'795'262'400'000;

TEST(Format, JobStates) {
  api::JobView job;
  job.state = api::kJobRunning;
  EXPECT_EQ(job_state_text(job), "running");
  job.state = api::kJobMigrating;
  EXPECT_EQ(job_state_text(job), "migrating");
  job.state = api::kJobExited;
  EXPECT_EQ(job_state_text(job), "exited ?");
  job.exit_code = 0;
  EXPECT_EQ(job_state_text(job), "exited 0");
  job.state = api::kJobKilled;
  job.signal = 9;
  EXPECT_EQ(job_state_text(job), "killed 9");
  job.state = api::kJobLost;
  EXPECT_EQ(job_state_text(job), "lost");
  job.state = "";
  EXPECT_EQ(job_state_text(job), "-");
  job.state = "frozen\x1b[2J";  // a newer daemon's state, shown safely
  EXPECT_EQ(job_state_text(job), "frozen?[2J");
}

TEST(Format, LockChange) {
  api::JobView job = api::test_support::sample_jobs()[0];  // locked, running on node-77c2e0
  EXPECT_EQ(format_lock_change(job), "j-3f9a0c12 locked: it stays on node-77c2e0");
  job.state = api::kJobMigrating;
  EXPECT_EQ(format_lock_change(job),
            "j-3f9a0c12 locked: the move under way ends first, then it stays where it is");
  job.locked = false;
  EXPECT_EQ(format_lock_change(job), "j-3f9a0c12 unlocked");
  job.locked = true;
  job.state = api::kJobRunning;
  job.where = "node\x1b[2J";
  EXPECT_EQ(format_lock_change(job), "j-3f9a0c12 locked: it stays on node?[2J");
}

TEST_F(FormatTimes, Started) {
  EXPECT_EQ(format_started(1'795'255'200'000, kNoon), "10:00:00");
  EXPECT_EQ(format_started(1'795'219'199'000, kNoon), "2026-11-20");  // 23:59:59 the day before
  EXPECT_EQ(format_started(1'795'219'200'000, kNoon), "00:00:00");
  EXPECT_EQ(format_started(kNoon + 3'600'000, kNoon), "13:00:00");  // a clock a bit ahead
  EXPECT_EQ(format_started(0, kNoon), "-");
}

TEST(Format, ShellWords) {
  EXPECT_EQ(shell_words({"make", "-j4", "CC=gcc-12", "src/a.c", "user@host:~x"}),
            "make -j4 CC=gcc-12 src/a.c 'user@host:~x'");
  EXPECT_EQ(shell_words({"echo", "two words", "", "it's", "$HOME"}),
            "echo 'two words' '' 'it'\\''s' '$HOME'");
  EXPECT_EQ(shell_words({"printf", "a\nb\x1b"}), "printf 'a?b?'");
  EXPECT_EQ(shell_words({}), "");
}

TEST_F(FormatTimes, Jobs) {
  EXPECT_EQ(format_jobs(api::test_support::sample_jobs(), kNoon),
            "JOB         NAME    OWNER  HOME         WHERE        STATE             CPU%  "
            "RSS(MiB)  MIG  STARTED\n"
            "j-deadbeef  sleep   root   node-3a9f01  -            killed 9             -  "
            "       -    1  2026-11-20\n"
            "j-3f9a0c12  render  ann    node-3a9f01  node-77c2e0  running (locked)  99.5  "
            "   512.0    2  10:00:00\n"
            "j-00c0ffee  make    bob    node-77c2e0  -            exited 2             -  "
            "       -    0  10:30:00\n");
  EXPECT_EQ(format_jobs({}, kNoon),
            "JOB  NAME  OWNER  HOME  WHERE  STATE  CPU%  RSS(MiB)  MIG  STARTED\n");
}

TEST_F(FormatTimes, JobsWithHostileText) {
  api::JobView job;
  job.id = "j-3f9a0c12";
  job.name = "evil\x1b]0;pwned\x07";
  job.owner = "1005";
  job.state = api::kJobMigrating;
  job.cpu_percent = std::numeric_limits<double>::infinity();
  std::string text = format_jobs({job}, kNoon);
  EXPECT_EQ(text.find('\x1b'), std::string::npos) << text;
  EXPECT_NE(text.find("evil?]0;pwned?  1005"), std::string::npos) << text;
  EXPECT_NE(text.find("migrating     -       0.0    0  -\n"), std::string::npos) << text;
}

TEST_F(FormatTimes, Job) {
  std::vector<api::JobView> jobs = api::test_support::sample_jobs();
  EXPECT_EQ(format_job(jobs[0]),
            "job:        j-3f9a0c12\n"
            "name:       render\n"
            "command:    ./render --frames 1-100 'scene one.blend'\n"
            "state:      running\n"
            "owner:      ann (uid 1000)\n"
            "home:       node-3a9f01\n"
            "where:      node-77c2e0\n"
            "cpu:        99.5% of a core\n"
            "memory:     512.0 MiB resident\n"
            "migrations: 2\n"
            "locked:     yes: it may not be moved\n"
            "started:    2026-11-21 10:00:00\n"
            "spool:      /cluster/jobs/j-3f9a0c12\n");
  EXPECT_EQ(format_job(jobs[1]),
            "job:        j-00c0ffee\n"
            "name:       make\n"
            "command:    make -j4\n"
            "state:      exited 2\n"
            "owner:      bob (uid 1001)\n"
            "home:       node-77c2e0\n"
            "where:      -\n"
            "cpu:        -\n"
            "memory:     -\n"
            "migrations: 0\n"
            "locked:     no\n"
            "started:    2026-11-21 10:30:00\n"
            "spool:      /cluster/jobs/j-00c0ffee\n");
}

TEST_F(FormatTimes, JobWithAMigration) {
  api::JobView job = api::test_support::sample_jobs()[0];
  job.state = api::kJobMigrating;
  job.migration = api::test_support::sample_migration();
  std::string text = format_job(job);
  EXPECT_NE(text.find("state:      migrating\n"), std::string::npos) << text;
  EXPECT_NE(text.find("spool:      /cluster/jobs/j-3f9a0c12\n"
                      "migration:  to node-c10003 (attempt 3): precopy round 2, 12.3 MiB sent, "
                      "8.1 MiB/s, in progress\n"),
            std::string::npos)
      << text;
}

TEST(Format, Bytes) {
  EXPECT_EQ(format_bytes(0), "0 B");
  EXPECT_EQ(format_bytes(1023), "1023 B");
  EXPECT_EQ(format_bytes(1024), "1.0 KiB");
  EXPECT_EQ(format_bytes(1536), "1.5 KiB");
  EXPECT_EQ(format_bytes(1024 * 1024 - 1), "1.0 MiB");  // not "1024.0 KiB"
  EXPECT_EQ(format_bytes(12'897'484), "12.3 MiB");
  EXPECT_EQ(format_bytes(47'815'065), "45.6 MiB");
  EXPECT_EQ(format_bytes(2ULL << 30), "2.0 GiB");
  EXPECT_EQ(format_bytes(5ULL << 40), "5.0 TiB");
  EXPECT_EQ(format_bytes(5000ULL << 40), "5000.0 TiB");
  EXPECT_EQ(format_bytes(UINT64_MAX), "16777216.0 TiB");
  EXPECT_EQ(format_rate(8'493'465), "8.1 MiB/s");
  EXPECT_EQ(format_rate(0), "0 B/s");
}

TEST(Format, Seconds) {
  EXPECT_EQ(format_seconds(1234), "1.23 s");
  EXPECT_EQ(format_seconds(1235), "1.24 s");
  EXPECT_EQ(format_seconds(0), "0.00 s");
  EXPECT_EQ(format_seconds(-7), "0.00 s");
  EXPECT_EQ(format_seconds(9), "0.01 s");
  EXPECT_EQ(format_seconds(61'000), "61.00 s");
}

TEST(Format, MigrationProgress) {
  api::MigrationView migration = api::test_support::sample_migration();
  EXPECT_EQ(migration_progress_text(migration), "precopy round 2, 12.3 MiB sent, 8.1 MiB/s");
  migration.phase = "final_dump";
  migration.round = 0;
  migration.rate_bytes_per_s = 0;
  EXPECT_EQ(migration_progress_text(migration), "final dump, 12.3 MiB sent");
  migration.phase = "preflight";
  migration.bytes_sent = 0;
  EXPECT_EQ(migration_progress_text(migration), "preflight");
  migration.phase = "";
  EXPECT_EQ(migration_progress_text(migration), "-");
  migration.phase = "pre\x1b[2Jcopy";
  EXPECT_EQ(migration_progress_text(migration), "pre?[2Jcopy");
}

TEST(Format, Migration) {
  api::MigrationView migration = api::test_support::sample_migration();
  EXPECT_EQ(format_migration(migration),
            "to node-c10003 (attempt 3): precopy round 2, 12.3 MiB sent, 8.1 MiB/s, in progress");
  migration.phase = "committed";
  migration.outcome = api::kMigrationCommitted;
  migration.bytes_sent = 47'815'065;
  migration.freeze_ms = 1234;
  EXPECT_EQ(format_migration(migration),
            "to node-c10003 (attempt 3): committed, frozen 1.23 s, 45.6 MiB sent");
  migration.freeze_ms.reset();
  migration.attempt = 0;
  EXPECT_EQ(format_migration(migration), "to node-c10003: committed, 45.6 MiB sent");
  migration.phase = "restore";
  migration.outcome = api::kMigrationAborted;
  migration.reason = "criu restore failed: see /cluster/jobs/j-3f9a0c12/migration.3/restore.log";
  EXPECT_EQ(format_migration(migration),
            "to node-c10003: aborted in restore: criu restore failed: see "
            "/cluster/jobs/j-3f9a0c12/migration.3/restore.log");
  migration.phase = "aborted";
  migration.reason = "node-c10003\x1b]0;owned\x07 died";
  EXPECT_EQ(format_migration(migration), "to node-c10003: aborted: node-c10003?]0;owned? died");
  migration.phase = "aborting";
  migration.outcome = api::kMigrationLost;
  migration.reason = "";
  migration.target = "";
  EXPECT_EQ(format_migration(migration), "to -: lost");
}

}  // namespace
}  // namespace clusterlive::cli
