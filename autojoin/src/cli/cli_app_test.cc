#include "cli/cli_app.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

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

Outcome run(std::vector<std::string> args, const std::string& input = "", uid_t euid = 0) {
  args.insert(args.begin(), "clusterlive");
  std::vector<const char*> argv;
  for (const std::string& arg : args) argv.push_back(arg.c_str());
  std::istringstream in(input);
  std::ostringstream out;
  std::ostringstream err;
  CliIo io{in, out, err};
  io.euid = euid;
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
  Outcome call(std::vector<std::string> args, const std::string& input = "", uid_t euid = 0) {
    args.insert(args.begin(), {"--socket", socket_});
    return loop_.run_beside([=] { return run(args, input, euid); });
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
  for (const char* word : {"status", "nodes", "key", "create", "join", "--json", "--socket",
                           "Exit status:", "3  clusterlived is not running", "4  permission denied",
                           "CLUSTERLIVE_SOCKET", "/run/clusterlive/api.sock"}) {
    EXPECT_NE(help.out.find(word), std::string::npos) << word << "\n" << help.out;
  }
  Outcome join_help = run({"join", "--help"});
  EXPECT_EQ(join_help.code, kExitOk);
  EXPECT_NE(join_help.out.find("FILE"), std::string::npos) << join_help.out;
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
  for (const char* code : {"failed", "no_secret", "bad_request", "unsupported_version",
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

}  // namespace
}  // namespace clusterlive::cli
