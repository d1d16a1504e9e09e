// The migration workers' edges: the link's framing and limits, the commit record files, the
// facts codec, and the target's refusals of a connection that does not vouch for itself.
// CRIU itself runs only in the system tests (tests/system/40-migrate.sh) and scripts/criu-lab.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

#include "core/hex.h"
#include "migrate/commit_records.h"
#include "migrate/criu_process.h"
#include "migrate/job_inspection.h"
#include "migrate/migration_target.h"
#include "migrate/peer_link.h"
#include "migrate/relay.h"
#include "sys/test_temp_dir.h"

namespace clusterlive {
namespace {

using testing::TempDir;

std::pair<PeerLink, PeerLink> link_pair() {
  int fds[2];
  EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  return {PeerLink(fds[0]), PeerLink(fds[1])};
}

TEST(PeerLink, CarriesMessagesAndFilesInOrder) {
  TempDir dir;
  auto [a, b] = link_pair();
  std::string error;
  std::string source = dir.path() + "/core-1.img";
  std::ofstream(source) << std::string(100'000, 'x') << "end";
  ASSERT_TRUE(a.send({{"set", "1"}, {"parent", 0}}, error)) << error;
  ASSERT_TRUE(a.send_file("core-1.img", source, error)) << error;
  ASSERT_TRUE(a.send({{"restore", true}}, error)) << error;

  auto first = b.receive(monotonic_ms() + 1000, error);
  ASSERT_TRUE(first) << error;
  EXPECT_EQ(first->at("set"), "1");
  auto header = b.receive(monotonic_ms() + 1000, error);
  ASSERT_TRUE(header) << error;
  EXPECT_EQ(header->at("file"), "core-1.img");
  std::string copy = dir.path() + "/copy.img";
  ASSERT_TRUE(b.receive_file_body(header->at("bytes"), copy, monotonic_ms() + 1000, error))
      << error;
  std::ifstream in(copy);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(text, std::string(100'000, 'x') + "end");
  auto last = b.receive(monotonic_ms() + 1000, error);
  ASSERT_TRUE(last) << error;
  EXPECT_TRUE(last->at("restore").get<bool>());
}

TEST(PeerLink, TimesOutWithoutClosing) {
  auto [a, b] = link_pair();
  std::string error;
  EXPECT_FALSE(b.receive(monotonic_ms() + 50, error));
  EXPECT_TRUE(b.timed_out());
  EXPECT_FALSE(b.closed());
  ASSERT_TRUE(a.send({{"late", true}}, error));
  EXPECT_TRUE(b.receive(monotonic_ms() + 1000, error));
}

TEST(PeerLink, ClosesOnMalformedOrOverlongInput) {
  {
    auto [a, b] = link_pair();
    ASSERT_EQ(write(a.fd(), "not json\n", 9), 9);
    std::string error;
    EXPECT_FALSE(b.receive(monotonic_ms() + 1000, error));
    EXPECT_FALSE(b.timed_out());
    EXPECT_TRUE(b.closed());
    EXPECT_NE(error.find("malformed"), std::string::npos);
  }
  {
    auto [a, b] = link_pair();
    std::string error;
    EXPECT_FALSE(b.receive_file_body(kMaxLinkFileBytes + 1, "/nonexistent/x",
                                     monotonic_ms() + 1000, error));
    EXPECT_TRUE(b.closed());
  }
}

TEST(PeerLink, ReportsAPeerGoneMidFile) {
  TempDir dir;
  auto [a, b] = link_pair();
  std::string error;
  ASSERT_TRUE(a.send({{"file", "x"}, {"bytes", 1000}}, error));
  ASSERT_EQ(write(a.fd(), "short", 5), 5);
  a.close_link();
  auto header = b.receive(monotonic_ms() + 1000, error);
  ASSERT_TRUE(header);
  std::string path = dir.path() + "/x";
  EXPECT_FALSE(b.receive_file_body(1000, path, monotonic_ms() + 1000, error));
  EXPECT_NE(error.find("mid-file"), std::string::npos) << error;
  EXPECT_NE(access(path.c_str(), F_OK), 0) << "a torn file must not stay";
}

TEST(CommitRecords, PreparedRecordIsExclusiveAndRenamesSettleOnce) {
  TempDir dir;
  std::string error;
  std::ofstream(dir.path() + "/location") << "node-a 0\n";
  ASSERT_TRUE(create_prepared_record(dir.path(), {"node-b", 1}, error)) << error;
  EXPECT_FALSE(create_prepared_record(dir.path(), {"node-c", 1}, error));
  EXPECT_EQ(read_prepared_record(dir.path(), 1), (CommitRecord{"node-b", 1}));

  // The fence wins; the commit after it finds nothing (not_found: read and decide).
  EXPECT_EQ(rename_record(dir.path(), "location.1", "fenced.1.node-b", error),
            RenameResult::done);
  EXPECT_EQ(rename_record(dir.path(), "location.1", "location", error),
            RenameResult::not_found);
  EXPECT_EQ(read_location(dir.path()), (CommitRecord{"node-a", 0}));
  auto entries = directory_entries(dir.path());
  EXPECT_EQ(next_attempt(*read_location(dir.path()), entries), 2u);
}

TEST(CommitRecords, UnreadableRecordIsNullopt) {
  TempDir dir;
  std::ofstream(dir.path() + "/location") << "node-a\n";  // the old form
  EXPECT_FALSE(read_location(dir.path()));
  EXPECT_FALSE(read_location(dir.path() + "/missing"));
}

TEST(NodeFacts, RoundTripsThroughJson) {
  NodeFacts facts;
  facts.name = "node-a";
  facts.cpu_flags = {"sse2", "avx"};
  facts.criu_features = {"mem_dirty_track"};
  facts.available_bytes = 123456789;
  facts.files["/usr/bin/python3"] = {true, 4096, ""};
  facts.files["/cluster/x"] = {false, 0, ""};
  auto back = node_facts_from_json(node_facts_to_json(facts));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->name, facts.name);
  EXPECT_EQ(back->cpu_flags, facts.cpu_flags);
  EXPECT_EQ(back->criu_features, facts.criu_features);
  EXPECT_EQ(back->available_bytes, facts.available_bytes);
  EXPECT_EQ(back->files, facts.files);
  EXPECT_FALSE(node_facts_from_json({{"name", "x"}}));
}

TEST(NodeFacts, ReportsFilesAsTheyAre) {
  TempDir dir;
  std::ofstream(dir.path() + "/five") << "12345";
  NodeFacts facts = gather_node_facts("me", {dir.path() + "/five", dir.path() + "/none"}, {});
  EXPECT_EQ(facts.files.at(dir.path() + "/five"), (FileFacts{true, 5, ""}));
  EXPECT_FALSE(facts.files.at(dir.path() + "/none").exists);
  EXPECT_FALSE(facts.cpu_flags.empty());
  EXPECT_GT(facts.available_bytes, 0u);
}

TEST(NodeFacts, ReportsTheBuildIdOfAnElfFile) {
  NodeFacts facts = gather_node_facts("me", {"/proc/self/exe"}, {});
  const FileFacts& exe = facts.files.at("/proc/self/exe");
  EXPECT_TRUE(exe.exists);
  EXPECT_GT(exe.size, 0u);
  if (exe.build_id.empty()) GTEST_SKIP() << "this test program was linked without a build-id";
  EXPECT_EQ(exe.build_id.size(), 40u);  // ld's default: a SHA-1
  EXPECT_TRUE(is_lower_hex(exe.build_id)) << exe.build_id;
}

TEST(JobInspection, FindsTheProcessesOfAPidNamespaceOnly) {
  // Without a namespace of its own a process shares ours: every process here is "its".
  pid_t self = getpid();
  auto pids = processes_of_job(self);
  ASSERT_FALSE(pids.empty());
  EXPECT_EQ(pids.front(), self);
  EXPECT_TRUE(processes_of_job(999'999'999).empty());
  std::string error;
  auto snapshot = snapshot_job(self, "me", "/cluster/jobs/x", error);
  ASSERT_TRUE(snapshot) << error;
  EXPECT_GT(snapshot->rss_bytes, 0u);
  EXPECT_EQ(snapshot->spool_dir, "/cluster/jobs/x/");
}

TEST(RemoveTree, KeepsOnlyTheLogsAskedFor) {
  TempDir dir;
  std::string attempt = dir.path() + "/3";
  mkdir(attempt.c_str(), 0700);
  mkdir((attempt + "/final").c_str(), 0700);
  std::ofstream(attempt + "/final/pages-1.img") << "p";
  std::ofstream(attempt + "/restore-final.log") << "l";
  symlink("../2", (attempt + "/final/parent").c_str());
  remove_tree(attempt, ".log");
  EXPECT_EQ(access((attempt + "/restore-final.log").c_str(), F_OK), 0);
  EXPECT_NE(access((attempt + "/final").c_str(), F_OK), 0);
  remove_tree(attempt);
  EXPECT_NE(access(attempt.c_str(), F_OK), 0);
}

TEST(CriuProcess, WaitsWithADeadlineAndSaysHowItEnded) {
  std::string error;
  auto quick = start_process({"sh", "-c", "exit 3"}, -1, error);
  ASSERT_TRUE(quick) << error;
  auto status = wait_process(*quick, monotonic_ms() + 5000);
  ASSERT_TRUE(status);
  EXPECT_EQ(describe_status(*status), "exit code 3");
  auto slow = start_process({"sleep", "10"}, -1, error);
  ASSERT_TRUE(slow);
  EXPECT_FALSE(wait_process(*slow, monotonic_ms() + 50));
  kill_process(*slow);
}

TEST(CriuProcess, NamesTheLastErrorOfALog) {
  TempDir dir;
  std::ofstream(dir.path() + "/x.log")
      << "(00.1) Dumping\n(00.2) Error (criu/files-reg.c:1): Can't open file /x\n"
      << "(00.3) Error (criu/cr-dump.c:2111): Dumping FAILED.\n(00.4) tail\n";
  EXPECT_EQ(criu_log_error(dir.path() + "/x.log"), "Error (criu/files-reg.c:1): Can't open file /x");
  std::ofstream(dir.path() + "/y.log") << "a\nlast line\n";
  EXPECT_EQ(criu_log_error(dir.path() + "/y.log"), "last line");
}

TEST(CriuProcess, NamesAnUnreachablePageServerBeforeTheErrorsItCauses) {
  // A pre-dump whose target died (test 43): the cause is not marked "Error".
  TempDir dir;
  std::ofstream(dir.path() + "/z.log")
      << "(00.03) Connecting to server fde9::8f34:40493\n"
      << "(01.04) Can't connect to server fde9::8f34:40493\n"
      << "(01.05) Error (compel/src/lib/infect.c:418): Unable to detach from 1066: No such process\n"
      << "(01.06) Error (criu/cr-dump.c:1905): Pre-dumping FAILED.\n";
  EXPECT_EQ(criu_log_error(dir.path() + "/z.log"),
            "cannot connect to the page server at fde9::8f34:40493 (the target node is down or "
            "unreachable)");
}

// The target worker in a child process, given one end of a socket pair as its connection.
int run_target_with(std::function<void(PeerLink&)> coordinator, const std::string& jobs_root) {
  int fds[2];
  EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  pid_t child = fork();
  if (child == 0) {
    close(fds[0]);
    TargetOptions options;
    options.connection_fd = fds[1];
    options.node = "node-b";
    options.jobs_root = jobs_root;
    _exit(run_migration_target(options));
  }
  close(fds[1]);
  PeerLink link(fds[0]);
  coordinator(link);
  int status = 0;
  waitpid(child, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(MigrationTarget, RefusesAConnectionThatIsNotTcpFromAPrivilegedPort) {
  TempDir dir;
  int code = run_target_with(
      [](PeerLink& link) {
        std::string error;
        link.send({{"hello", {{"job", "j-00000001"}}}}, error);
      },
      dir.path());
  EXPECT_EQ(code, 1);
}

TEST(Relay, RequestsRoundTripAndMalformedOnesAreRefused) {
  RelayRequest migrate{"migrate", "j-3f9a0c12", "node-c10003", 4};
  std::optional<RelayRequest> back = relay_from_json(relay_to_json(migrate));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->target, "node-c10003");
  EXPECT_EQ(back->attempt, 4u);
  EXPECT_TRUE(relay_from_json({{"command", "kill"}, {"job", "j-3f9a0c12"}}));
  for (const nlohmann::json& bad : {
           nlohmann::json::array(),
           nlohmann::json{{"command", "reboot"}, {"job", "j-3f9a0c12"}},
           nlohmann::json{{"command", "kill"}, {"job", "../etc"}},
           nlohmann::json{{"command", "migrate"}, {"job", "j-3f9a0c12"}, {"target", "x"}},
           nlohmann::json{{"command", "migrate"}, {"job", "j-3f9a0c12"}, {"target", ""},
                          {"attempt", 1}},
           nlohmann::json{{"command", "migrate"}, {"job", "j-3f9a0c12"}, {"target", "x"},
                          {"attempt", -1}},
       }) {
    EXPECT_FALSE(relay_from_json(bad)) << bad.dump();
  }
}

TEST(Relay, ARefusedMigrationShowsAsAbortedWithTheReason) {
  nlohmann::json view =
      refused_migration_progress({"migrate", "j-3f9a0c12", "node-c10003", 4}, "locked", 99);
  EXPECT_EQ(view.at("attempt"), 4);
  EXPECT_EQ(view.at("outcome"), "aborted");
  EXPECT_EQ(view.at("reason"), "locked");
  EXPECT_EQ(view.at("target"), "node-c10003");
}

}  // namespace
}  // namespace clusterlive
