#include "api/api_protocol.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "api/api_test_support.h"

namespace clusterlive::api {
namespace {

using nlohmann::json;
using test_support::sample_jobs;
using test_support::sample_nodes;
using test_support::sample_status;

const std::string kSecret = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

ApiError parse_error(std::string_view line) {
  ParsedRequest parsed = parse_request(line);
  EXPECT_FALSE(parsed.request) << line;
  return parsed.error;
}

TEST(ApiProtocol, RequestsRoundTrip) {
  for (Command command :
       {Command::status, Command::nodes, Command::key_show, Command::create, Command::join}) {
    Request request(command, command == Command::join ? kSecret : "");
    std::string line = format_request(request);
    EXPECT_EQ(line.find('\n'), std::string::npos);
    ParsedRequest parsed = parse_request(line);
    ASSERT_TRUE(parsed.request) << line;
    EXPECT_EQ(parsed.request->command, command);
    EXPECT_EQ(parsed.request->secret, request.secret);
  }
}

RunRequest sample_run() {
  RunRequest run;
  run.argv = {"make", "-j4", "all"};
  run.cwd = "/cluster/home/ann/src";
  run.env = {{"HOME", "/home/ann"}, {"PATH", "/usr/bin:/bin"}};
  run.name = "build";
  return run;
}

/// The error check_arguments() finds in a run request, "" when there is none.
std::string run_problem(const RunRequest& run) {
  std::optional<ApiError> error = check_arguments(run_request(run));
  if (!error) return "";
  EXPECT_EQ(error->code, "bad_request");
  return error->message;
}

TEST(ApiProtocol, JobRequestsRoundTrip) {
  Request run = run_request(sample_run());
  ParsedRequest parsed = parse_request(format_request(run));
  ASSERT_TRUE(parsed.request) << parsed.error.message;
  EXPECT_EQ(parsed.request->command, Command::run);
  EXPECT_EQ(parsed.request->run.argv, run.run.argv);
  EXPECT_EQ(parsed.request->run.cwd, run.run.cwd);
  EXPECT_EQ(parsed.request->run.env, run.run.env);
  EXPECT_EQ(parsed.request->run.name, "build");

  for (Command command : {Command::job, Command::kill, Command::lock, Command::unlock}) {
    parsed = parse_request(format_request(job_request(command, "j-3f9a0c12")));
    ASSERT_TRUE(parsed.request) << parsed.error.message;
    EXPECT_EQ(parsed.request->command, command);
    EXPECT_EQ(parsed.request->job, "j-3f9a0c12");
  }
  parsed = parse_request(format_request(Request(Command::ps)));
  ASSERT_TRUE(parsed.request);
  EXPECT_EQ(parsed.request->command, Command::ps);

  for (const char* target : {"node-77c2e0", "home", "best"}) {
    parsed = parse_request(format_request(migrate_request({"j-3f9a0c12", target})));
    ASSERT_TRUE(parsed.request) << parsed.error.message;
    EXPECT_EQ(parsed.request->command, Command::migrate);
    EXPECT_EQ(parsed.request->job, "j-3f9a0c12");
    EXPECT_EQ(parsed.request->target, target);
    EXPECT_FALSE(check_arguments(*parsed.request));
  }
}

TEST(ApiProtocol, JobRequestWireFormat) {
  EXPECT_EQ(format_request(run_request(sample_run())),
            R"({"api":1,"argv":["make","-j4","all"],"command":"run",)"
            R"("cwd":"/cluster/home/ann/src","env":{"HOME":"/home/ann","PATH":"/usr/bin:/bin"},)"
            R"("name":"build"})");
  RunRequest unnamed;
  unnamed.argv = {"true"};
  unnamed.cwd = "/";
  EXPECT_EQ(format_request(run_request(unnamed)),
            R"({"api":1,"argv":["true"],"command":"run","cwd":"/","env":{}})");
  EXPECT_EQ(format_request(Request(Command::ps)), R"({"api":1,"command":"ps"})");
  EXPECT_EQ(format_request(job_request(Command::job, "j-3f9a0c12")),
            R"({"api":1,"command":"job","job":"j-3f9a0c12"})");
  EXPECT_EQ(format_request(job_request(Command::kill, "j-3f9a0c12")),
            R"({"api":1,"command":"kill","job":"j-3f9a0c12"})");
  EXPECT_EQ(format_request(job_request(Command::lock, "j-3f9a0c12")),
            R"({"api":1,"command":"lock","job":"j-3f9a0c12"})");
  EXPECT_EQ(format_request(job_request(Command::unlock, "j-3f9a0c12")),
            R"({"api":1,"command":"unlock","job":"j-3f9a0c12"})");
  EXPECT_EQ(format_request(migrate_request({"j-3f9a0c12", "node-77c2e0"})),
            R"({"api":1,"command":"migrate","job":"j-3f9a0c12","target":"node-77c2e0"})");
  // A relaying node's attempt goes along; 0 (none) is left out.
  EXPECT_EQ(format_request(migrate_request({"j-3f9a0c12", "home", 7})),
            R"({"api":1,"attempt":7,"command":"migrate","job":"j-3f9a0c12","target":"home"})");
  ParsedRequest relayed = parse_request(format_request(migrate_request({"j-3f9a0c12", "home", 7})));
  ASSERT_TRUE(relayed.request);
  EXPECT_EQ(relayed.request->attempt, 7u);
  // Members of other commands are not sent.
  Request status(Command::status);
  status.job = "j-3f9a0c12";
  status.target = "node-77c2e0";
  status.run = sample_run();
  EXPECT_EQ(format_request(status), R"({"api":1,"command":"status"})");
  Request kill = job_request(Command::kill, "j-3f9a0c12");
  kill.target = "node-77c2e0";
  EXPECT_EQ(format_request(kill), R"({"api":1,"command":"kill","job":"j-3f9a0c12"})");
}

TEST(ApiProtocol, RunMembersOfTheWrongTypeAreBadRequests) {
  for (std::string_view line : {
           R"({"api":1,"command":"run","argv":"make all","cwd":"/"})",
           R"({"api":1,"command":"run","argv":["make",1],"cwd":"/"})",
           R"({"api":1,"command":"run","argv":[["make"]],"cwd":"/"})",
           R"({"api":1,"command":"run","argv":["make"],"cwd":7})",
           R"({"api":1,"command":"run","argv":["make"],"cwd":"/","env":["A=1"]})",
           R"({"api":1,"command":"run","argv":["make"],"cwd":"/","env":{"A":1}})",
           R"({"api":1,"command":"run","argv":["make"],"cwd":"/","env":{"A":null}})",
           R"({"api":1,"command":"run","argv":["make"],"cwd":"/","name":false})",
           R"({"api":1,"command":"job","job":3})",
           R"({"api":1,"command":"kill","job":["j-3f9a0c12"]})",
           R"({"api":1,"command":"lock","job":true})",
           R"({"api":1,"command":"unlock","job":{}})",
           R"({"api":1,"command":"migrate","job":1,"target":"home"})",
           R"({"api":1,"command":"migrate","job":"j-3f9a0c12","target":7})",
           R"({"api":1,"command":"migrate","job":"j-3f9a0c12","target":{"node":"home"}})",
           R"({"api":1,"command":"migrate","job":"j-3f9a0c12","target":"home","attempt":-1})",
           R"({"api":1,"command":"migrate","job":"j-3f9a0c12","target":"home","attempt":"2"})",
       }) {
    EXPECT_EQ(parse_error(line).code, "bad_request") << line;
  }
  EXPECT_EQ(parse_error(R"({"api":1,"command":"run","argv":"make"})").message,
            R"(member "argv": expected an array of strings)");
  EXPECT_EQ(parse_error(R"({"api":1,"command":"run","argv":["a"],"env":{"A":1}})").message,
            R"(member "env": expected an object whose values are strings)");
  EXPECT_EQ(parse_error(R"({"api":1,"command":"kill","job":3})").message,
            R"("job" is not a string)");
  EXPECT_EQ(parse_error(R"({"api":1,"command":"migrate","job":3,"target":3})").message,
            R"("job" is not a string)");
  EXPECT_EQ(parse_error(R"({"api":1,"command":"migrate","job":"j-3f9a0c12","target":[]})").message,
            R"("target" is not a string)");
  EXPECT_EQ(
      parse_error(R"({"api":1,"command":"migrate","job":"j-3f9a0c12","target":"home","attempt":1.5})")
          .message,
      R"("attempt" is not a number)");
  // "target" belongs to migrate only.
  EXPECT_TRUE(parse_request(R"({"api":1,"command":"kill","job":"j-3f9a0c12","target":5})").request);
  // Members of other commands are not looked at.
  EXPECT_TRUE(parse_request(R"({"api":1,"command":"ps","argv":7,"job":false})").request);
}

TEST(ApiProtocol, EnvironmentValuesNeverAppearInErrors) {
  ApiError error = parse_error(
      R"({"api":1,"command":"run","argv":["a"],"cwd":"/","env":{"TOKEN":"hunter2","X":[1]}})");
  EXPECT_EQ(error.message.find("hunter2"), std::string::npos) << error.message;
  RunRequest run = sample_run();
  run.env["TOKEN"] = std::string("hunter2\0", 8);
  std::string why = run_problem(run);
  EXPECT_EQ(why, R"(the value of the "env" variable TOKEN contains a NUL character)");
  EXPECT_EQ(why.find("hunter2"), std::string::npos);
}

TEST(ApiProtocol, RunArgumentsAreChecked) {
  EXPECT_EQ(run_problem(sample_run()), "");
  RunRequest run = sample_run();
  run.argv.clear();
  EXPECT_EQ(run_problem(run),
            R"(run needs "argv": the command and its arguments, at least one string)");
  run.argv = {""};
  EXPECT_EQ(run_problem(run), R"("argv"[0], the command, is empty)");
  run.argv = {"echo", "", "x"};  // empty arguments are fine
  EXPECT_EQ(run_problem(run), "");
  run.argv = {"echo", std::string("a\0b", 3)};
  EXPECT_EQ(run_problem(run), R"("argv"[1] contains a NUL character, which no argument can hold)");
  run.argv = {"echo", std::string(kMaxArgumentBytes + 1, 'x')};
  EXPECT_EQ(run_problem(run), R"("argv"[1] is longer than 65536 bytes)");
  run.argv.assign(kMaxArgvEntries, "x");
  EXPECT_EQ(run_problem(run), "");
  run.argv.push_back("x");
  EXPECT_EQ(run_problem(run), R"("argv" has 4097 elements; at most 4096 are taken)");

  run = sample_run();
  run.cwd = "";
  EXPECT_EQ(run_problem(run), R"(run needs "cwd": the absolute path of the working directory)");
  run.cwd = "src";
  EXPECT_EQ(run_problem(run), R"("cwd" is not an absolute path)");
  run.cwd = std::string("/a\0b", 4);
  EXPECT_EQ(run_problem(run), R"("cwd" contains a NUL character)");

  run = sample_run();
  run.env[""] = "x";
  EXPECT_EQ(run_problem(run), R"(a variable of "env" has an empty name)");
  run = sample_run();
  run.env["A=B"] = "x";
  EXPECT_EQ(run_problem(run), R"(a variable name of "env" contains "=" or a NUL character)");
  run = sample_run();
  run.env["EMPTY"] = "";  // an empty value is fine
  EXPECT_EQ(run_problem(run), "");
  run.env.clear();  // and so is no environment
  EXPECT_EQ(run_problem(run), "");

  run = sample_run();
  run.name = std::string(kMaxJobNameChars, 'n');
  EXPECT_EQ(run_problem(run), "");
  run.name = "";
  for (size_t i = 0; i < kMaxJobNameChars; ++i) run.name += "\xc3\xa9";  // 64 characters
  EXPECT_EQ(run_problem(run), "");
  run.name += "x";
  EXPECT_EQ(run_problem(run), R"("name" is longer than 64 characters)");
  for (std::string name : {"a\x1b[2Jb", "tab\there", "del\x7f", "c1\xc2\x9b"}) {
    run.name = name;
    EXPECT_EQ(run_problem(run), R"("name" contains a control character)") << name;
  }
}

TEST(ApiProtocol, JobIdsAreChecked) {
  EXPECT_EQ(check_job_id("j-3f9a0c12"), "");
  EXPECT_EQ(check_job_id("j-00000000"), "");
  for (std::string_view bad : {"", "j-", "j-3f9a0c1", "j-3f9a0c123", "j-3F9A0C12", "k-3f9a0c12",
                               "3f9a0c12", "j-3f9a0c1g", "j_3f9a0c12", " j-3f9a0c12"}) {
    EXPECT_NE(check_job_id(bad), "") << bad;
  }
  EXPECT_EQ(check_job_id("x"),
            R"(not a job id ("j-" and 8 lower-case hex digits, such as j-3f9a0c12))");
  std::optional<ApiError> error = check_arguments(job_request(Command::kill, "j-3F9A0C12"));
  ASSERT_TRUE(error);
  EXPECT_EQ(error->code, "bad_request");
  EXPECT_EQ(error->message.substr(0, 19), R"("job": not a job id)");
  error = check_arguments(job_request(Command::job, ""));
  ASSERT_TRUE(error);
  EXPECT_EQ(error->message, R"(job needs "job": a job id such as j-3f9a0c12)");
  EXPECT_FALSE(check_arguments(job_request(Command::kill, "j-3f9a0c12")));
  EXPECT_FALSE(check_arguments(job_request(Command::lock, "j-3f9a0c12")));
  error = check_arguments(job_request(Command::unlock, ""));
  ASSERT_TRUE(error);
  EXPECT_EQ(error->message, R"(unlock needs "job": a job id such as j-3f9a0c12)");
  EXPECT_FALSE(check_arguments(Request(Command::ps)));
}

TEST(ApiProtocol, MigrateTargetsAreChecked) {
  for (std::string_view good : {"home", "best", "node-77c2e0", "a", "pc-2"}) {
    EXPECT_EQ(check_migrate_target(good), "") << good;
  }
  EXPECT_EQ(check_migrate_target(std::string(63, 'n')), "");
  for (std::string_view bad : {"", "Home", "HOME", "Best", "node_77", "-node", "node-", "node 1",
                               "node.lan", "n\x1b[2J", "node-77c2e0\n"}) {
    EXPECT_NE(check_migrate_target(bad), "") << bad;
  }
  EXPECT_NE(check_migrate_target(std::string(64, 'n')), "");
  EXPECT_EQ(check_migrate_target("x y"),
            R"(not a node id (1 to 63 of a-z, 0-9 and "-", not starting or ending with "-", )"
            R"(such as node-77c2e0) nor "home" nor "best")");

  std::optional<ApiError> error = check_arguments(migrate_request({"j-3f9a0c12", ""}));
  ASSERT_TRUE(error);
  EXPECT_EQ(error->code, "bad_request");
  EXPECT_EQ(error->message,
            R"(migrate needs "target": a node id such as node-77c2e0, "home" or "best")");
  error = check_arguments(migrate_request({"j-3f9a0c12", "Node-1"}));
  ASSERT_TRUE(error);
  EXPECT_EQ(error->message.substr(0, 23), R"("target": not a node id)");
  // The job id is checked first, as for kill.
  error = check_arguments(migrate_request({"", "home"}));
  ASSERT_TRUE(error);
  EXPECT_EQ(error->message, R"(migrate needs "job": a job id such as j-3f9a0c12)");
  error = check_arguments(migrate_request({"3f9a0c12", "Node-1"}));
  ASSERT_TRUE(error);
  EXPECT_EQ(error->message.substr(0, 19), R"("job": not a job id)");
  // Missing or null members parse (as empty) and are refused by check_arguments().
  ParsedRequest parsed = parse_request(R"({"api":1,"command":"migrate","job":"j-3f9a0c12",)"
                                       R"("target":null})");
  ASSERT_TRUE(parsed.request);
  EXPECT_TRUE(check_arguments(*parsed.request));
}

TEST(ApiProtocol, Utf8) {
  EXPECT_TRUE(is_valid_utf8(""));
  EXPECT_TRUE(is_valid_utf8("plain"));
  EXPECT_TRUE(is_valid_utf8("caf\xc3\xa9 \xe2\x80\x94 \xf0\x9f\x98\x80"));
  EXPECT_TRUE(is_valid_utf8("\xf4\x8f\xbf\xbf"));  // U+10FFFF
  for (std::string_view bad : {
           "\xff", "\x80", "caf\xc3", "\xc0\xaf",  // overlong '/'
           "\xe0\x80\xaf",                         // overlong '/'
           "\xed\xa0\x80",                         // a surrogate
           "\xf4\x90\x80\x80",                     // past U+10FFFF
           "\xe2\x80",                             // cut short
           "\xc3\x28",                             // not a continuation
       }) {
    EXPECT_FALSE(is_valid_utf8(bad)) << testing::PrintToString(std::string(bad));
  }
}

TEST(ApiProtocol, JobEnvDenylist) {
  EXPECT_TRUE(is_denied_job_env("LD_PRELOAD"));
  EXPECT_TRUE(is_denied_job_env("LD_AUDIT"));
  EXPECT_FALSE(is_denied_job_env("LD_LIBRARY_PATH"));  // conda, CUDA... need it
  EXPECT_FALSE(is_denied_job_env("LD_BIND_NOW"));
  EXPECT_FALSE(is_denied_job_env("ld_preload"));
  EXPECT_FALSE(is_denied_job_env("PATH"));
}

TEST(ApiProtocol, RequestWireFormat) {
  EXPECT_EQ(format_request(Request(Command::status)), R"({"api":1,"command":"status"})");
  EXPECT_EQ(format_request(Request(Command::key_show)), R"({"api":1,"command":"key_show"})");
  EXPECT_EQ(format_request(Request(Command::join, kSecret)),
            R"({"api":1,"command":"join","secret":")" + kSecret + R"("})");
  // A secret is sent with join only.
  EXPECT_EQ(format_request(Request(Command::create, kSecret)), R"({"api":1,"command":"create"})");
}

TEST(ApiProtocol, CommandNames) {
  EXPECT_STREQ(command_name(Command::key_show), "key_show");
  EXPECT_EQ(command_from_name("join"), Command::join);
  EXPECT_EQ(command_from_name("Join"), std::nullopt);
  EXPECT_EQ(command_from_name(""), std::nullopt);
  EXPECT_STREQ(error_code_name(ErrorCode::permission_denied), "permission_denied");
  EXPECT_STREQ(error_code_name(ErrorCode::unsupported_version), "unsupported_version");
  EXPECT_STREQ(error_code_name(ErrorCode::no_secret), "no_secret");
  EXPECT_STREQ(error_code_name(ErrorCode::not_found), "not_found");
  for (const char* name : {"run", "ps", "job", "kill", "migrate", "lock", "unlock"}) {
    std::optional<Command> command = command_from_name(name);
    ASSERT_TRUE(command) << name;
    EXPECT_STREQ(command_name(*command), name);
  }
}

TEST(ApiProtocol, UnknownMembersAreIgnored) {
  ParsedRequest parsed = parse_request(R"({"api":1,"command":"nodes","id":7,"x":[1,{"y":2}]})");
  ASSERT_TRUE(parsed.request);
  EXPECT_EQ(parsed.request->command, Command::nodes);
}

TEST(ApiProtocol, MalformedRequestsAreBadRequests) {
  for (std::string_view line : {
           "",
           "status",
           "{",
           R"({"api":1,"command":"status"} trailing)",
           "[1,2]",
           "\"status\"",
           "{}",
           R"({"command":"status"})",
           R"({"api":"1","command":"status"})",
           R"({"api":1.5,"command":"status"})",
           R"({"api":1})",
           R"({"api":1,"command":null})",
           R"({"api":1,"command":["status"]})",
           R"({"api":1,"command":"join","secret":42})",
       }) {
    EXPECT_EQ(parse_error(line).code, "bad_request") << line;
  }
}

TEST(ApiProtocol, OtherVersionsAreUnsupported) {
  ApiError error = parse_error(R"({"api":2,"command":"status"})");
  EXPECT_EQ(error.code, "unsupported_version");
  EXPECT_NE(error.message.find("version 1"), std::string::npos) << error.message;
  EXPECT_EQ(parse_error(R"({"api":0,"command":"status"})").code, "unsupported_version");
}

TEST(ApiProtocol, UnknownCommandsAreNamedOnlyWhenHarmless) {
  ApiError error = parse_error(R"({"api":1,"command":"reboot"})");
  EXPECT_EQ(error.code, "unknown_command");
  EXPECT_EQ(error.message,
            "unknown command \"reboot\"; known: status, nodes, key_show, create, "
            "join, run, ps, job, kill, migrate, lock, unlock");
  // Anything that is not a short plain word is not echoed (it could be someone's secret, or
  // terminal escapes).
  error = parse_error(R"({"api":1,"command":")" + kSecret + R"("})");
  EXPECT_EQ(error.code, "unknown_command");
  EXPECT_EQ(error.message.find(kSecret.substr(0, 16)), std::string::npos) << error.message;
  error = parse_error(R"({"api":1,"command":"a\u001b[2Jb"})");
  EXPECT_EQ(error.message.find('\x1b'), std::string::npos);
}

TEST(ApiProtocol, SecretNeverAppearsInErrors) {
  const std::string marker = "DEADBEEF" + kSecret.substr(8);
  for (const std::string& line : {
           R"({"api":1,"command":"join","secret":")" + marker + R"(" oops})",
           R"({"api":1,"command":"join","secret":")" + marker,
           R"({"api":1,"command":"join","secret":[")" + marker + R"("]})",
           R"({"api":2,"command":"join","secret":")" + marker + R"("})",
           R"({"api":1,"command":"jion","secret":")" + marker + R"("})",
           R"({"api":1,"command":"join","secret":")" + marker + R"(",)" + std::string(70000, ' ') +
               "}",
       }) {
    ApiError error = parse_error(line);
    EXPECT_EQ(error.message.find("DEADBEEF"), std::string::npos) << error.message;
    EXPECT_EQ(error.message.find("deadbeef"), std::string::npos) << error.message;
  }
}

TEST(ApiProtocol, LimitsSizeAndNesting) {
  std::string padded = R"({"api":1,"command":"status","pad":")";
  padded += std::string(kMaxRequestBytes - padded.size() - 2, 'x') + "\"}";
  ASSERT_EQ(padded.size(), kMaxRequestBytes);
  EXPECT_TRUE(parse_request(padded).request);
  padded.insert(padded.size() - 2, "x");
  EXPECT_EQ(parse_error(padded).code, "bad_request");

