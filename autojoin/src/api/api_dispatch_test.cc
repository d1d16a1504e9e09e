#include "api/api_dispatch.h"

#include <gtest/gtest.h>

#include "api/api_test_support.h"

namespace clusterlive::api {
namespace {

using test_support::FakeBackend;

const std::string kSecret = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
const Caller kRoot{0, 0, 100};
const Caller kUser{1000, 1000, 200};

std::string join_line(const std::string& secret) {
  return format_request(Request(Command::join, secret));
}

Response answer(FakeBackend& backend, const Caller& caller, std::string_view line) {
  Answer a = answer_request(backend, caller, line);
  ParsedResponse parsed = parse_response(a.line);
  EXPECT_TRUE(parsed.response) << a.line;
  if (!parsed.response) return {};
  EXPECT_EQ(parsed.response->ok, a.ok);
  if (!a.ok) {
    EXPECT_EQ(parsed.response->error.code, a.error_code);
  }
  return *parsed.response;
}

TEST(ApiDispatch, AnyoneMayReadState) {
  FakeBackend backend;
  backend.status_view = test_support::sample_status();
  backend.node_views = test_support::sample_nodes();
  for (const Caller& caller : {kRoot, kUser}) {
    Response status = answer(backend, caller, format_request(Request(Command::status)));
    ASSERT_TRUE(status.ok);
    EXPECT_EQ(status.result, status_result(backend.status_view));
    Response nodes = answer(backend, caller, format_request(Request(Command::nodes)));
    ASSERT_TRUE(nodes.ok);
    EXPECT_EQ(nodes.result["nodes"].size(), 3u);
  }
  EXPECT_EQ(backend.status_calls, 2);
  EXPECT_EQ(backend.nodes_calls, 2);
}

TEST(ApiDispatch, KeyShowIsForRootOnly) {
  FakeBackend backend;
  backend.secret = kSecret;
  Response denied = answer(backend, kUser, format_request(Request(Command::key_show)));
  EXPECT_FALSE(denied.ok);
  EXPECT_EQ(denied.error.code, "permission_denied");
  EXPECT_NE(denied.error.message.find("uid 1000"), std::string::npos) << denied.error.message;
  EXPECT_EQ(backend.secret_calls, 0);

  Response shown = answer(backend, kRoot, format_request(Request(Command::key_show)));
  ASSERT_TRUE(shown.ok);
  EXPECT_EQ(shown.result, (nlohmann::json{{"secret", kSecret}}));
}

TEST(ApiDispatch, KeyShowWithoutSecret) {
  FakeBackend backend;
  Response none = answer(backend, kRoot, format_request(Request(Command::key_show)));
  EXPECT_FALSE(none.ok);
  EXPECT_EQ(none.error.code, "no_secret");
}

TEST(ApiDispatch, CreateIsForRootOnly) {
  FakeBackend backend;
  Response denied = answer(backend, kUser, format_request(Request(Command::create)));
  EXPECT_EQ(denied.error.code, "permission_denied");
  EXPECT_EQ(backend.create_calls, 0);

  Response created = answer(backend, kRoot, format_request(Request(Command::create)));
  ASSERT_TRUE(created.ok);
  EXPECT_EQ(created.result, (nlohmann::json{{"cluster_id", "00112233aabbccdd"}}));
  EXPECT_EQ(backend.create_calls, 1);

  backend.create_answer = {false, "cannot write /var/lib/clusterlive/key: Read-only file system",
                           ""};
  Response failed = answer(backend, kRoot, format_request(Request(Command::create)));
  EXPECT_FALSE(failed.ok);
  EXPECT_EQ(failed.error.code, "failed");
  EXPECT_EQ(failed.error.message, backend.create_answer.error);
}

TEST(ApiDispatch, JoinIsForRootOnlyAndChecksPermissionFirst) {
  FakeBackend backend;
  // A user learns "permission denied" whatever the secret looks like.
  for (const std::string& secret : {kSecret, std::string("nonsense"), std::string()}) {
    Response denied = answer(backend, kUser, join_line(secret));
    EXPECT_EQ(denied.error.code, "permission_denied") << secret;
  }
  EXPECT_TRUE(backend.joined.empty());

  Response bad = answer(backend, kRoot, join_line("nonsense"));
  EXPECT_EQ(bad.error.code, "bad_request");
  Response missing = answer(backend, kRoot, R"({"api":1,"command":"join"})");
  EXPECT_EQ(missing.error.code, "bad_request");
  EXPECT_TRUE(backend.joined.empty());

  Response joined = answer(backend, kRoot, join_line(kSecret));
  ASSERT_TRUE(joined.ok);
  EXPECT_EQ(joined.result, (nlohmann::json{{"cluster_id", "8899aabbccddeeff"}}));
  ASSERT_EQ(backend.joined.size(), 1u);
  EXPECT_EQ(backend.joined[0], kSecret);
}

TEST(ApiDispatch, JoinFailureNeverQuotesTheSecret) {
  FakeBackend backend;
  std::string upper = kSecret;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  backend.join_answer = {false, "cannot store key " + kSecret + " (" + upper + "): disk full", ""};
  Answer a = answer_request(backend, kRoot, join_line(kSecret));
  EXPECT_FALSE(a.ok);
  EXPECT_EQ(a.error_code, "failed");
  EXPECT_EQ(a.line.find(kSecret), std::string::npos) << a.line;
  EXPECT_EQ(a.line.find(upper), std::string::npos) << a.line;
  EXPECT_NE(a.line.find("cannot store key <secret> (<secret>): disk full"), std::string::npos)
      << a.line;
}

TEST(ApiDispatch, ProtocolErrorsAreAnswered) {
  FakeBackend backend;
  EXPECT_EQ(answer(backend, kRoot, "nonsense").error.code, "bad_request");
  EXPECT_EQ(answer(backend, kRoot, R"({"api":9,"command":"status"})").error.code,
            "unsupported_version");
  EXPECT_EQ(answer(backend, kRoot, R"({"api":1,"command":"reboot"})").error.code,
            "unknown_command");
  EXPECT_EQ(backend.status_calls, 0);
}

TEST(ApiDispatch, BackendExceptionsBecomeInternalErrors) {
  FakeBackend backend;
  backend.throw_on_status = true;
  Response broken = answer(backend, kUser, format_request(Request(Command::status)));
  EXPECT_EQ(broken.error.code, "internal");
  EXPECT_NE(broken.error.message.find("status broke"), std::string::npos);
}

TEST(ApiDispatch, AnyoneMayRunAJobAsThemselves) {
  FakeBackend backend;
  RunRequest run;
  run.argv = {"sleep", "10"};
  run.cwd = "/cluster/home/ann";
  run.env = {{"LANG", "C.UTF-8"}};
  Response started = answer(backend, kUser, format_request(run_request(run)));
  ASSERT_TRUE(started.ok) << started.error.message;
  ASSERT_EQ(backend.runs.size(), 1u);
  EXPECT_EQ(backend.runs[0].first.uid, 1000u);
  EXPECT_EQ(backend.runs[0].first.pid, 200);
  EXPECT_EQ(backend.runs[0].second.argv, run.argv);
  EXPECT_EQ(backend.runs[0].second.cwd, run.cwd);
  EXPECT_EQ(backend.runs[0].second.env, run.env);
  std::string error;
  std::optional<JobView> job = parse_job_result(started.result, error);
  ASSERT_TRUE(job) << error;
  EXPECT_EQ(job->id, "j-0badcafe");
  EXPECT_EQ(job->owner_uid, 1000u);
  EXPECT_EQ(job->argv, run.argv);
}

TEST(ApiDispatch, MalformedRunsNeverReachTheBackend) {
  FakeBackend backend;
  for (std::string_view line : {
           R"({"api":1,"command":"run","cwd":"/"})",
           R"({"api":1,"command":"run","argv":[],"cwd":"/"})",
           R"({"api":1,"command":"run","argv":["ls"]})",
           R"({"api":1,"command":"run","argv":["ls"],"cwd":"tmp"})",
           R"({"api":1,"command":"run","argv":["ls"],"cwd":"/","env":{"A":2}})",
           R"({"api":1,"command":"run","argv":["ls"],"cwd":"/","name":"a\nb"})",
       }) {
    Response refused = answer(backend, kUser, line);
    EXPECT_EQ(refused.error.code, "bad_request") << line;
    EXPECT_FALSE(refused.error.message.empty()) << line;
  }
  EXPECT_TRUE(backend.runs.empty());
}

TEST(ApiDispatch, RunFailureIsAnswered) {
  FakeBackend backend;
  backend.run_error = JobResult{false, "failed", "/cluster is not mounted", {}};
  RunRequest run;
  run.argv = {"true"};
  run.cwd = "/";
  Response failed = answer(backend, kUser, format_request(run_request(run)));
  EXPECT_EQ(failed.error.code, "failed");
  EXPECT_EQ(failed.error.message, "/cluster is not mounted");
  // A code the protocol does not have, and no message: "failed", with a message all the same.
  backend.run_error = JobResult{false, "weird", "", {}};
  failed = answer(backend, kUser, format_request(run_request(run)));
  EXPECT_EQ(failed.error.code, "failed");
  EXPECT_EQ(failed.error.message, "run failed");
}

TEST(ApiDispatch, AnyoneMayListAndLookAtJobs) {
  FakeBackend backend;
  backend.job_views = test_support::sample_jobs();
  for (const Caller& caller : {kRoot, kUser}) {
    Response ps = answer(backend, caller, format_request(Request(Command::ps)));
    ASSERT_TRUE(ps.ok);
    EXPECT_EQ(ps.result, jobs_result(backend.job_views));
    // Someone else's job too.
    Response job = answer(backend, caller, format_request(job_request(Command::job, "j-00c0ffee")));
    ASSERT_TRUE(job.ok);
    EXPECT_EQ(job.result, job_result(backend.job_views[1]));
  }
  Response missing =
      answer(backend, kUser, format_request(job_request(Command::job, "j-99999999")));
  EXPECT_EQ(missing.error.code, "not_found");
  EXPECT_EQ(missing.error.message, "no job j-99999999");
  Response bad = answer(backend, kUser, R"({"api":1,"command":"job","job":"3f9a0c12"})");
  EXPECT_EQ(bad.error.code, "bad_request");
  EXPECT_EQ(backend.job_calls, 3);
}

TEST(ApiDispatch, PsSaysWhyItCannotListRatherThanAnsweringAnEmptyList) {
  FakeBackend backend;
  backend.job_views = test_support::sample_jobs();
  backend.jobs_unavailable = "no storage node reachable: /cluster is not mounted (starting)";
  Response ps = answer(backend, kUser, format_request(Request(Command::ps)));
  ASSERT_FALSE(ps.ok);
  EXPECT_EQ(ps.error.code, "failed");
  EXPECT_EQ(ps.error.message, backend.jobs_unavailable);
}

TEST(ApiDispatch, KillIsForTheOwnerAndRoot) {
  FakeBackend backend;
  backend.job_views = test_support::sample_jobs();  // j-3f9a0c12 is uid 1000's
  const Caller other{1001, 1001, 300};
  Response denied =
      answer(backend, other, format_request(job_request(Command::kill, "j-3f9a0c12")));
  EXPECT_EQ(denied.error.code, "permission_denied");
  EXPECT_EQ(denied.error.message, "j-3f9a0c12 belongs to ann");
  Response own = answer(backend, kUser, format_request(job_request(Command::kill, "j-3f9a0c12")));
  ASSERT_TRUE(own.ok) << own.error.message;
  EXPECT_EQ(own.result["id"], "j-3f9a0c12");
  Response root = answer(backend, kRoot, format_request(job_request(Command::kill, "j-00c0ffee")));
  EXPECT_TRUE(root.ok);
  Response missing =
      answer(backend, kRoot, format_request(job_request(Command::kill, "j-99999999")));
  EXPECT_EQ(missing.error.code, "not_found");
  // Without a well-formed id the Backend is not asked.
  EXPECT_EQ(answer(backend, kRoot, R"({"api":1,"command":"kill"})").error.code, "bad_request");
  ASSERT_EQ(backend.kills.size(), 4u);
  EXPECT_EQ(backend.kills[0].first.uid, 1001u);
}

TEST(ApiDispatch, LockAndUnlockAreForTheOwnerAndRoot) {
  FakeBackend backend;
  backend.job_views = test_support::sample_jobs();  // j-3f9a0c12 is uid 1000's, locked
  const Caller other{1001, 1001, 300};
  Response denied =
      answer(backend, other, format_request(job_request(Command::unlock, "j-3f9a0c12")));
  EXPECT_EQ(denied.error.code, "permission_denied");
  EXPECT_EQ(denied.error.message, "j-3f9a0c12 belongs to ann");
  Response own = answer(backend, kUser, format_request(job_request(Command::unlock, "j-3f9a0c12")));
  ASSERT_TRUE(own.ok) << own.error.message;
  EXPECT_EQ(own.result["id"], "j-3f9a0c12");
  EXPECT_EQ(own.result["locked"], false);
  Response again = answer(backend, kRoot, format_request(job_request(Command::lock, "j-3f9a0c12")));
  ASSERT_TRUE(again.ok) << again.error.message;
  EXPECT_EQ(again.result["locked"], true);
  Response ended = answer(backend, kRoot, format_request(job_request(Command::lock, "j-00c0ffee")));
  EXPECT_EQ(ended.error.code, "failed");
  Response missing =
      answer(backend, kRoot, format_request(job_request(Command::lock, "j-99999999")));
  EXPECT_EQ(missing.error.code, "not_found");
  // Without a well-formed id the Backend is not asked.
  EXPECT_EQ(answer(backend, kRoot, R"({"api":1,"command":"lock","job":"x"})").error.code,
            "bad_request");
  ASSERT_EQ(backend.locks.size(), 5u);
  EXPECT_EQ(std::get<0>(backend.locks[0]).uid, 1001u);
  EXPECT_FALSE(std::get<2>(backend.locks[1]));
  EXPECT_TRUE(std::get<2>(backend.locks[2]));
}

TEST(ApiDispatch, MigrateIsForTheOwnerAndRoot) {
  FakeBackend backend;
  backend.job_views = test_support::sample_jobs();  // j-3f9a0c12 is uid 1000's
  const Caller other{1001, 1001, 300};
  Response denied =
      answer(backend, other, format_request(migrate_request({"j-3f9a0c12", "node-c10003"})));
  EXPECT_EQ(denied.error.code, "permission_denied");
  EXPECT_EQ(denied.error.message, "j-3f9a0c12 belongs to ann");

  Response own =
      answer(backend, kUser, format_request(migrate_request({"j-3f9a0c12", "node-c10003"})));
  ASSERT_TRUE(own.ok) << own.error.message;
  std::string error;
  std::optional<JobView> job = parse_job_result(own.result, error);
  ASSERT_TRUE(job) << error;
  EXPECT_EQ(job->state, kJobMigrating);
  ASSERT_TRUE(job->migration);
  EXPECT_EQ(job->migration->target, "node-c10003");
  EXPECT_FALSE(job->migration->ended());

  Response home = answer(backend, kRoot, format_request(migrate_request({"j-00c0ffee", "home"})));
  EXPECT_TRUE(home.ok) << home.error.message;
  Response missing =
      answer(backend, kRoot, format_request(migrate_request({"j-99999999", "home"})));
  EXPECT_EQ(missing.error.code, "not_found");

  ASSERT_EQ(backend.migrations.size(), 4u);
  EXPECT_EQ(backend.migrations[0].first.uid, 1001u);
  EXPECT_EQ(backend.migrations[1].first.pid, 200);
  EXPECT_EQ(backend.migrations[1].second.job, "j-3f9a0c12");
  EXPECT_EQ(backend.migrations[1].second.target, "node-c10003");
  EXPECT_EQ(backend.migrations[2].second.target, "home");  // the Backend resolves "home"
}

TEST(ApiDispatch, MalformedMigratesNeverReachTheBackend) {
  FakeBackend backend;
  backend.job_views = test_support::sample_jobs();
  for (std::string_view line : {
           R"({"api":1,"command":"migrate"})",
           R"({"api":1,"command":"migrate","job":"j-3f9a0c12"})",
           R"({"api":1,"command":"migrate","target":"home"})",
           R"({"api":1,"command":"migrate","job":"j-3f9a0c12","target":""})",
           R"({"api":1,"command":"migrate","job":"j-3f9a0c12","target":"Node-1"})",
           R"({"api":1,"command":"migrate","job":"j-3f9a0c12","target":"a[2J"})",
           R"({"api":1,"command":"migrate","job":"J-3F9A0C12","target":"home"})",
           R"({"api":1,"command":"migrate","job":"j-3f9a0c12","target":7})",
       }) {
    Response refused = answer(backend, kUser, line);
    EXPECT_EQ(refused.error.code, "bad_request") << line;
    EXPECT_FALSE(refused.error.message.empty()) << line;
    EXPECT_EQ(refused.error.message.find('\x1b'), std::string::npos) << line;
  }
  EXPECT_TRUE(backend.migrations.empty());
}

TEST(ApiDispatch, MigrateFailureIsAnswered) {
  FakeBackend backend;
  backend.job_views = test_support::sample_jobs();
  backend.migrate_error =
      JobResult{false, "failed", "j-3f9a0c12 is locked: it uses /dev/video0", {}};
  Request request = migrate_request({"j-3f9a0c12", "node-c10003"});
  Response failed = answer(backend, kUser, format_request(request));
  EXPECT_EQ(failed.error.code, "failed");
  EXPECT_EQ(failed.error.message, "j-3f9a0c12 is locked: it uses /dev/video0");
  backend.migrate_error = JobResult{false, "", "", {}};
  failed = answer(backend, kUser, format_request(request));
  EXPECT_EQ(failed.error.code, "failed");
  EXPECT_EQ(failed.error.message, "migrate failed");
}

TEST(ApiDispatch, RedactSecret) {
  EXPECT_EQ(redact_secret("no secret here", "abc"), "no secret here");
  EXPECT_EQ(redact_secret("abc", "abc"), "<secret>");
  EXPECT_EQ(redact_secret("xABCyabcz", "abc"), "x<secret>y<secret>z");
  EXPECT_EQ(redact_secret("anything", ""), "anything");
  EXPECT_EQ(redact_secret("", "abc"), "");
}

}  // namespace
}  // namespace clusterlive::api
