#include "cli/cli_app.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ctime>
#include <fstream>
#include <sstream>

#include "api/api_server.h"
#include "api/api_test_support.h"
#include "cli/exit_codes.h"
#include "cli/format.h"

namespace clusterlive::cli {
namespace {

using api::test_support::FakeBackend;
using api::test_support::PollLoop;
using api::test_support::TempDir;

const std::string kKey = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

/// One run of the command line: its exit code and what it printed.
struct Outcome {
  int code = -1;
  std::string out;
  std::string err;
};

/// The environment `run` passes on in the tests.
const std::vector<std::string> kEnvironment = {"HOME=/home/ann", "LANG=C.UTF-8"};
/// "Now" for ps in the tests: 2026-11-21 12:00:00 UTC.
constexpr int64_t kNow = 1'795'262'400'000;

Outcome run(std::vector<std::string> args, const std::string& input = "", uid_t euid = 0,
            const std::vector<std::string>& environment = kEnvironment) {
  args.insert(args.begin(), "clusterlive");
  std::vector<const char*> argv;
  for (const std::string& arg : args) argv.push_back(arg.c_str());
  std::istringstream in(input);
  std::ostringstream out;
  std::ostringstream err;
  CliIo io{in, out, err};
  io.euid = euid;
  io.environment = environment;
  io.cwd = "/cluster/home/ann/src";
  io.poll_interval_ms = 2;
  io.now_unix_ms = kNow;
  Outcome result;
  result.code = run_cli(static_cast<int>(argv.size()), argv.data(), io);
  result.out = out.str();
  result.err = err.str();
  return result;
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    unsetenv("CLUSTERLIVE_SOCKET");
    backend_.status_view = api::test_support::sample_status();
    backend_.node_views = api::test_support::sample_nodes();
    backend_.secret = kKey;
    api::ServerOptions options;
    options.socket_path = socket_;
    std::string error;
    server_ = api::Server::start(loop_.poll(), backend_, options, error);
    ASSERT_TRUE(server_) << error;
  }
  void TearDown() override { unsetenv("CLUSTERLIVE_SOCKET"); }

  /// Runs the command line against the test daemon, whose loop runs meanwhile.
  Outcome call(std::vector<std::string> args, const std::string& input = "", uid_t euid = 0,
               const std::vector<std::string>& environment = kEnvironment) {
    args.insert(args.begin(), {"--socket", socket_});
    return loop_.run_beside([=] { return run(args, input, euid, environment); });
  }

  TempDir dir_;
  const std::string socket_ = dir_ / "api.sock";
  PollLoop loop_;
  FakeBackend backend_;
  std::unique_ptr<api::Server> server_;
};

TEST(Cli, HelpListsCommandsAndExitCodes) {
  Outcome help = run({"--help"});
  EXPECT_EQ(help.code, kExitOk);
  for (const char* word :
       {"status", "nodes", "key", "create", "join", "run", "ps", "job", "kill", "wait", "logs",
        "--json", "--socket", "Exit status:", "3  clusterlived is not running",
        "4  permission denied", "128+N when signal N killed it, 125 when", "CLUSTERLIVE_SOCKET",
        "/run/clusterlive/api.sock"}) {
    EXPECT_NE(help.out.find(word), std::string::npos) << word << "\n" << help.out;
  }
  for (const char* word :
       {"migrate", "migrate exits 0 once the job runs on NODE", "lock", "unlock"}) {
    EXPECT_NE(help.out.find(word), std::string::npos) << word << "\n" << help.out;
  }
  Outcome join_help = run({"join", "--help"});
  EXPECT_EQ(join_help.code, kExitOk);
  EXPECT_NE(join_help.out.find("FILE"), std::string::npos) << join_help.out;
  Outcome run_help = run({"run", "--help"});
  EXPECT_EQ(run_help.code, kExitOk);
  for (const char* word : {"COMMAND", "--detach", "--name NAME", "after \"--\""}) {
    EXPECT_NE(run_help.out.find(word), std::string::npos) << word << "\n" << run_help.out;
  }
  Outcome logs_help = run({"logs", "--help"});
  EXPECT_NE(logs_help.out.find("--follow"), std::string::npos) << logs_help.out;
  Outcome migrate_help = run({"migrate", "--help"});
  EXPECT_EQ(migrate_help.code, kExitOk);
  for (const char* word : {"JOB", "NODE", "--no-wait", "\"home\"", "\"best\""}) {
    EXPECT_NE(migrate_help.out.find(word), std::string::npos) << word << "\n" << migrate_help.out;
  }
}

TEST(Cli, Version) {
  Outcome version = run({"--version"});
  EXPECT_EQ(version.code, kExitOk);
  EXPECT_NE(version.out.find(std::string("clusterlive ") + CLUSTERLIVE_VERSION), std::string::npos)
      << version.out;
}

TEST(Cli, UsageErrorsExitTwo) {
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {},
           {"frobnicate"},
           {"key"},
           {"key", "burn"},
           {"status", "extra"},
           {"--bogus", "status"},
           {"join", "a", "b"},
           {"--socket"},
           {"kill"},
           {"kill", "3f9a0c12"},
           {"lock"},
           {"unlock", "3f9a0c12"},
           {"lock", "j-3f9a0c12", "node-1"},
           {"job", "j-3F9A0C12"},
           {"logs", "-x", "j-3f9a0c12"},
           {"logs", "--json", "j-3f9a0c12"},
           {"ps", "extra"},
           {"migrate"},
           {"migrate", "j-3f9a0c12"},
           {"migrate", "3f9a0c12", "home"},
           {"migrate", "j-3f9a0c12", "Node-1"},
           {"migrate", "j-3f9a0c12", "node-1", "node-2"},
           {"migrate", "--wait", "j-3f9a0c12", "home"},
       }) {
    Outcome r = run(args);
    std::string joined;
    for (const std::string& a : args) joined += a + " ";
    EXPECT_EQ(r.code, kExitUsage) << joined << "\n" << r.out << r.err;
    EXPECT_FALSE(r.err.empty()) << joined;
  }
}