  std::string deep =
      R"({"api":1,"command":"status","x":)" + std::string(100, '[') + std::string(100, ']') + "}";
  EXPECT_EQ(parse_error(deep).code, "bad_request");
  // Brackets inside strings do not count.
  std::string in_string = R"({"api":1,"command":"status","x":")" + std::string(100, '[') + "\"}";
  EXPECT_TRUE(parse_request(in_string).request);
}

TEST(ApiProtocol, JoinArgumentsAreCheckedSeparately) {
  // parse_request() takes any string; check_arguments() judges it, after the permission check.
  ParsedRequest parsed = parse_request(R"({"api":1,"command":"join","secret":"short"})");
  ASSERT_TRUE(parsed.request);
  std::optional<ApiError> error = check_arguments(*parsed.request);
  ASSERT_TRUE(error);
  EXPECT_EQ(error->code, "bad_request");
  EXPECT_EQ(error->message.find("short"), std::string::npos);

  parsed = parse_request(R"({"api":1,"command":"join"})");
  ASSERT_TRUE(parsed.request);
  ASSERT_TRUE(check_arguments(*parsed.request));

  std::string upper = kSecret;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_FALSE(check_arguments(Request(Command::join, upper)));
  EXPECT_FALSE(check_arguments(Request(Command::status)));
}

