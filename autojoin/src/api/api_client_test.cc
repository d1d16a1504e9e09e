#include "api/api_client.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <thread>

#include "api/api_test_support.h"

namespace clusterlive::api {
namespace {

using test_support::TempDir;

/// A listening socket the test answers by hand (no daemon): `answer` runs on a thread with the
/// accepted connection.
class HandServer {
 public:
  explicit HandServer(const std::string& path) {
    fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    EXPECT_EQ(listen(fd_, 4), 0);
  }
  ~HandServer() {
    if (thread_.joinable()) thread_.join();
    close(fd_);
  }
  template <typename F>
  void serve_one(F answer) {
    thread_ = std::thread([this, answer] {
      int connection = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (connection < 0) return;
      answer(connection);
      close(connection);
    });
  }

 private:
  int fd_ = -1;
  std::thread thread_;
};

std::string read_request(int fd) {
  std::string text;
  char c;
  while (recv(fd, &c, 1, 0) == 1 && c != '\n') text.push_back(c);
  return text;
}

void send_text(int fd, const std::string& text) {
  ssize_t ignored = send(fd, text.data(), text.size(), MSG_NOSIGNAL);
  (void)ignored;
}

TEST(ApiClient, NoSocketMeansNotRunning) {
  TempDir dir;
  Client client(dir / "api.sock");
  CallResult result = client.call(Request(Command::status));
  EXPECT_EQ(result.status, CallStatus::not_running);
  EXPECT_EQ(result.message, "clusterlived is not running (no socket at " + dir / "api.sock" + ")");

  Client no_dir(dir / "missing/api.sock");
  EXPECT_EQ(no_dir.call(Request(Command::status)).status, CallStatus::not_running);
}

TEST(ApiClient, StaleSocketMeansNotRunning) {
  TempDir dir;
  int stale = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, (dir / "api.sock").c_str(), sizeof address.sun_path - 1);
  ASSERT_EQ(bind(stale, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  close(stale);
  Client client(dir / "api.sock");
  CallResult result = client.call(Request(Command::status));
  EXPECT_EQ(result.status, CallStatus::not_running);
  EXPECT_NE(result.message.find("nothing listens"), std::string::npos) << result.message;
}

TEST(ApiClient, SilentDaemonTimesOut) {
  TempDir dir;
  HandServer server(dir / "api.sock");  // listens, never accepts
  Client client(dir / "api.sock", ClientOptions{200, kMaxResponseBytes});
  auto start = std::chrono::steady_clock::now();
  CallResult result = client.call(Request(Command::status));
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(result.status, CallStatus::unreachable);
  EXPECT_NE(result.message.find("did not answer within 200 ms"), std::string::npos)
      << result.message;
  EXPECT_LT(took, std::chrono::seconds(2));
}

TEST(ApiClient, GarbageIsAProtocolError) {
  TempDir dir;
  HandServer server(dir / "api.sock");
  server.serve_one([](int fd) {
    read_request(fd);
    send_text(fd, "hello there\n");
  });
  Client client(dir / "api.sock");
  CallResult result = client.call(Request(Command::status));
  EXPECT_EQ(result.status, CallStatus::protocol_error);
  EXPECT_NE(result.message.find("not valid JSON"), std::string::npos) << result.message;
}

TEST(ApiClient, OverlongAnswerIsAProtocolError) {
  TempDir dir;
  HandServer server(dir / "api.sock");
  server.serve_one([](int fd) {
    read_request(fd);
    send_text(fd, std::string(100'000, 'x'));
  });
  Client client(dir / "api.sock", ClientOptions{5000, 1024});
  CallResult result = client.call(Request(Command::status));
  EXPECT_EQ(result.status, CallStatus::protocol_error);
  EXPECT_NE(result.message.find("longer than 1024"), std::string::npos) << result.message;
}

TEST(ApiClient, HangUpWithoutAnswer) {
  TempDir dir;
  HandServer server(dir / "api.sock");
  server.serve_one([](int fd) { read_request(fd); });
  Client client(dir / "api.sock");
  CallResult result = client.call(Request(Command::status));
  EXPECT_EQ(result.status, CallStatus::unreachable);
  EXPECT_NE(result.message.find("without answering"), std::string::npos) << result.message;
}

TEST(ApiClient, SendsOneLineAndReadsOneAnswer) {
  TempDir dir;
  HandServer server(dir / "api.sock");
  std::string seen;
  server.serve_one([&seen](int fd) {
    seen = read_request(fd);
    send_text(fd, format_ok({{"cluster_id", "00112233aabbccdd"}}) + "\r\n");
  });
  Client client(dir / "api.sock");
  CallResult result = client.call(Request(Command::create));
  ASSERT_EQ(result.status, CallStatus::answered) << result.message;
  EXPECT_TRUE(result.response.ok);
  EXPECT_EQ(result.response.result["cluster_id"], "00112233aabbccdd");
  // `seen` is written by the thread; the answer arrived after it was set.
  EXPECT_EQ(seen, R"({"api":1,"command":"create"})");
}

TEST(ApiClient, RunJobSendsTheRequestAndReadsTheJob) {
  TempDir dir;
  HandServer server(dir / "api.sock");
  std::string seen;
  JobView started = test_support::sample_jobs()[0];
  server.serve_one([&seen, started](int fd) {
    seen = read_request(fd);
    send_text(fd, format_ok(job_result(started)) + "\n");
  });
  Client client(dir / "api.sock");
  RunRequest run;
  run.argv = {"./render", "--frames", "1-100"};
  run.cwd = "/cluster/home/ann";
  run.env = {{"LANG", "C.UTF-8"}};
  Reply<JobView> reply = client.run_job(run);
  ASSERT_TRUE(reply.value) << reply.call.message;
  EXPECT_EQ(reply.call.status, CallStatus::answered);
  EXPECT_EQ(reply.value->id, "j-3f9a0c12");
  EXPECT_EQ(reply.call.response.result, job_result(started));  // as sent, for --json
  EXPECT_EQ(seen, format_request(run_request(run)));
}

TEST(ApiClient, MigrateJobSendsTheRequestAndReadsTheJob) {
  TempDir dir;
  HandServer server(dir / "api.sock");
  std::string seen;
  JobView migrating = test_support::sample_jobs()[0];
  migrating.state = kJobMigrating;
  migrating.migration = test_support::sample_migration();
  server.serve_one([&seen, migrating](int fd) {
    seen = read_request(fd);
    send_text(fd, format_ok(job_result(migrating)) + "\n");
  });
  Client client(dir / "api.sock");
  Reply<JobView> reply = client.migrate_job({"j-3f9a0c12", "node-c10003"});
  ASSERT_TRUE(reply.value) << reply.call.message;
  ASSERT_TRUE(reply.value->migration);
  EXPECT_EQ(reply.value->migration->round, 2u);
  EXPECT_EQ(seen, R"({"api":1,"command":"migrate","job":"j-3f9a0c12","target":"node-c10003"})");
}

TEST(ApiClient, LockSendsTheJobAndReadsItBack) {
  TempDir dir;
  HandServer server(dir / "api.sock");
  std::string seen;
  JobView locked = test_support::sample_jobs()[0];
  server.serve_one([&seen, locked](int fd) {
    seen = read_request(fd);
    send_text(fd, format_ok(job_result(locked)) + "\n");
  });
  Client client(dir / "api.sock");
  Reply<JobView> reply = client.set_job_locked("j-3f9a0c12", true);
  ASSERT_TRUE(reply.value) << reply.call.message;
  EXPECT_TRUE(reply.value->locked);
  EXPECT_EQ(seen, R"({"api":1,"command":"lock","job":"j-3f9a0c12"})");
}

TEST(ApiClient, TypedRepliesCarryErrorAnswers) {
  TempDir dir;
  HandServer server(dir / "api.sock");
  server.serve_one([](int fd) {
    read_request(fd);
    send_text(fd, format_error(ErrorCode::not_found, "no job j-99999999") + "\n");
  });
  Client client(dir / "api.sock");
  Reply<JobView> reply = client.kill_job("j-99999999");
  EXPECT_FALSE(reply.value);
  EXPECT_EQ(reply.call.status, CallStatus::answered);
  EXPECT_FALSE(reply.call.response.ok);
  EXPECT_EQ(reply.call.response.error.code, "not_found");
  EXPECT_EQ(reply.call.response.error.message, "no job j-99999999");
}

TEST(ApiClient, TypedReplyOfTheWrongShapeIsAProtocolError) {
  TempDir dir;
  HandServer server(dir / "api.sock");
  server.serve_one([](int fd) {
    read_request(fd);
    send_text(fd, format_ok({{"jobs", {{{"id", 12}}}}}) + "\n");
  });
  Client client(dir / "api.sock");
  Reply<std::vector<JobView>> reply = client.jobs();
  EXPECT_FALSE(reply.value);
  EXPECT_EQ(reply.call.status, CallStatus::protocol_error);
  EXPECT_EQ(reply.call.message,
            R"(clusterlived's answer is not understood: jobs[0]: member "id": expected a string)");
}

TEST(ApiClient, TypedRepliesWithoutADaemon) {
  TempDir dir;
  Client client(dir / "api.sock");
  Reply<JobView> reply = client.job("j-3f9a0c12");
  EXPECT_FALSE(reply.value);
  EXPECT_EQ(reply.call.status, CallStatus::not_running);
}

TEST(ApiClient, SocketThatRefusesUsIsPermissionDenied) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to run a child as nobody";
  TempDir dir;
  ASSERT_EQ(mkdir((dir / "private").c_str(), 0700), 0);
  HandServer server(dir / "private/api.sock");
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    if (setgid(65534) != 0 || setuid(65534) != 0) _exit(10);
    Client client(dir / "private/api.sock");
    CallResult result = client.call(Request(Command::status));
    _exit(result.status == CallStatus::permission_denied ? 0 : 11);
  }
  int wstatus = 0;
  ASSERT_EQ(waitpid(child, &wstatus, 0), child);
  ASSERT_TRUE(WIFEXITED(wstatus));
  EXPECT_EQ(WEXITSTATUS(wstatus), 0);
}

}  // namespace
}  // namespace clusterlive::api