TEST(Cli, NoDaemonExitsThree) {
  TempDir dir;
  Outcome r = run({"--socket", dir / "api.sock", "status"});
  EXPECT_EQ(r.code, kExitUnreachable);
  EXPECT_EQ(r.err,
            "clusterlive: clusterlived is not running (no socket at " + dir / "api.sock" + ")\n");
  EXPECT_EQ(r.out, "");
  // join finds out before asking for a key.
  Outcome join = run({"--socket", dir / "api.sock", "join"}, kKey);
  EXPECT_EQ(join.code, kExitUnreachable);
}

TEST(Cli, ExitCodeMapping) {
  EXPECT_EQ(exit_code_for(api::CallStatus::not_running), kExitUnreachable);
  EXPECT_EQ(exit_code_for(api::CallStatus::unreachable), kExitUnreachable);
  EXPECT_EQ(exit_code_for(api::CallStatus::permission_denied), kExitPermissionDenied);
  EXPECT_EQ(exit_code_for(api::CallStatus::protocol_error), kExitFailed);
  EXPECT_EQ(exit_code_for_error("permission_denied"), kExitPermissionDenied);
  EXPECT_EQ(exit_code_for_error("busy"), kExitUnreachable);
  for (const char* code : {"failed", "no_secret", "not_found", "bad_request", "unsupported_version",
                           "unknown_command", "internal", "something_new"}) {
    EXPECT_EQ(exit_code_for_error(code), kExitFailed) << code;
  }
}