TEST(ApiProtocol, SecretText) {
  EXPECT_EQ(check_secret_text(kSecret), "");
  EXPECT_NE(check_secret_text(kSecret + "0"), "");
  EXPECT_NE(check_secret_text(kSecret.substr(1)), "");
  EXPECT_NE(check_secret_text(" " + kSecret.substr(1)), "");
  std::string bad = kSecret;
  bad[10] = 'g';
  std::string why = check_secret_text(bad);
  EXPECT_NE(why, "");
  EXPECT_EQ(why.find(bad), std::string::npos);
}

TEST(ApiProtocol, OnlyRootMayActOrSeeTheSecret) {
  Caller root;
  Caller user{1000, 1000, 4242};
  for (Command command : {Command::status, Command::nodes}) {
    EXPECT_FALSE(needs_root(command));
    EXPECT_TRUE(is_permitted(command, root));
    EXPECT_TRUE(is_permitted(command, user));
  }
  for (Command command : {Command::key_show, Command::create, Command::join}) {
    EXPECT_TRUE(needs_root(command));
    EXPECT_TRUE(is_permitted(command, root));
    EXPECT_FALSE(is_permitted(command, user));
  }
  // Group 0 is not root.
  EXPECT_FALSE(is_permitted(Command::key_show, Caller{1000, 0, 1}));
  // The job commands are for everyone: the Backend checks who owns the job.
  for (Command command : {Command::run, Command::ps, Command::job, Command::kill, Command::migrate,
                          Command::lock, Command::unlock}) {
    EXPECT_FALSE(needs_root(command));
    EXPECT_TRUE(is_permitted(command, user));
  }
}

