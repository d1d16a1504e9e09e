#include "cli/job_commands.h"

#include <gtest/gtest.h>
#include <signal.h>

#include "api/api_protocol.h"
#include "cli/exit_codes.h"

namespace clusterlive::cli {
namespace {

using Args = std::vector<std::string>;

SplitCommandLine split(Args args) {
  args.insert(args.begin(), "clusterlive");
  return split_run_command(args);
}

TEST(SplitRunCommand, CutsBeforeTheCommand) {
  SplitCommandLine s = split({"run", "ls", "-l", "--json"});
  EXPECT_EQ(s.options, (Args{"clusterlive", "run"}));
  EXPECT_EQ(s.command, (Args{"ls", "-l", "--json"}));

  s = split({"--json", "--socket", "/tmp/api.sock", "run", "-d", "--name", "x", "make", "-j4"});
  EXPECT_EQ(s.options, (Args{"clusterlive", "--json", "--socket", "/tmp/api.sock", "run", "-d",
                             "--name", "x"}));
  EXPECT_EQ(s.command, (Args{"make", "-j4"}));

  s = split({"--socket=/tmp/api.sock", "run", "--name=x", "--detach", "make"});
  EXPECT_EQ(s.options,
            (Args{"clusterlive", "--socket=/tmp/api.sock", "run", "--name=x", "--detach"}));
  EXPECT_EQ(s.command, (Args{"make"}));
}

TEST(SplitRunCommand, DoubleDashEndsTheOptionsAndIsDropped) {
  SplitCommandLine s = split({"run", "-d", "--", "-weird-name", "--", "x"});
  EXPECT_EQ(s.options, (Args{"clusterlive", "run", "-d"}));
  EXPECT_EQ(s.command, (Args{"-weird-name", "--", "x"}));
  // A command named like a subcommand is the command.
  s = split({"run", "--", "status"});
  EXPECT_EQ(s.command, (Args{"status"}));
  s = split({"run", "status", "--json"});
  EXPECT_EQ(s.command, (Args{"status", "--json"}));
  // "-" alone is a word.
  s = split({"run", "-", "x"});
  EXPECT_EQ(s.command, (Args{"-", "x"}));
}

TEST(SplitRunCommand, NoCommand) {
  SplitCommandLine s = split({"run", "-d"});
  EXPECT_EQ(s.options, (Args{"clusterlive", "run", "-d"}));
  EXPECT_TRUE(s.command.empty());
  s = split({"run", "--"});
  EXPECT_EQ(s.options, (Args{"clusterlive", "run"}));
  EXPECT_TRUE(s.command.empty());
  s = split({"run", "--name"});  // CLI11 says the value is missing
  EXPECT_EQ(s.options, (Args{"clusterlive", "run", "--name"}));
}

TEST(SplitRunCommand, OtherSubcommandsAreLeftWhole) {
  for (const Args& args : {Args{"status", "--json"}, Args{"logs", "-f", "j-3f9a0c12"},
                           Args{"--socket", "run", "status"}, Args{}, Args{"--", "run", "x"}}) {
    SplitCommandLine s = split(args);
    Args whole = args;
    whole.insert(whole.begin(), "clusterlive");
    EXPECT_EQ(s.options, whole);
    EXPECT_TRUE(s.command.empty());
  }
}

TEST(BuildRunRequest, PassesTheEnvironmentButTheDenylist) {
  BuiltRun built =
      build_run_request({"make", "-j4"}, "/cluster/home/ann/src",
                        {"HOME=/home/ann", "LD_PRELOAD=/tmp/evil.so", "EMPTY=", "EQ=a=b",
                         "LD_AUDIT=x", "LD_LIBRARY_PATH=/opt/lib", "HOME=/second", "not a variable",
                         "=nameless", std::string("BAD=\xff\xfe"), "LD_BIND_NOW=1"},
                        "build");
  ASSERT_TRUE(built.request) << built.error;
  EXPECT_EQ(built.request->argv, (Args{"make", "-j4"}));
  EXPECT_EQ(built.request->cwd, "/cluster/home/ann/src");
  EXPECT_EQ(built.request->name, "build");
  EXPECT_EQ(built.request->env,
            (std::map<std::string, std::string>{
                {"HOME", "/home/ann"},
                {"EMPTY", ""},
                {"EQ", "a=b"},
                {"LD_LIBRARY_PATH", "/opt/lib"},
                {"LD_BIND_NOW", "1"}}));
  EXPECT_EQ(built.warnings,
            (Args{"LD_PRELOAD is not passed to the job", "LD_AUDIT is not passed to the job",
                  "the environment variable BAD is not passed to the job: it is not valid UTF-8"}));
}

TEST(BuildRunRequest, RefusesWhatTheApiCannotCarry) {
  BuiltRun built = build_run_request({"cat", std::string("caf\xe9.txt")}, "/", {}, "");
  EXPECT_FALSE(built.request);
  EXPECT_EQ(built.error, "argument 1 is not valid UTF-8; clusterlived takes text only");
  built = build_run_request({std::string("\xff")}, "/", {}, "");
  EXPECT_EQ(built.error, "the command is not valid UTF-8; clusterlived takes text only");
  built = build_run_request({"ls"}, std::string("/tmp/\xff"), {}, "");
  EXPECT_EQ(built.error,
            "the current directory's path is not valid UTF-8; clusterlived takes text only");
  built = build_run_request({"ls"}, "/", {}, std::string(65, 'n'));
  EXPECT_EQ(built.error, "--name is longer than 64 characters");
  built = build_run_request({"ls"}, "/", {}, "a\tb");
  EXPECT_EQ(built.error, "--name contains a control character");
  built = build_run_request({""}, "/", {}, "");
  EXPECT_EQ(built.error, R"("argv"[0], the command, is empty)");
}

TEST(BuildRunRequest, KeepsWithinTheRequestLimit) {
  std::string big(api::kMaxRequestBytes / 2, 'x');
  BuiltRun built = build_run_request({"echo", big}, "/", {"BIG=" + big}, "");
  EXPECT_FALSE(built.request);
  EXPECT_EQ(built.error.substr(0, 55), "the command line and the environment make a request of ");
  EXPECT_NE(built.error.find(" bytes; clusterlived takes at most 65536 (unset large environment "
                             "variables, or pass fewer arguments)"),
            std::string::npos)
      << built.error;
  built = build_run_request({"echo", big}, "/", {}, "");
  EXPECT_TRUE(built.request) << built.error;
}

TEST(ExitCodeForJob, IsTheJobsStatus) {
  api::JobView job;
  job.state = api::kJobExited;
  job.exit_code = 0;
  EXPECT_EQ(exit_code_for_job(job), 0);
  job.exit_code = 3;
  EXPECT_EQ(exit_code_for_job(job), 3);
  job.exit_code = 255;
  EXPECT_EQ(exit_code_for_job(job), 255);
  job.exit_code = 256;
  EXPECT_EQ(exit_code_for_job(job), kExitRunFailed);
  job.exit_code.reset();
  EXPECT_EQ(exit_code_for_job(job), kExitRunFailed);

  job = {};
  job.state = api::kJobKilled;
  job.signal = 9;
  EXPECT_EQ(exit_code_for_job(job), 137);
  job.signal = 15;
  EXPECT_EQ(exit_code_for_job(job), 143);
  job.signal = 0;
  EXPECT_EQ(exit_code_for_job(job), kExitRunFailed);
  job.signal.reset();
  EXPECT_EQ(exit_code_for_job(job), kExitRunFailed);

  job = {};
  job.state = api::kJobLost;
  EXPECT_EQ(exit_code_for_job(job), kExitRunFailed);
  EXPECT_EQ(kExitRunFailed, 125);
}

int g_previous_handler_calls = 0;
void previous_handler(int) { ++g_previous_handler_calls; }

TEST(InterruptCounter, CountsAndRestores) {
  struct sigaction mine {};
  mine.sa_handler = previous_handler;
  sigemptyset(&mine.sa_mask);
  struct sigaction saved[3];
  const int signals[] = {SIGINT, SIGTERM, SIGHUP};
  for (int i = 0; i < 3; ++i) ASSERT_EQ(sigaction(signals[i], &mine, &saved[i]), 0);
  {
    InterruptCounter counter;
    EXPECT_EQ(counter.count(), 0);
    raise(SIGINT);
    raise(SIGTERM);
    raise(SIGHUP);
    EXPECT_EQ(counter.count(), 3);
    EXPECT_EQ(g_previous_handler_calls, 0);
  }
  raise(SIGHUP);
  EXPECT_EQ(g_previous_handler_calls, 1);
  {
    InterruptCounter again;
    EXPECT_EQ(again.count(), 0);  // starts from nothing
  }
  for (int i = 0; i < 3; ++i) sigaction(signals[i], &saved[i], nullptr);
}

}  // namespace
}  // namespace clusterlive::cli