TEST_F(CliTest, Status) {
  Outcome r = call({"status"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, format_status(backend_.status_view, false));
  EXPECT_EQ(r.err, "");
  Outcome counters = call({"status", "--counters"});
  EXPECT_NE(counters.out.find("  records_bad_mac:    4\n"), std::string::npos) << counters.out;
}

TEST_F(CliTest, StatusJson) {
  Outcome r = call({"--json", "status"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  nlohmann::json printed = nlohmann::json::parse(r.out);
  EXPECT_EQ(printed, api::status_result(backend_.status_view));
  EXPECT_NE(r.out.find("\n  \"members_up\": 3,\n"), std::string::npos) << r.out;  // pretty
  // Global options after the subcommand work too.
  Outcome after = loop_.run_beside([&] { return run({"status", "--json", "--socket", socket_}); });
  EXPECT_EQ(after.code, kExitOk) << after.err;
  EXPECT_EQ(after.out, r.out);
}

TEST_F(CliTest, SocketFromEnvironment) {
  setenv("CLUSTERLIVE_SOCKET", socket_.c_str(), 1);
  Outcome r = loop_.run_beside([] { return run({"nodes"}); });
  EXPECT_EQ(r.code, kExitOk) << r.err;
  // --socket wins over the environment.
  setenv("CLUSTERLIVE_SOCKET", "/nonexistent/api.sock", 1);
  Outcome wins = call({"nodes"});
  EXPECT_EQ(wins.code, kExitOk) << wins.err;
  Outcome env_only = run({"nodes"});
  EXPECT_EQ(env_only.code, kExitUnreachable);
  EXPECT_NE(env_only.err.find("/nonexistent/api.sock"), std::string::npos);
}

TEST_F(CliTest, Nodes) {
  Outcome r = call({"nodes"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, format_nodes(backend_.node_views));
  Outcome j = call({"nodes", "--json"});
  EXPECT_EQ(nlohmann::json::parse(j.out), api::nodes_result(backend_.node_views));
}

TEST_F(CliTest, KeyShowPrintsOnlyTheKey) {
  Outcome r = call({"key", "show"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, kKey + "\n");
  EXPECT_EQ(r.err, "");
  Outcome j = call({"key", "show", "--json"});
  EXPECT_EQ(nlohmann::json::parse(j.out), (nlohmann::json{{"secret", kKey}}));
}

TEST_F(CliTest, KeyShowWithoutSecret) {
  backend_.secret.reset();
  Outcome r = call({"key", "show"});
  EXPECT_EQ(r.code, kExitFailed);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("no cluster secret"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("clusterlive create"), std::string::npos) << r.err;
  Outcome j = call({"--json", "key", "show"});
  EXPECT_EQ(j.code, kExitFailed);
  EXPECT_EQ(nlohmann::json::parse(j.out)["error"]["code"], "no_secret");
}

TEST_F(CliTest, Create) {
  Outcome r = call({"create"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out.substr(0, r.out.find('\n')), "created cluster 00112233aabbccdd");
  EXPECT_NE(r.out.find("clusterlive key show"), std::string::npos) << r.out;
  EXPECT_EQ(backend_.create_calls, 1);

  backend_.create_answer = {false, "cannot write /var/lib/clusterlive/key: No space left", ""};
  Outcome failed = call({"create"});
  EXPECT_EQ(failed.code, kExitFailed);
  EXPECT_EQ(failed.err,
            "clusterlive: create failed: cannot write /var/lib/clusterlive/key: No space left\n");
}

TEST_F(CliTest, JoinFromFile) {
  std::ofstream(dir_ / "key") << "\n  " << kKey << "  \r\n";
  Outcome r = call({"join", dir_ / "key"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, "joined cluster 8899aabbccddeeff\n");
  ASSERT_EQ(backend_.joined.size(), 1u);
  EXPECT_EQ(backend_.joined[0], kKey);
  EXPECT_EQ(r.out.find(kKey), std::string::npos);
  EXPECT_EQ(r.err.find(kKey), std::string::npos);
}

TEST_F(CliTest, JoinFromStandardInput) {
  Outcome dash = call({"join", "-"}, kKey + "\n");
  EXPECT_EQ(dash.code, kExitOk) << dash.err;
  Outcome none = call({"join"}, kKey);
  EXPECT_EQ(none.code, kExitOk) << none.err;
  ASSERT_EQ(backend_.joined.size(), 2u);
  EXPECT_EQ(backend_.joined[1], kKey);
}

TEST_F(CliTest, JoinRejectsBadKeysLocally) {
  std::ofstream(dir_ / "bad") << kKey.substr(0, 40) << "\n";
  Outcome bad = call({"join", dir_ / "bad"});
  EXPECT_EQ(bad.code, kExitUsage);
  EXPECT_EQ(bad.err, "clusterlive: " + dir_ / "bad" +
                         ": the cluster secret must be 64 hex digits, got 40 characters\n");
  Outcome missing = call({"join", dir_ / "missing"});
  EXPECT_EQ(missing.code, kExitUsage);
  EXPECT_NE(missing.err.find("No such file"), std::string::npos) << missing.err;
  Outcome empty = call({"join"}, "");
  EXPECT_EQ(empty.code, kExitUsage);
  EXPECT_NE(empty.err.find("standard input is empty"), std::string::npos) << empty.err;
  EXPECT_TRUE(backend_.joined.empty());
}

TEST_F(CliTest, JoinFailureIsReportedWithoutTheKey) {
  backend_.join_answer = {false, "key " + kKey + " refused: mesh setup failed", ""};
  Outcome r = call({"join"}, kKey);
  EXPECT_EQ(r.code, kExitFailed);
  EXPECT_EQ(r.err, "clusterlive: join failed: key <secret> refused: mesh setup failed\n");
}

TEST_F(CliTest, JoinNeedsRootBeforeReadingTheKey) {
  Outcome r = call({"join"}, kKey, /*euid=*/1000);
  EXPECT_EQ(r.code, kExitPermissionDenied);
  EXPECT_NE(r.err.find("join needs root"), std::string::npos) << r.err;
  EXPECT_TRUE(backend_.joined.empty());
}

TEST_F(CliTest, DaemonRefusalForNonRootExitsFour) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to run a child as nobody";
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    if (setgid(65534) != 0 || setuid(65534) != 0) _exit(10);
    Outcome key = run({"--socket", socket_, "key", "show"}, "", 65534);
    if (key.code != kExitPermissionDenied || !key.out.empty()) _exit(11);
    if (key.err.find("permission denied") == std::string::npos) _exit(12);
    if (key.err.find("sudo clusterlive key show") == std::string::npos) _exit(13);
    Outcome create = run({"--socket", socket_, "create"}, "", 65534);
    if (create.code != kExitPermissionDenied) _exit(14);
    Outcome status = run({"--socket", socket_, "status"}, "", 65534);
    if (status.code != kExitOk) _exit(15);
    _exit(0);
  }
  int wstatus = 0;
  ASSERT_TRUE(loop_.run_until([&] { return waitpid(child, &wstatus, WNOHANG) == child; }, 10'000));
  ASSERT_TRUE(WIFEXITED(wstatus));
  EXPECT_EQ(WEXITSTATUS(wstatus), 0) << "see the _exit codes in the child";
  EXPECT_EQ(backend_.secret_calls, 0);
  EXPECT_EQ(backend_.create_calls, 0);
}

TEST(Cli, RunAndWaitUsageErrorsExit125) {
  // Every other code belongs to the job.
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"run"},
           {"run", "-d"},
           {"run", "--bogus", "ls"},
           {"run", "--name"},
           {"run", "--json", "ls"},  // JSON needs --detach
           {"wait"},
           {"wait", "nonsense"},
           {"wait", "j-1", "j-2"},
       }) {
    Outcome r = run(args);
    std::string joined;
    for (const std::string& a : args) joined += a + " ";
    EXPECT_EQ(r.code, kExitRunFailed) << joined << "\n" << r.out << r.err;
    EXPECT_FALSE(r.err.empty()) << joined;
  }
  EXPECT_EQ(run({"run"}).err,
            "clusterlive: run needs a command: clusterlive run [-d] [--name NAME] [--] COMMAND "
            "[ARGS...]\n");
}

TEST(Cli, RunWithoutDaemonExits125) {
  TempDir dir;
  Outcome r = run({"--socket", dir / "api.sock", "run", "--", "make"});
  EXPECT_EQ(r.code, kExitRunFailed);
  EXPECT_EQ(r.err,
            "clusterlive: clusterlived is not running (no socket at " + dir / "api.sock" + ")\n");
  Outcome wait = run({"--socket", dir / "api.sock", "wait", "j-3f9a0c12"});
  EXPECT_EQ(wait.code, kExitRunFailed);
  Outcome ps = run({"--socket", dir / "api.sock", "ps"});
  EXPECT_EQ(ps.code, kExitUnreachable);
}

/// The job commands against a fake daemon whose jobs write into spool directories under a
/// temporary directory.
class CliJobTest : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    backend_.job_views = api::test_support::sample_jobs();
    backend_.next_job.spool = make_spool(backend_.next_job.id);
    for (api::JobView& job : backend_.job_views) job.spool = make_spool(job.id);
    setenv("TZ", "UTC", 1);
    tzset();
  }
  void TearDown() override {
    unsetenv("TZ");
    tzset();
    CliTest::TearDown();
  }

  /// A spool directory with empty output files, as the daemon makes it.
  std::string make_spool(const std::string& id) {
    std::string spool = dir_ / id;
    EXPECT_EQ(mkdir(spool.c_str(), 0755), 0);
    std::ofstream(spool + "/stdout").flush();
    std::ofstream(spool + "/stderr").flush();
    return spool;
  }
  static void append(const std::string& path, const std::string& text) {
    std::ofstream(path, std::ios::app | std::ios::binary) << text;
  }
  /// The job started by run.
  api::JobView& started() {
    api::JobView* job = backend_.find(backend_.next_job.id);
    EXPECT_TRUE(job);
    return *job;
  }
  void end(api::JobView& job, std::optional<int> code, std::optional<int> signal = {}) {
    job.state = code ? api::kJobExited : (signal ? api::kJobKilled : api::kJobLost);
    job.exit_code = code;
    job.signal = signal;
    job.where.clear();
  }
};

TEST_F(CliJobTest, RunStreamsTheOutputAndExitsWithTheJobsCode) {
  const std::string spool = backend_.next_job.spool;
  int looks = 0;
  backend_.on_job_call = [&](FakeBackend&) {
    ++looks;
    if (looks == 1) append(spool + "/stdout", "compiling\n");
    if (looks == 2) append(spool + "/stderr", "warning: x\n");
    if (looks == 3) append(spool + "/stdout", "linking\n");
    if (looks == 4) {
      append(spool + "/stdout", "done\n");  // written just before the end
      append(spool + "/stderr", "error: y\n");
      end(started(), 3);
    }
  };
  Outcome r = call({"run", "make", "-j4", "--json"});
  EXPECT_EQ(r.code, 3);
  EXPECT_EQ(r.out, "compiling\nlinking\ndone\n");
  EXPECT_EQ(r.err, "warning: x\nerror: y\n");
  ASSERT_EQ(backend_.runs.size(), 1u);
  const api::RunRequest& sent = backend_.runs[0].second;
  EXPECT_EQ(sent.argv, (std::vector<std::string>{"make", "-j4", "--json"}));
  EXPECT_EQ(sent.cwd, "/cluster/home/ann/src");
  EXPECT_EQ(sent.env,
            (std::map<std::string, std::string>{{"HOME", "/home/ann"}, {"LANG", "C.UTF-8"}}));
  EXPECT_EQ(sent.name, "");
  EXPECT_EQ(backend_.runs[0].first.uid, geteuid());
  EXPECT_TRUE(backend_.kills.empty());
  EXPECT_EQ(looks, 4);
}

TEST_F(CliJobTest, RunEndsWith128PlusTheSignal) {
  backend_.on_job_call = [&](FakeBackend&) { end(started(), std::nullopt, 9); };
  Outcome r = call({"run", "--", "sleep", "1000"});
  EXPECT_EQ(r.code, 137);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "");
}

TEST_F(CliJobTest, RunOfALostJobExits125) {
  backend_.on_job_call = [&](FakeBackend&) { end(started(), std::nullopt); };
  Outcome r = call({"run", "--", "sleep", "1000"});
  EXPECT_EQ(r.code, kExitRunFailed);
  EXPECT_EQ(r.err, "clusterlive: job j-0badcafe was lost: no node runs it any more\n");
}

TEST_F(CliJobTest, RunWhenTheDaemonSaysTooLittle) {
  backend_.next_job.spool = "";
  backend_.on_job_call = [&](FakeBackend&) { started().state = api::kJobExited; };  // no code
  Outcome r = call({"run", "--", "true"});
  EXPECT_EQ(r.code, kExitRunFailed);
  EXPECT_EQ(r.err,
            "clusterlive: clusterlived gave no spool directory for job j-0badcafe; its output is "
            "not shown\n"
            "clusterlive: clusterlived did not say how job j-0badcafe ended (exited ?)\n");
}

TEST_F(CliJobTest, InterruptKillsTheJobOnceAndKeepsStreaming) {
  const std::string spool = backend_.next_job.spool;
  int looks = 0;
  backend_.on_job_call = [&](FakeBackend&) {
    ++looks;
    if (looks == 2 || looks == 3) raise(SIGINT);  // Ctrl-C, twice
    if (!backend_.kills.empty() && looks >= 5) {
      append(spool + "/stderr", "terminated, cleaning up\n");
      end(started(), std::nullopt, 15);
    }
  };
  Outcome r = call({"run", "--", "render"});
  EXPECT_EQ(r.code, 128 + 15);
  ASSERT_EQ(backend_.kills.size(), 1u);
  EXPECT_EQ(backend_.kills[0].second, "j-0badcafe");
  EXPECT_EQ(r.err,
            "clusterlive: job j-0badcafe was asked to end; waiting for it (interrupt again to "
            "stop waiting)\n"
            "terminated, cleaning up\n");
}

TEST_F(CliJobTest, ThirdInterruptStopsWaiting) {
  int looks = 0;
  backend_.on_job_call = [&](FakeBackend&) {
    if (++looks <= 3) raise(SIGTERM);  // the job ignores its kill
  };
  Outcome r = call({"run", "--", "stubborn"});
  EXPECT_EQ(r.code, kExitRunFailed);
  EXPECT_EQ(backend_.kills.size(), 1u);
  EXPECT_NE(r.err.find("clusterlive: stopped waiting for job j-0badcafe, which may still be "
                       "running (see clusterlive ps; clusterlive wait j-0badcafe waits for it)\n"),
            std::string::npos)
      << r.err;
}

TEST_F(CliJobTest, RunDetached) {
  Outcome r = call({"run", "-d", "--name", "nightly build", "make", "all"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, "j-0badcafe\n");
  EXPECT_EQ(r.err, "");
  ASSERT_EQ(backend_.runs.size(), 1u);
  EXPECT_EQ(backend_.runs[0].second.name, "nightly build");
  EXPECT_EQ(backend_.job_calls, 0);  // returned at once

  Outcome j = call({"--json", "run", "--detach", "--", "make"});
  EXPECT_EQ(j.code, kExitOk) << j.err;
  nlohmann::json printed = nlohmann::json::parse(j.out);
  EXPECT_EQ(printed["id"], "j-0badcafe");
  EXPECT_EQ(printed["argv"], nlohmann::json::array({"make"}));
}

TEST_F(CliJobTest, RunLeavesTheDeniedVariablesOut) {
  Outcome r = call({"run", "-d", "true"}, "", 0,
                   {"PATH=/usr/bin", "LD_PRELOAD=/tmp/hook.so", "LD_LIBRARY_PATH=/opt/lib"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.err,
            "clusterlive: LD_PRELOAD is not passed to the job\n");
  ASSERT_EQ(backend_.runs.size(), 1u);
  EXPECT_EQ(backend_.runs[0].second.env,
            (std::map<std::string, std::string>{
                {"LD_LIBRARY_PATH", "/opt/lib"}, {"PATH", "/usr/bin"}}));
}

TEST_F(CliJobTest, RunRefusedExits125) {
  backend_.run_error = api::JobResult{false, "failed", "/cluster is not mounted", {}};
  Outcome r = call({"run", "make"});
  EXPECT_EQ(r.code, kExitRunFailed);
  EXPECT_EQ(r.err, "clusterlive: run failed: /cluster is not mounted\n");
  Outcome j = call({"run", "-d", "--json", "make"});
  EXPECT_EQ(j.code, kExitRunFailed);
  EXPECT_EQ(nlohmann::json::parse(j.out)["error"]["code"], "failed");
  // Refused locally: nothing is sent.
  Outcome name = call({"run", "--name", std::string(65, 'n'), "make"});
  EXPECT_EQ(name.code, kExitRunFailed);
  EXPECT_EQ(name.err, "clusterlive: --name is longer than 64 characters\n");
  EXPECT_EQ(backend_.runs.size(), 2u);
}

TEST_F(CliJobTest, Ps) {
  Outcome r = call({"ps"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, format_jobs(backend_.job_views, kNow));
  EXPECT_NE(r.out.find("running (locked)  99.5     512.0    2  10:00:00\n"), std::string::npos)
      << r.out;
  Outcome j = call({"ps", "--json"});
  EXPECT_EQ(nlohmann::json::parse(j.out), api::jobs_result(backend_.job_views));
}

TEST_F(CliJobTest, PsSaysWhyItCannotList) {
  backend_.jobs_unavailable = "no storage node reachable: /cluster is not mounted (starting)";
  Outcome r = call({"ps"});
  EXPECT_EQ(r.code, kExitFailed);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "clusterlive: ps failed: " + backend_.jobs_unavailable + "\n");
  Outcome j = call({"ps", "--json"});
  EXPECT_EQ(j.code, kExitFailed);
  EXPECT_EQ(nlohmann::json::parse(j.out)["error"]["code"], "failed");
}

TEST_F(CliJobTest, Job) {
  Outcome r = call({"job", "j-3f9a0c12"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, format_job(backend_.job_views[0]));
  Outcome j = call({"--json", "job", "j-3f9a0c12"});
  EXPECT_EQ(nlohmann::json::parse(j.out), api::job_result(backend_.job_views[0]));
  Outcome missing = call({"job", "j-99999999"});
  EXPECT_EQ(missing.code, kExitFailed);
  EXPECT_EQ(missing.err, "clusterlive: no job j-99999999\n");
}

TEST_F(CliJobTest, Kill) {
  Outcome r = call({"kill", "j-3f9a0c12"});  // the tests run as root
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, "");
  ASSERT_EQ(backend_.kills.size(), 1u);
  EXPECT_EQ(backend_.kills[0].second, "j-3f9a0c12");
  Outcome j = call({"kill", "--json", "j-3f9a0c12"});
  EXPECT_EQ(nlohmann::json::parse(j.out)["id"], "j-3f9a0c12");
  Outcome missing = call({"kill", "j-99999999"});
  EXPECT_EQ(missing.code, kExitFailed);
  EXPECT_EQ(missing.err, "clusterlive: no job j-99999999\n");
  backend_.kill_error = api::JobResult{false, "failed", "it has ended", {}};
  Outcome ended = call({"kill", "j-00c0ffee"});
  EXPECT_EQ(ended.code, kExitFailed);
  EXPECT_EQ(ended.err, "clusterlive: kill failed: it has ended\n");
}

TEST_F(CliJobTest, LockAndUnlock) {
  backend_.job_views[0].locked = false;           // j-3f9a0c12 runs on node-77c2e0
  Outcome locked = call({"lock", "j-3f9a0c12"});  // the tests run as root
  EXPECT_EQ(locked.code, kExitOk) << locked.err;
  EXPECT_EQ(locked.out, "j-3f9a0c12 locked: it stays on node-77c2e0\n");
  EXPECT_TRUE(backend_.job_views[0].locked);
  Outcome unlocked = call({"unlock", "j-3f9a0c12"});
  EXPECT_EQ(unlocked.code, kExitOk) << unlocked.err;
  EXPECT_EQ(unlocked.out, "j-3f9a0c12 unlocked\n");
  EXPECT_FALSE(backend_.job_views[0].locked);
  Outcome j = call({"lock", "--json", "j-3f9a0c12"});
  EXPECT_EQ(j.code, kExitOk) << j.err;
  EXPECT_EQ(nlohmann::json::parse(j.out)["locked"], true);
  ASSERT_EQ(backend_.locks.size(), 3u);
  EXPECT_EQ(std::get<1>(backend_.locks[0]), "j-3f9a0c12");
  Outcome missing = call({"unlock", "j-99999999"});
  EXPECT_EQ(missing.code, kExitFailed);
  EXPECT_EQ(missing.err, "clusterlive: no job j-99999999\n");
  Outcome ended = call({"lock", "j-00c0ffee"});
  EXPECT_EQ(ended.code, kExitFailed);
  EXPECT_EQ(ended.err, "clusterlive: lock failed: job j-00c0ffee has already ended\n");
}

TEST_F(CliJobTest, KillOfSomeoneElsesJobExitsFour) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to run a child as nobody";
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    if (setgid(65534) != 0 || setuid(65534) != 0) _exit(10);
    Outcome kill = run({"--socket", socket_, "kill", "j-3f9a0c12"}, "", 65534);
    if (kill.code != kExitPermissionDenied) _exit(11);
    if (kill.err != "clusterlive: permission denied: j-3f9a0c12 belongs to ann\n") _exit(12);
    Outcome ps = run({"--socket", socket_, "ps"}, "", 65534);
    if (ps.code != kExitOk) _exit(13);
    _exit(0);
  }
  int wstatus = 0;
  ASSERT_TRUE(loop_.run_until([&] { return waitpid(child, &wstatus, WNOHANG) == child; }, 10'000));
  ASSERT_TRUE(WIFEXITED(wstatus));
  EXPECT_EQ(WEXITSTATUS(wstatus), 0) << "see the _exit codes in the child";
  ASSERT_EQ(backend_.kills.size(), 1u);
  EXPECT_EQ(backend_.kills[0].first.uid, 65534u);
}

TEST_F(CliJobTest, WaitExitsWithTheJobsStatus) {
  int looks = 0;
  api::JobView& job = backend_.job_views[0];
  backend_.on_job_call = [&](FakeBackend&) {
    if (++looks == 3) end(job, 7);
  };
  Outcome r = call({"wait", "j-3f9a0c12"});
  EXPECT_EQ(r.code, 7);
  EXPECT_EQ(r.out, "");  // wait shows no output
  EXPECT_EQ(r.err, "");
  Outcome j = call({"wait", "--json", "j-3f9a0c12"});  // ended already
  EXPECT_EQ(j.code, 7);
  EXPECT_EQ(nlohmann::json::parse(j.out)["exit_code"], 7);
  Outcome killed = call({"wait", "j-deadbeef"});
  EXPECT_EQ(killed.code, 137);
  Outcome missing = call({"wait", "j-99999999"});
  EXPECT_EQ(missing.code, kExitRunFailed);
  EXPECT_EQ(missing.err, "clusterlive: no job j-99999999\n");
}

TEST_F(CliJobTest, WaitKeepsWaitingWhileTheJobsNodeIsUnreachable) {
  int looks = 0;
  api::JobView& job = backend_.job_views[0];
  job.where = "node-c10003";
  backend_.on_job_call = [&](FakeBackend&) {
    ++looks;
    if (looks == 2) job.state = api::kJobUnreachable;  // its node is cut off...
    if (looks == 5) job.state = api::kJobRunning;      // ...and back
    if (looks == 7) end(job, 4);
  };
  Outcome r = call({"wait", "j-3f9a0c12"});
  EXPECT_EQ(r.code, 4) << "unreachable is not an end";
  EXPECT_EQ(r.err,
            "clusterlive: job j-3f9a0c12's node node-c10003 is unreachable; waiting for it to "
            "come back\n"
            "clusterlive: job j-3f9a0c12 is running again\n");
  EXPECT_EQ(looks, 7);
}

TEST_F(CliJobTest, WaitWhenTheJobVanishes) {
  backend_.on_job_call = [&](FakeBackend& b) {
    if (b.job_calls == 2) b.job_views.clear();
  };
  Outcome r = call({"wait", "j-3f9a0c12"});
  EXPECT_EQ(r.code, kExitRunFailed);
  EXPECT_EQ(r.err, "clusterlive: no job j-3f9a0c12\n");
}

TEST_F(CliJobTest, Logs) {
  const api::JobView& job = backend_.job_views[1];
  append(job.spool + "/stdout", "out 1\nout 2\n");
  append(job.spool + "/stderr", "err 1\n");
  Outcome r = call({"logs", "j-00c0ffee"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, "out 1\nout 2\n");
  EXPECT_EQ(r.err, "err 1\n");

  ASSERT_EQ(unlink((job.spool + "/stderr").c_str()), 0);
  Outcome missing = call({"logs", "j-00c0ffee"});
  EXPECT_EQ(missing.code, kExitFailed);
  EXPECT_EQ(missing.out, "out 1\nout 2\n");
  EXPECT_EQ(missing.err, "clusterlive: " + job.spool + "/stderr does not exist\n");

  Outcome none = call({"logs", "j-99999999"});
  EXPECT_EQ(none.code, kExitFailed);
}

TEST_F(CliJobTest, LogsFollowUntilTheJobEnds) {
  api::JobView& job = backend_.job_views[0];
  append(job.spool + "/stdout", "frame 1\n");
  int looks = 0;
  backend_.on_job_call = [&](FakeBackend&) {
    ++looks;
    if (looks == 2) append(job.spool + "/stdout", "frame 2\n");
    if (looks == 3) {
      append(job.spool + "/stdout", "frame 3\n");
      append(job.spool + "/stderr", "done\n");
      end(job, 1);
    }
  };
  Outcome r = call({"logs", "-f", "j-3f9a0c12"});
  EXPECT_EQ(r.code, kExitOk) << r.err;  // the job's status is wait's business
  EXPECT_EQ(r.out, "frame 1\nframe 2\nframe 3\n");
  EXPECT_EQ(r.err, "done\n");
  EXPECT_TRUE(backend_.kills.empty());
}

TEST_F(CliJobTest, UnreadableOutputIsSaidOnceAndTheStatusStillCounts) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to run a child as nobody";
  const std::string spool = backend_.next_job.spool;
  append(spool + "/stdout", "private\n");
  ASSERT_EQ(chmod((spool + "/stdout").c_str(), 0600), 0);
  backend_.on_job_call = [&](FakeBackend& b) {
    if (b.job_calls == 3) end(started(), 0);
  };
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    if (setgid(65534) != 0 || setuid(65534) != 0) _exit(10);
    Outcome r = run({"--socket", socket_, "run", "--", "true"}, "", 65534);
    if (r.code != 0) _exit(11);
    if (r.out != "") _exit(12);
    if (r.err != "clusterlive: cannot read " + spool +
                     "/stdout: Permission denied; the job's output there is not shown\n") {
      _exit(13);
    }
    _exit(0);
  }
  int wstatus = 0;
  ASSERT_TRUE(loop_.run_until([&] { return waitpid(child, &wstatus, WNOHANG) == child; }, 10'000));
  ASSERT_TRUE(WIFEXITED(wstatus));
  EXPECT_EQ(WEXITSTATUS(wstatus), 0) << "see the _exit codes in the child";
}

/// Moves the migration of `job` along: the phase, round and bytes it is at now.
void advance(api::JobView& job, const std::string& phase, uint32_t round, uint64_t bytes) {
  job.migration->phase = phase;
  job.migration->round = round;
  job.migration->bytes_sent = bytes;
  job.migration->rate_bytes_per_s = bytes > 0 ? 8'493'465 : 0;
  ++job.migration->updated_unix_ms;
}

/// Ends the migration of `job` with `outcome` (the job moves when it is committed).
void conclude(api::JobView& job, const char* outcome, const std::string& reason = "") {
  job.migration->outcome = outcome;
  job.migration->phase = outcome;
  job.migration->reason = reason;
  ++job.migration->updated_unix_ms;
  job.state = api::kJobRunning;
  if (std::string(outcome) == api::kMigrationCommitted) {
    job.migration->freeze_ms = 1234;
    job.where = job.migration->target;
    ++job.migrations;
  }
}

TEST_F(CliJobTest, MigrateWaitsShowingTheProgress) {
  api::JobView& job = backend_.job_views[0];
  backend_.on_job_call = [&](FakeBackend& b) {
    if (b.job_calls == 1) advance(job, "preflight", 0, 0);
    if (b.job_calls == 2) advance(job, "precopy", 1, 10'485'760);
    if (b.job_calls == 3) advance(job, "precopy", 1, 11'000'000);  // same round: not shown
    if (b.job_calls == 4) advance(job, "precopy", 2, 12'897'484);
    if (b.job_calls == 5) advance(job, "final_dump", 0, 47'815'065);
    if (b.job_calls == 6) conclude(job, api::kMigrationCommitted);
  };
  Outcome r = call({"migrate", "j-3f9a0c12", "node-c10003"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, "j-3f9a0c12 moved to node-c10003 (frozen 1.23 s, 45.6 MiB sent)\n");
  EXPECT_EQ(r.err,
            "j-3f9a0c12: starting\n"
            "j-3f9a0c12: preflight\n"
            "j-3f9a0c12: precopy round 1, 10.0 MiB sent, 8.1 MiB/s\n"
            "j-3f9a0c12: precopy round 2, 12.3 MiB sent, 8.1 MiB/s\n"
            "j-3f9a0c12: final dump, 45.6 MiB sent, 8.1 MiB/s\n");
  ASSERT_EQ(backend_.migrations.size(), 1u);
  EXPECT_EQ(backend_.migrations[0].first.uid, geteuid());
  EXPECT_EQ(backend_.migrations[0].second.job, "j-3f9a0c12");
  EXPECT_EQ(backend_.migrations[0].second.target, "node-c10003");
  EXPECT_EQ(backend_.job_calls, 6);

  // ps and job show it.
  Outcome ps = call({"ps"});
  EXPECT_NE(ps.out.find("node-c10003  running (locked)"), std::string::npos) << ps.out;
  Outcome detail = call({"job", "j-3f9a0c12"});
  EXPECT_NE(detail.out.find("migration:  to node-c10003 (attempt 3): committed, frozen 1.23 s, "
                            "45.6 MiB sent\n"),
            std::string::npos)
      << detail.out;
}

TEST_F(CliJobTest, RunOnANodeStartsHereThenMovesTheJobThere) {
  // The job shows no memory until its shim wrote its pid: run waits for that before it asks.
  backend_.on_job_call = [&](FakeBackend& b) {
    api::JobView* job = b.find("j-0badcafe");
    if (b.job_calls == 2) job->rss_kib = 900;
    if (b.job_calls == 4) conclude(*job, api::kMigrationCommitted);
  };
  Outcome r = call({"run", "-d", "--on", "node-c10003", "make"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, "j-0badcafe\n");  // the id only: the move is told on stderr
  EXPECT_EQ(r.err,
            "j-0badcafe: starting\n"
            "j-0badcafe moved to node-c10003 (frozen 1.23 s, 0 B sent)\n");
  ASSERT_EQ(backend_.migrations.size(), 1u);
  EXPECT_EQ(backend_.migrations[0].second.job, "j-0badcafe");
  EXPECT_EQ(backend_.migrations[0].second.target, "node-c10003");
}

TEST_F(CliJobTest, RunOnANodeThatRefusesRunsHereAndSaysWhy) {
  backend_.next_job.rss_kib = 900;
  backend_.migrate_error =
      api::JobResult{false, "failed", "node-c10003 is not a live member of the cluster", {}};
  Outcome r = call({"run", "-d", "--on", "node-c10003", "make"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, "j-0badcafe\n");
  EXPECT_NE(r.err.find("node-c10003 is not a live member of the cluster"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("j-0badcafe runs on node-3a9f01 instead"), std::string::npos) << r.err;
  EXPECT_EQ(call({"run", "--on", "no such node", "make"}).code, kExitRunFailed);
}

TEST_F(CliJobTest, MigrateHomeJson) {
  api::JobView& job = backend_.job_views[0];
  backend_.on_job_call = [&](FakeBackend& b) {
    if (b.job_calls == 2) conclude(job, api::kMigrationCommitted);
  };
  Outcome r = call({"migrate", "--json", "j-3f9a0c12", "home"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  nlohmann::json printed = nlohmann::json::parse(r.out);  // the job, and nothing else
  EXPECT_EQ(printed["where"], "node-3a9f01");
  EXPECT_EQ(printed["migration"]["outcome"], "committed");
  EXPECT_EQ(printed["migration"]["freeze_ms"], 1234);
  EXPECT_EQ(r.err, "j-3f9a0c12: starting\n");
  ASSERT_EQ(backend_.migrations.size(), 1u);
  EXPECT_EQ(backend_.migrations[0].second.target, "home");
}

TEST_F(CliJobTest, MigrateBestNamesTheNodeChosen) {
  Outcome r = call({"migrate", "--no-wait", "j-3f9a0c12", "best"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, "j-3f9a0c12 migrating to node-c10003\n");
  ASSERT_EQ(backend_.migrations.size(), 1u);
  EXPECT_EQ(backend_.migrations[0].second.target, "best");
}

TEST_F(CliJobTest, MigrateFailureExitsOne) {
  api::JobView& job = backend_.job_views[0];
  backend_.on_job_call = [&](FakeBackend& b) {
    if (b.job_calls == 1) advance(job, "restore", 0, 47'815'065);
    if (b.job_calls == 2) {
      conclude(job, api::kMigrationAborted, "criu restore failed: see restore.log");
    }
  };
  Outcome r = call({"migrate", "j-3f9a0c12", "node-c10003"});
  EXPECT_EQ(r.code, kExitFailed);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err,
            "j-3f9a0c12: starting\n"
            "j-3f9a0c12: restore, 45.6 MiB sent, 8.1 MiB/s\n"
            "clusterlive: migration of j-3f9a0c12 to node-c10003 failed: criu restore failed: "
            "see restore.log\n");

  backend_.on_job_call = [&](FakeBackend&) { conclude(job, api::kMigrationLost, "both died"); };
  Outcome j = call({"migrate", "--json", "j-3f9a0c12", "node-c10003"});
  EXPECT_EQ(j.code, kExitFailed);
  EXPECT_EQ(nlohmann::json::parse(j.out)["migration"]["outcome"], "lost");
  EXPECT_NE(j.err.find("node-c10003 failed: both died\n"), std::string::npos) << j.err;
}

TEST_F(CliJobTest, MigrateStopsWhenTheJobEnds) {
  api::JobView& job = backend_.job_views[0];
  backend_.on_job_call = [&](FakeBackend& b) {
    if (b.job_calls == 2) {
      end(job, 0);
      job.migration.reset();
    }
  };
  Outcome r = call({"migrate", "j-3f9a0c12", "node-c10003"});
  EXPECT_EQ(r.code, kExitFailed);
  EXPECT_EQ(r.err,
            "j-3f9a0c12: starting\n"
            "clusterlive: job j-3f9a0c12 ended (exited 0) before its migration to node-c10003 "
            "finished\n");
}

TEST_F(CliJobTest, MigrateWithoutWaiting) {
  Outcome r = call({"migrate", "--no-wait", "j-3f9a0c12", "home"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, "j-3f9a0c12 migrating to node-3a9f01\n");  // the daemon names the node
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(backend_.job_calls, 0);  // returned at once

  Outcome j = call({"--json", "migrate", "j-3f9a0c12", "node-c10003", "--no-wait"});
  EXPECT_EQ(j.code, kExitOk) << j.err;
  nlohmann::json printed = nlohmann::json::parse(j.out);
  EXPECT_EQ(printed["state"], "migrating");
  EXPECT_EQ(printed["migration"]["target"], "node-c10003");
  EXPECT_EQ(printed["migration"]["outcome"], "in_progress");
  EXPECT_EQ(backend_.migrations.size(), 2u);
}

TEST_F(CliJobTest, MigrateRefused) {
  Outcome missing = call({"migrate", "j-99999999", "node-c10003"});
  EXPECT_EQ(missing.code, kExitFailed);
  EXPECT_EQ(missing.err, "clusterlive: no job j-99999999\n");
  backend_.migrate_error =
      api::JobResult{false, "failed", "j-3f9a0c12 is locked: it uses /dev/video0", {}};
  Outcome locked = call({"migrate", "j-3f9a0c12", "node-c10003"});
  EXPECT_EQ(locked.code, kExitFailed);
  EXPECT_EQ(locked.out, "");
  EXPECT_EQ(locked.err, "clusterlive: migrate failed: j-3f9a0c12 is locked: it uses /dev/video0\n");
  Outcome j = call({"migrate", "--json", "--no-wait", "j-3f9a0c12", "node-c10003"});
  EXPECT_EQ(j.code, kExitFailed);
  EXPECT_EQ(nlohmann::json::parse(j.out)["error"]["code"], "failed");
  EXPECT_EQ(backend_.job_calls, 0);
  // Refused locally: nothing is sent.
  Outcome bad = call({"migrate", "j-3f9a0c12", "node_1"});
  EXPECT_EQ(bad.code, kExitUsage);
  EXPECT_EQ(bad.err,
            "clusterlive: \"node_1\" is not a node id (1 to 63 of a-z, 0-9 and \"-\", not "
            "starting or ending with \"-\", such as node-77c2e0) nor \"home\" nor \"best\"\n");
  EXPECT_EQ(backend_.migrations.size(), 3u);
}

TEST_F(CliJobTest, MigrateWhenTheJobVanishes) {
  backend_.on_job_call = [&](FakeBackend& b) {
    if (b.job_calls == 2) b.job_views.clear();
  };
  Outcome r = call({"migrate", "j-3f9a0c12", "node-c10003"});
  EXPECT_EQ(r.code, kExitFailed);
  EXPECT_EQ(r.err, "j-3f9a0c12: starting\nclusterlive: no job j-3f9a0c12\n");
}

TEST(Cli, MigrateWithoutDaemonExitsThree) {
  TempDir dir;
  Outcome r = run({"--socket", dir / "api.sock", "migrate", "j-3f9a0c12", "home"});
  EXPECT_EQ(r.code, kExitUnreachable);
  EXPECT_EQ(r.err,
            "clusterlive: clusterlived is not running (no socket at " + dir / "api.sock" + ")\n");
}

}  // namespace
}  // namespace clusterlive::cli