TEST(ApiProtocol, OnlyReadingCommandsMayBeSentTwice) {
  for (Command command :
       {Command::status, Command::nodes, Command::key_show, Command::ps, Command::job}) {
    EXPECT_TRUE(only_reads(command)) << command_name(command);
  }
  for (Command command : {Command::create, Command::join, Command::run, Command::kill,
                          Command::migrate, Command::lock, Command::unlock}) {
    EXPECT_FALSE(only_reads(command)) << command_name(command);
  }
}

TEST(ApiProtocol, ResponsesRoundTrip) {
  ParsedResponse ok = parse_response(format_ok({{"cluster_id", "00112233aabbccdd"}}));
  ASSERT_TRUE(ok.response) << ok.error;
  EXPECT_TRUE(ok.response->ok);
  EXPECT_EQ(ok.response->result, (json{{"cluster_id", "00112233aabbccdd"}}));

  ParsedResponse error = parse_response(format_error(ErrorCode::no_secret, "runs alone"));
  ASSERT_TRUE(error.response) << error.error;
  EXPECT_FALSE(error.response->ok);
  EXPECT_EQ(error.response->error.code, "no_secret");
  EXPECT_EQ(error.response->error.message, "runs alone");
}

TEST(ApiProtocol, ResponseWireFormat) {
  EXPECT_EQ(format_ok({{"secret", "ab"}}), R"({"api":1,"ok":true,"result":{"secret":"ab"}})");
  EXPECT_EQ(format_error(ErrorCode::permission_denied, "needs root"),
            R"({"api":1,"error":{"code":"permission_denied","message":"needs root"},"ok":false})");
}

TEST(ApiProtocol, MalformedResponsesAreRejected) {
  for (std::string_view line : {
           "",
           "hello",
           "[]",
           R"({"ok":true,"result":{}})",
           R"({"api":2,"ok":true,"result":{}})",
           R"({"api":1,"result":{}})",
           R"({"api":1,"ok":"yes","result":{}})",
           R"({"api":1,"ok":true})",
           R"({"api":1,"ok":false})",
           R"({"api":1,"ok":false,"error":"bad"})",
           R"({"api":1,"ok":false,"error":{"message":"no code"}})",
       }) {
    ParsedResponse parsed = parse_response(line);
    EXPECT_FALSE(parsed.response) << line;
    EXPECT_FALSE(parsed.error.empty()) << line;
  }
  // A missing message is tolerated.
  ParsedResponse parsed = parse_response(R"({"api":1,"ok":false,"error":{"code":"x"}})");
  ASSERT_TRUE(parsed.response);
  EXPECT_EQ(parsed.response->error.code, "x");
}

TEST(ApiProtocol, StatusJsonShape) {
  json j = status_result(sample_status());
  EXPECT_EQ(j.dump(), R"({"alone_reason":"","cluster_id":"0123456789abcdef",)"
                      R"("counters":{"datagrams_replayed":1,"records_bad_mac":4},)"
                      R"("criu":{"detail":"Looks good.","known":true,"ok":true},)"
                      R"("foreign_nodes":1,"members_dead":2,"members_suspect":1,"members_up":3,)"
                      R"("mesh":{"address":"fd01:2345:6789:0:1122:3344:5566:7788","error":"",)"
                      R"("interface":"clmesh0","listen_port":51820,)"
                      R"("peers":3,"peers_with_recent_handshake":2,)"
                      R"("public_key":"xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=","up":true},)"
                      R"("node":"node-3a9f01","secret_source":"boot medium",)"
                      R"("storage":{"busy_with":"","decision":"node-0a1b2c serves","error":"",)"
                      R"("homes_linked":true,)"
                      R"("mount_point":"/cluster","mounted":true,"pinned":false,)"
                      R"("server":"node-0a1b2c","serving":false},)"
                      R"("uptime_ms":7385000,"version":"0.3.0"})");
}

TEST(ApiProtocol, StatusRoundTrips) {
  StatusView status = sample_status();
  std::string error;
  std::optional<StatusView> back = parse_status_result(status_result(status), error);
  ASSERT_TRUE(back) << error;
  EXPECT_EQ(json(*back), json(status));
  EXPECT_EQ(back->cluster_id, status.cluster_id);
  EXPECT_EQ(back->counters, status.counters);
  EXPECT_EQ(back->mesh.listen_port, 51820);
  EXPECT_EQ(back->storage.server, "node-0a1b2c");
  EXPECT_TRUE(back->storage.mounted);
  EXPECT_TRUE(back->storage.homes_linked);
}

TEST(ApiProtocol, AloneStatusOmitsAbsentMembers) {
  StatusView alone;
  alone.node = "node-000002";
  alone.alone_reason = "no cluster secret";
  json j = status_result(alone);
  EXPECT_FALSE(j.contains("cluster_id"));
  EXPECT_FALSE(j.contains("secret_source"));
  EXPECT_EQ(j["counters"], json::object());
  std::string error;
  std::optional<StatusView> back = parse_status_result(j, error);
  ASSERT_TRUE(back) << error;
  EXPECT_FALSE(back->cluster_id);
  EXPECT_EQ(back->alone_reason, "no cluster secret");

  // null is read as absent, missing members as defaults, unknown members are ignored.
  back = parse_status_result(
      json::parse(R"({"node":"n","cluster_id":null,"secret_source":null,"jobs":[1]})"), error);
  ASSERT_TRUE(back) << error;
  EXPECT_FALSE(back->cluster_id);
  EXPECT_FALSE(back->mesh.up);
}

TEST(ApiProtocol, StatusWithWrongTypesIsRejected) {
  std::string error;
  for (std::string_view text : {
           R"([])",
           R"({"node":5})",
           R"({"members_up":-1})",
           R"({"members_up":"3"})",
           R"({"members_up":1.5})",
           R"({"criu":true})",
           R"({"criu":{"ok":"yes"}})",
           R"({"mesh":{"listen_port":70000}})",
           R"({"counters":[1]})",
           R"({"counters":{"x":-2}})",
           R"({"uptime_ms":true})",
       }) {
    error.clear();
    EXPECT_FALSE(parse_status_result(json::parse(text), error)) << text;
    EXPECT_FALSE(error.empty()) << text;
  }
  parse_status_result(json::parse(R"({"members_up":"3"})"), error);
  EXPECT_NE(error.find("members_up"), std::string::npos) << error;
}

TEST(ApiProtocol, NodesJsonShape) {
  json j = nodes_result(sample_nodes());
  EXPECT_EQ(j["nodes"][0].dump(),
            R"({"addresses":["192.168.1.10","fd01:2345:6789:0:1122:3344:5566:7788"],)"
            R"("cores":4,"cpu_speed":1000,"free_memory_mib":3021,"load":0.52,)"
            R"("name":"node-3a9f01","self":true,"state":"up","state_for_ms":60000})");
  EXPECT_EQ(j["nodes"][2].dump(),
            R"({"addresses":["192.168.1.99"],"cluster_id":"fedcba9876543210",)"
            R"("last_heard_ms_ago":125000,"name":"node-000001","self":false,)"
            R"("state":"foreign","state_for_ms":0})");
}

TEST(ApiProtocol, NodesRoundTrip) {
  std::vector<NodeView> nodes = sample_nodes();
  std::string error;
  std::optional<std::vector<NodeView>> back = parse_nodes_result(nodes_result(nodes), error);
  ASSERT_TRUE(back) << error;
  ASSERT_EQ(back->size(), 3u);
  EXPECT_EQ(json(*back), json(nodes));
  EXPECT_TRUE((*back)[0].self);
  EXPECT_EQ((*back)[1].last_heard_ms_ago, 400);
  EXPECT_FALSE((*back)[2].cores);
  EXPECT_EQ((*back)[2].cluster_id, "fedcba9876543210");

  back = parse_nodes_result(json::parse(R"({"nodes":[]})"), error);
  ASSERT_TRUE(back);
  EXPECT_TRUE(back->empty());
}

TEST(ApiProtocol, NodesWithWrongShapesAreRejected) {
  std::string error;
  for (std::string_view text : {
           R"([])",
           R"({})",
           R"({"nodes":{}})",
           R"({"nodes":[1]})",
           R"({"nodes":[{"cores":65536}]})",
           R"({"nodes":[{"cores":-1}]})",
           R"({"nodes":[{"addresses":"10.0.0.1"}]})",
           R"({"nodes":[{"addresses":[1]}]})",
           R"({"nodes":[{"load":"high"}]})",
           R"({"nodes":[{"self":1}]})",
       }) {
    error.clear();
    EXPECT_FALSE(parse_nodes_result(json::parse(text), error)) << text;
    EXPECT_FALSE(error.empty()) << text;
  }
  parse_nodes_result(json::parse(R"({"nodes":[{},{"cores":-1}]})"), error);
  EXPECT_NE(error.find("nodes[1]"), std::string::npos) << error;
  EXPECT_NE(error.find("cores"), std::string::npos) << error;
  // Nulls are absent values.
  std::optional<std::vector<NodeView>> back = parse_nodes_result(
      json::parse(R"({"nodes":[{"name":"a","load":null,"cores":null}]})"), error);
  ASSERT_TRUE(back);
  EXPECT_FALSE((*back)[0].load);
}

TEST(ApiProtocol, PeerControlledTextNeverBreaksTheEncoder) {
  std::vector<NodeView> nodes = sample_nodes();
  nodes[1].name = std::string("bad\xff\xfe name\n", 11);
  nodes[1].load = std::numeric_limits<double>::quiet_NaN();
  nodes[2].load = std::numeric_limits<double>::infinity();
  std::string line = format_ok(nodes_result(nodes));
  EXPECT_EQ(line.find('\n'), std::string::npos);
  ParsedResponse parsed = parse_response(line);
  ASSERT_TRUE(parsed.response) << parsed.error;
  std::string error;
  std::optional<std::vector<NodeView>> back = parse_nodes_result(parsed.response->result, error);
  ASSERT_TRUE(back) << error;
  EXPECT_FALSE((*back)[1].load);
  EXPECT_FALSE((*back)[2].load);
  EXPECT_EQ((*back)[1].name.substr(0, 3), "bad");
}

TEST(ApiProtocol, SecretAndClusterIdResults) {
  std::string error;
  EXPECT_EQ(secret_result(kSecret).dump(), R"({"secret":")" + kSecret + "\"}");
  EXPECT_EQ(parse_secret_result(secret_result(kSecret), error), kSecret);
  ClusterChange change{true, "", "00112233aabbccdd"};
  EXPECT_EQ(cluster_change_result(change).dump(), R"({"cluster_id":"00112233aabbccdd"})");
  EXPECT_EQ(parse_cluster_id_result(cluster_change_result(change), error), "00112233aabbccdd");
  EXPECT_FALSE(parse_secret_result(json::parse(R"({"secret":1})"), error));
  EXPECT_FALSE(parse_cluster_id_result(json::parse(R"({})"), error));
  EXPECT_FALSE(parse_cluster_id_result(json::parse(R"("00112233aabbccdd")"), error));
}

TEST(ApiProtocol, JobJsonShape) {
  std::vector<JobView> jobs = sample_jobs();
  EXPECT_EQ(job_result(jobs[0]).dump(),
            R"({"argv":["./render","--frames","1-100","scene one.blend"],"cpu_percent":99.5,)"
            R"("home":"node-3a9f01","id":"j-3f9a0c12","locked":true,"migrations":2,)"
            R"("name":"render","owner":"ann","owner_uid":1000,"rss_kib":524288,)"
            R"("spool":"/cluster/jobs/j-3f9a0c12","started_unix_ms":1795255200000,)"
            R"("state":"running","where":"node-77c2e0"})");
  json exited = job_result(jobs[1]);
  EXPECT_EQ(exited["exit_code"], 2);
  EXPECT_FALSE(exited.contains("signal"));
  json killed = job_result(jobs[2]);
  EXPECT_EQ(killed["signal"], 9);
  EXPECT_FALSE(killed.contains("exit_code"));
  EXPECT_EQ(jobs_result(jobs)["jobs"].size(), 3u);
  EXPECT_EQ(jobs_result({}).dump(), R"({"jobs":[]})");
  // A NaN from a broken measurement never breaks the encoder.
  jobs[0].cpu_percent = std::numeric_limits<double>::quiet_NaN();
  EXPECT_EQ(job_result(jobs[0])["cpu_percent"], 0.0);
}

TEST(ApiProtocol, MigrationJsonShape) {
  JobView job = sample_jobs()[0];
  EXPECT_FALSE(job_result(job).contains("migration"));  // absent when there is none
  job.migration = test_support::sample_migration();
  EXPECT_EQ(job_result(job)["migration"].dump(),
            R"({"attempt":3,"bytes_sent":12897484,"outcome":"in_progress","phase":"precopy",)"
            R"("rate_bytes_per_s":8493465,"reason":"","round":2,"target":"node-c10003",)"
            R"("updated_unix_ms":1795262399000})");
  job.migration->freeze_ms = 1234;
  job.migration->outcome = kMigrationCommitted;
  EXPECT_EQ(job_result(job)["migration"]["freeze_ms"], 1234);
}

TEST(ApiProtocol, MigrationRoundTrips) {
  std::vector<JobView> jobs = sample_jobs();
  jobs[0].migration = test_support::sample_migration();
  jobs[1].migration = test_support::sample_migration();
  jobs[1].migration->freeze_ms = 0;  // present, even when 0
  jobs[1].migration->outcome = kMigrationAborted;
  jobs[1].migration->reason = "node-c10003 has 900 MiB available; the job needs 1024 MiB";
  std::string error;
  std::optional<std::vector<JobView>> back = parse_jobs_result(jobs_result(jobs), error);
  ASSERT_TRUE(back) << error;
  EXPECT_EQ(json(*back), json(jobs));
  ASSERT_TRUE((*back)[0].migration);
  EXPECT_FALSE((*back)[0].migration->freeze_ms);
  EXPECT_FALSE((*back)[0].migration->ended());
  EXPECT_EQ((*back)[0].migration->bytes_sent, 12'897'484u);
  EXPECT_EQ((*back)[1].migration->freeze_ms, 0);
  EXPECT_TRUE((*back)[1].migration->ended());
  EXPECT_FALSE((*back)[2].migration);

  // Missing members are defaults, nulls are absent, unknown members are ignored.
  std::optional<JobView> one = parse_job_result(
      json::parse(R"({"id":"j-3f9a0c12","migration":{"target":"node-c10003","freeze_ms":null,)"
                  R"("outcome":"committed","pages":7}})"),
      error);
  ASSERT_TRUE(one) << error;
  ASSERT_TRUE(one->migration);
  EXPECT_EQ(one->migration->target, "node-c10003");
  EXPECT_FALSE(one->migration->freeze_ms);
  EXPECT_EQ(one->migration->round, 0u);
  EXPECT_TRUE(one->migration->ended());
  one = parse_job_result(json::parse(R"({"id":"j-3f9a0c12","migration":null})"), error);
  ASSERT_TRUE(one) << error;
  EXPECT_FALSE(one->migration);

  MigrationView view;
  view.outcome = kMigrationInProgress;
  EXPECT_FALSE(view.ended());
  for (const char* outcome : {kMigrationCommitted, kMigrationAborted, kMigrationLost}) {
    view.outcome = outcome;
    EXPECT_TRUE(view.ended()) << outcome;
  }
}

TEST(ApiProtocol, MigrationsWithWrongShapesAreRejected) {
  std::string error;
  for (std::string_view text : {
           R"({"migration":[]})",
           R"({"migration":"node-c10003"})",
           R"({"migration":{"target":5}})",
           R"({"migration":{"attempt":-1}})",
           R"({"migration":{"attempt":"3"}})",
           R"({"migration":{"round":4294967296}})",
           R"({"migration":{"bytes_sent":-5}})",
           R"({"migration":{"rate_bytes_per_s":1.5}})",
           R"({"migration":{"freeze_ms":"1.2 s"}})",
           R"({"migration":{"outcome":true}})",
           R"({"migration":{"reason":["x"]}})",
           R"({"migration":{"updated_unix_ms":{}}})",
       }) {
    error.clear();
    EXPECT_FALSE(parse_job_result(json::parse(text), error)) << text;
    EXPECT_FALSE(error.empty()) << text;
  }
  parse_jobs_result(json::parse(R"({"jobs":[{"migration":{"round":"two"}}]})"), error);
  EXPECT_EQ(error, R"(jobs[0]: member "round": expected an integer)");
}

TEST(ApiProtocol, JobsRoundTrip) {
  std::vector<JobView> jobs = sample_jobs();
  std::string error;
  std::optional<std::vector<JobView>> back = parse_jobs_result(jobs_result(jobs), error);
  ASSERT_TRUE(back) << error;
  EXPECT_EQ(json(*back), json(jobs));
  EXPECT_EQ((*back)[1].exit_code, 2);
  EXPECT_FALSE((*back)[1].signal);
  EXPECT_EQ((*back)[2].signal, 9);
  EXPECT_EQ((*back)[0].argv[3], "scene one.blend");
  EXPECT_TRUE((*back)[0].locked);

  std::optional<JobView> one = parse_job_result(job_result(jobs[0]), error);
  ASSERT_TRUE(one) << error;
  EXPECT_EQ(one->id, "j-3f9a0c12");
  EXPECT_EQ(one->rss_kib, 524'288u);
  EXPECT_FALSE(one->ended());
  EXPECT_TRUE((*back)[1].ended());
  EXPECT_TRUE((*back)[2].ended());
  JobView lost;
  lost.state = kJobLost;
  EXPECT_TRUE(lost.ended());
  lost.state = kJobMigrating;
  EXPECT_FALSE(lost.ended());

  // Missing members are defaults, nulls are absent, unknown members are ignored.
  one =
      parse_job_result(json::parse(R"({"id":"j-3f9a0c12","exit_code":null,"node_pid":7})"), error);
  ASSERT_TRUE(one) << error;
  EXPECT_FALSE(one->exit_code);
  EXPECT_TRUE(one->argv.empty());
}

TEST(ApiProtocol, JobsWithWrongShapesAreRejected) {
  std::string error;
  for (std::string_view text : {
           R"([])",
           R"({})",
           R"({"jobs":{}})",
           R"({"jobs":[1]})",
           R"({"jobs":[{"argv":"make"}]})",
           R"({"jobs":[{"exit_code":"0"}]})",
           R"({"jobs":[{"exit_code":3000000000}]})",
           R"({"jobs":[{"owner_uid":-1}]})",
           R"({"jobs":[{"rss_kib":-1}]})",
           R"({"jobs":[{"cpu_percent":"high"}]})",
           R"({"jobs":[{"locked":1}]})",
           R"({"jobs":[{"spool":null,"id":5}]})",
       }) {
    error.clear();
    EXPECT_FALSE(parse_jobs_result(json::parse(text), error)) << text;
    EXPECT_FALSE(error.empty()) << text;
  }
  parse_jobs_result(json::parse(R"({"jobs":[{},{"signal":"KILL"}]})"), error);
  EXPECT_EQ(error, R"(jobs[1]: member "signal": expected an integer)");
  EXPECT_FALSE(parse_job_result(json::parse(R"("j-3f9a0c12")"), error));
}

TEST(ApiProtocol, WipeEmptiesAndZeroes) {
  std::string text = kSecret;
  const char* data = text.data();
  wipe(text);
  EXPECT_TRUE(text.empty());
  EXPECT_EQ(data[0], '\0');
  EXPECT_EQ(data[10], '\0');
}

}  // namespace
}  // namespace clusterlive::api
