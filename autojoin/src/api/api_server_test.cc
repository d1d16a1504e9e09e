#include "api/api_server.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <thread>

#include "api/api_client.h"
#include "api/api_test_support.h"

namespace clusterlive::api {
namespace {

using test_support::FakeBackend;
using test_support::PollLoop;
using test_support::TempDir;

const std::string kSecret = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

sockaddr_un unix_address(const std::string& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
  return address;
}

/// A connection the test drives byte by byte, pumping the server's loop while it waits.
class RawClient {
 public:
  RawClient(PollLoop& loop, const std::string& path) : loop_(loop) {
    fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un address = unix_address(path);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  }
  ~RawClient() { close_now(); }
  bool connected() const { return connected_; }
  void close_now() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }
  void shutdown_write() { shutdown(fd_, SHUT_WR); }

  /// Sends everything, running the loop whenever the socket is full.
  bool send_text(const std::string& text) {
    size_t sent = 0;
    return loop_.run_until([&] {
      ssize_t n = send(fd_, text.data() + sent, text.size() - sent, MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n > 0) sent += static_cast<size_t>(n);
      return sent == text.size() || (n < 0 && errno != EAGAIN);
    }) && sent == text.size();
  }
  /// The next line (without newline); nullopt if the server closed first or time ran out.
  std::optional<std::string> read_line(int timeout_ms = 5000) {
    loop_.run_until([&] { return buffer_.find('\n') != std::string::npos || fill() == 0; },
                    timeout_ms);
    size_t newline = buffer_.find('\n');
    if (newline == std::string::npos) return std::nullopt;
    std::string line = buffer_.substr(0, newline);
    buffer_.erase(0, newline + 1);
    return line;
  }
  /// True once the server has closed the connection (EOF or reset) within the time given.
  bool closed_by_server(int timeout_ms = 5000) {
    return loop_.run_until([&] { return fill() == 0 || eof_; }, timeout_ms);
  }

 private:
  /// Reads what is there: >0 bytes read, 0 at EOF or reset, -1 nothing yet.
  ssize_t fill() {
    char chunk[65536];
    ssize_t n = recv(fd_, chunk, sizeof chunk, MSG_DONTWAIT);
    if (n > 0) {
      buffer_.append(chunk, static_cast<size_t>(n));
      return n;
    }
    if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
      eof_ = true;
      return 0;
    }
    return -1;
  }

  PollLoop& loop_;
  int fd_ = -1;
  bool connected_ = false;
  bool eof_ = false;
  std::string buffer_;
};

Response parse(const std::optional<std::string>& line) {
  EXPECT_TRUE(line);
  if (!line) return {};
  ParsedResponse parsed = parse_response(*line);
  EXPECT_TRUE(parsed.response) << *line;
  return parsed.response.value_or(Response{});
}

class ApiServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    backend_.status_view = test_support::sample_status();
    backend_.node_views = test_support::sample_nodes();
    backend_.secret = kSecret;
    options_.socket_path = socket_path_;
  }
  void start() {
    std::string error;
    server_ = Server::start(loop_.poll(), backend_, options_, error);
    ASSERT_TRUE(server_) << error;
  }

  TempDir dir_;
  const std::string socket_path_ = dir_ / "run/api.sock";
  PollLoop loop_;
  FakeBackend backend_;
  ServerOptions options_;
  std::unique_ptr<Server> server_;
};

TEST_F(ApiServerTest, CreatesItsDirectoryAndAWorldWritableSocket) {
  ::umask(022);
  start();
  struct stat st {};
  ASSERT_EQ(stat((dir_ / "run").c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0755u);
  ASSERT_EQ(lstat(socket_path_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0666u);
  EXPECT_EQ(server_->socket_path(), socket_path_);
}

TEST_F(ApiServerTest, AnswersTheBlockingClient) {
  start();
  CallResult result = loop_.run_beside([&] {
    Client client(socket_path_);
    return client.call(Request(Command::status));
  });
  ASSERT_EQ(result.status, CallStatus::answered) << result.message;
  ASSERT_TRUE(result.response.ok);
  std::string error;
  std::optional<StatusView> status = parse_status_result(result.response.result, error);
  ASSERT_TRUE(status) << error;
  EXPECT_EQ(status->node, "node-3a9f01");
  EXPECT_EQ(status->counters, backend_.status_view.counters);
}

TEST_F(ApiServerTest, SeveralRequestsOnOneConnection) {
  start();
  auto results = loop_.run_beside([&] {
    Client client(socket_path_);
    std::vector<CallResult> out;
    out.push_back(client.call(Request(Command::nodes)));
    out.push_back(client.call(Request(Command::key_show)));
    out.push_back(client.call(Request(Command::join, kSecret)));
    out.push_back(client.call(Request(Command::create)));
    return out;
  });
  ASSERT_EQ(results.size(), 4u);
  for (const CallResult& r : results) {
    ASSERT_EQ(r.status, CallStatus::answered) << r.message;
    EXPECT_TRUE(r.response.ok);
  }
  EXPECT_EQ(results[0].response.result["nodes"].size(), 3u);
  EXPECT_EQ(results[1].response.result["secret"], kSecret);  // the test runs as root
  EXPECT_EQ(results[2].response.result["cluster_id"], "8899aabbccddeeff");
  EXPECT_EQ(results[3].response.result["cluster_id"], "00112233aabbccdd");
  ASSERT_EQ(backend_.joined.size(), 1u);
  EXPECT_EQ(backend_.joined[0], kSecret);
  EXPECT_EQ(server_->stats().connections_accepted, 1u);
  EXPECT_EQ(server_->stats().requests_answered, 4u);
}

TEST_F(ApiServerTest, PipelinedRequestsAreAnsweredInOrder) {
  start();
  RawClient raw(loop_, socket_path_);
  ASSERT_TRUE(raw.connected());
  ASSERT_TRUE(raw.send_text(format_request(Request(Command::status)) + "\n" +
                            "\r\n   \n" +  // blank lines are skipped
                            format_request(Request(Command::nodes)) + "\r\n" + "garbage\n" +
                            format_request(Request(Command::key_show)) + "\n"));
  Response first = parse(raw.read_line());
  EXPECT_TRUE(first.ok);
  EXPECT_EQ(first.result["node"], "node-3a9f01");
  Response second = parse(raw.read_line());
  EXPECT_TRUE(second.result.contains("nodes"));
  Response third = parse(raw.read_line());
  EXPECT_EQ(third.error.code, "bad_request");
  Response fourth = parse(raw.read_line());
  EXPECT_EQ(fourth.result["secret"], kSecret);
  EXPECT_EQ(server_->stats().requests_answered, 4u);
  EXPECT_EQ(server_->stats().requests_refused, 1u);
}

TEST_F(ApiServerTest, LastRequestMayLackItsNewlineAtEndOfInput) {
  start();
  RawClient raw(loop_, socket_path_);
  ASSERT_TRUE(raw.send_text(format_request(Request(Command::status))));
  raw.shutdown_write();
  EXPECT_TRUE(parse(raw.read_line()).ok);
  EXPECT_TRUE(raw.closed_by_server());
  EXPECT_TRUE(loop_.run_until([&] { return server_->client_count() == 0; }));
}

TEST_F(ApiServerTest, RequestLineAtTheLimitIsAnswered) {
  start();
  std::string line = R"({"api":1,"command":"status","pad":")";
  line += std::string(kMaxRequestBytes - line.size() - 2, 'x') + "\"}";
  ASSERT_EQ(line.size(), kMaxRequestBytes);
  RawClient raw(loop_, socket_path_);
  ASSERT_TRUE(raw.send_text(line + "\n"));
  EXPECT_TRUE(parse(raw.read_line()).ok);
  ASSERT_TRUE(raw.send_text(format_request(Request(Command::nodes)) + "\n"));
  EXPECT_TRUE(parse(raw.read_line()).ok);
}

TEST_F(ApiServerTest, OverlongRequestGetsAnErrorAndIsClosed) {
  start();
  RawClient raw(loop_, socket_path_);
  ASSERT_TRUE(raw.send_text(std::string(kMaxRequestBytes + 100, 'x')));
  Response response = parse(raw.read_line());
  EXPECT_EQ(response.error.code, "bad_request");
  EXPECT_NE(response.error.message.find("65536"), std::string::npos) << response.error.message;
  EXPECT_TRUE(raw.closed_by_server());
  EXPECT_EQ(server_->stats().requests_too_long, 1u);
  EXPECT_EQ(backend_.status_calls, 0);

  // With a newline after the limit, too.
  RawClient second(loop_, socket_path_);
  ASSERT_TRUE(second.send_text(std::string(kMaxRequestBytes + 1, ' ') + "\n"));
  EXPECT_EQ(parse(second.read_line()).error.code, "bad_request");
  EXPECT_TRUE(second.closed_by_server());
}

TEST_F(ApiServerTest, ExtraClientsAreTurnedAway) {
  options_.max_clients = 3;
  start();
  std::vector<std::unique_ptr<RawClient>> clients;
  for (int i = 0; i < 3; ++i) {
    clients.push_back(std::make_unique<RawClient>(loop_, socket_path_));
    ASSERT_TRUE(clients.back()->connected());
  }
  ASSERT_TRUE(loop_.run_until([&] { return server_->client_count() == 3; }));
  RawClient extra(loop_, socket_path_);
  ASSERT_TRUE(extra.connected());
  Response busy = parse(extra.read_line());
  EXPECT_EQ(busy.error.code, "busy");
  EXPECT_TRUE(extra.closed_by_server());
  EXPECT_EQ(server_->client_count(), 3u);
  EXPECT_EQ(server_->stats().connections_refused_busy, 1u);

  // The ones in are still served, and a place frees up when one leaves.
  ASSERT_TRUE(clients[0]->send_text(format_request(Request(Command::status)) + "\n"));
  EXPECT_TRUE(parse(clients[0]->read_line()).ok);
  clients[1].reset();
  ASSERT_TRUE(loop_.run_until([&] { return server_->client_count() == 2; }));
  CallResult result = loop_.run_beside([&] {
    Client client(socket_path_);
    return client.call(Request(Command::nodes));
  });
  EXPECT_EQ(result.status, CallStatus::answered) << result.message;
}

TEST_F(ApiServerTest, BusyRefusalReachesTheBlockingClient) {
  options_.max_clients = 1;
  start();
  RawClient holder(loop_, socket_path_);
  ASSERT_TRUE(loop_.run_until([&] { return server_->client_count() == 1; }));
  CallResult result = loop_.run_beside([&] {
    Client client(socket_path_);
    return client.call(Request(Command::status));
  });
  // Whether the refusal comes before or after the request was sent, the client reads it.
  ASSERT_EQ(result.status, CallStatus::answered) << result.message;
  EXPECT_EQ(result.response.error.code, "busy");
  EXPECT_NE(result.response.error.message.find("too many clients (1)"), std::string::npos);
}

TEST_F(ApiServerTest, IdleClientsAreClosed) {
  options_.idle_timeout_ms = 400;
  start();
  RawClient idle(loop_, socket_path_);
  RawClient busy(loop_, socket_path_);
  ASSERT_TRUE(loop_.run_until([&] { return server_->client_count() == 2; }));
  // `busy` keeps talking every 50 ms; `idle` says nothing.
  auto started = std::chrono::steady_clock::now();
  while (server_->stats().connections_closed_idle == 0 &&
         std::chrono::steady_clock::now() - started < std::chrono::seconds(5)) {
    loop_.run_for(50);
    ASSERT_TRUE(busy.send_text(format_request(Request(Command::status)) + "\n"));
    ASSERT_TRUE(parse(busy.read_line()).ok);
  }
  EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(350));
  EXPECT_TRUE(idle.closed_by_server(1000));
  EXPECT_EQ(server_->stats().connections_closed_idle, 1u);
  EXPECT_EQ(server_->client_count(), 1u);
  // Once quiet, `busy` goes the same way.
  EXPECT_TRUE(busy.closed_by_server(2000));
  EXPECT_EQ(server_->client_count(), 0u);
}

TEST_F(ApiServerTest, KeptConnectionClosedForIdlenessIsReopenedForReads) {
  options_.idle_timeout_ms = 100;
  start();
  auto results = loop_.run_beside([&] {
    Client client(socket_path_);
    std::vector<CallResult> out;
    out.push_back(client.call(Request(Command::status)));
    std::this_thread::sleep_for(std::chrono::milliseconds(400));  // the server closes it
    out.push_back(client.call(Request(Command::nodes)));
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
    out.push_back(client.call(Request(Command::create)));  // acts: not sent twice
    out.push_back(client.call(Request(Command::create)));  // a fresh connection
    return out;
  });
  ASSERT_EQ(results.size(), 4u);
  EXPECT_EQ(results[0].status, CallStatus::answered) << results[0].message;
  EXPECT_EQ(results[1].status, CallStatus::answered) << results[1].message;
  EXPECT_EQ(results[2].status, CallStatus::unreachable) << results[2].message;
  EXPECT_EQ(results[3].status, CallStatus::answered) << results[3].message;
  EXPECT_EQ(backend_.create_calls, 1);
  EXPECT_EQ(server_->stats().connections_closed_idle, 2u);
}

TEST_F(ApiServerTest, ClientVanishingMidAnswerDoesNotHurt) {
  // An answer of several MiB: the client leaves before reading it. Without MSG_NOSIGNAL the
  // SIGPIPE would kill this test process.
  backend_.node_views.assign(20'000, test_support::sample_nodes()[1]);
  start();
  {
    RawClient leaver(loop_, socket_path_);
    ASSERT_TRUE(leaver.send_text(format_request(Request(Command::nodes)) + "\n"));
    ASSERT_TRUE(loop_.run_until([&] { return backend_.nodes_calls == 1; }));
  }
  EXPECT_TRUE(loop_.run_until([&] { return server_->client_count() == 0; }));
  {
    RawClient quitter(loop_, socket_path_);  // sends half a request, then leaves
    ASSERT_TRUE(quitter.send_text(R"({"api":1,"comm)"));
    loop_.run_for(20);
  }
  EXPECT_TRUE(loop_.run_until([&] { return server_->client_count() == 0; }));
  backend_.node_views = test_support::sample_nodes();
  CallResult result = loop_.run_beside([&] {
    Client client(socket_path_);
    return client.call(Request(Command::nodes));
  });
  ASSERT_EQ(result.status, CallStatus::answered) << result.message;
  EXPECT_EQ(result.response.result["nodes"].size(), 3u);
}

TEST_F(ApiServerTest, LargeAnswerReachesASlowReader) {
  backend_.node_views.assign(20'000, test_support::sample_nodes()[1]);
  start();
  CallResult result = loop_.run_beside([&] {
    Client client(socket_path_);
    return client.call(Request(Command::nodes));
  });
  ASSERT_EQ(result.status, CallStatus::answered) << result.message;
  EXPECT_EQ(result.response.result["nodes"].size(), 20'000u);
}

TEST_F(ApiServerTest, ReplacesAStaleSocket) {
  ASSERT_EQ(mkdir((dir_ / "run").c_str(), 0755), 0);
  int old = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un address = unix_address(socket_path_);
  ASSERT_EQ(bind(old, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  close(old);  // the file stays, nothing listens: a crashed daemon's leftover
  start();
  CallResult result = loop_.run_beside([&] {
    Client client(socket_path_);
    return client.call(Request(Command::status));
  });
  EXPECT_EQ(result.status, CallStatus::answered) << result.message;
}

TEST_F(ApiServerTest, RefusesALiveSocket) {
  start();
  std::string error;
  FakeBackend other;
  std::unique_ptr<Server> second = Server::start(loop_.poll(), other, options_, error);
  EXPECT_FALSE(second);
  EXPECT_NE(error.find("already listening"), std::string::npos) << error;
  // The first server still owns its socket.
  CallResult result = loop_.run_beside([&] {
    Client client(socket_path_);
    return client.call(Request(Command::status));
  });
  EXPECT_EQ(result.status, CallStatus::answered) << result.message;
}

TEST_F(ApiServerTest, RefusesToReplaceSomethingElse) {
  ASSERT_EQ(mkdir((dir_ / "run").c_str(), 0755), 0);
  std::ofstream(socket_path_) << "not a socket\n";
  std::string error;
  EXPECT_FALSE(Server::start(loop_.poll(), backend_, options_, error));
  EXPECT_NE(error.find("not a socket"), std::string::npos) << error;
  std::ifstream kept(socket_path_);
  std::string text;
  std::getline(kept, text);
  EXPECT_EQ(text, "not a socket");
}

TEST_F(ApiServerTest, ReportsImpossiblePaths) {
  std::string error;
  options_.socket_path = dir_ / "missing/deeper/api.sock";
  EXPECT_FALSE(Server::start(loop_.poll(), backend_, options_, error));
  EXPECT_NE(error.find("missing/deeper"), std::string::npos) << error;
  options_.socket_path = dir_ / std::string(200, 'x');
  EXPECT_FALSE(Server::start(loop_.poll(), backend_, options_, error));
  EXPECT_NE(error.find("longer than"), std::string::npos) << error;
}

TEST_F(ApiServerTest, RemovesItsSocketButNotASuccessors) {
  start();
  server_.reset();
  struct stat st {};
  EXPECT_NE(lstat(socket_path_.c_str(), &st), 0);

  start();
  ASSERT_EQ(unlink(socket_path_.c_str()), 0);
  std::ofstream(socket_path_) << "someone else's\n";
  server_.reset();
  EXPECT_EQ(lstat(socket_path_.c_str(), &st), 0);
}

TEST_F(ApiServerTest, ServerCanGoAwayWithClientsConnected) {
  start();
  RawClient a(loop_, socket_path_);
  RawClient b(loop_, socket_path_);
  ASSERT_TRUE(a.send_text(R"({"api":1,)"));
  ASSERT_TRUE(loop_.run_until([&] { return server_->client_count() == 2; }));
  server_.reset();
  EXPECT_TRUE(a.closed_by_server());
  EXPECT_TRUE(b.closed_by_server());
}

// The permission rule end to end: SO_PEERCRED of a process that really is not root.
TEST_F(ApiServerTest, NonRootCallerMayReadButNotAct) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to run a child as nobody";
  start();
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    if (setgid(65534) != 0 || setuid(65534) != 0) _exit(10);
    Client client(socket_path_, ClientOptions{5000, kMaxResponseBytes});
    CallResult status = client.call(Request(Command::status));
    if (status.status != CallStatus::answered || !status.response.ok) _exit(11);
    CallResult key = client.call(Request(Command::key_show));
    if (key.status != CallStatus::answered || key.response.error.code != "permission_denied") {
      _exit(12);
    }
    if (key.response.error.message.find("uid 65534") == std::string::npos) _exit(13);
    CallResult join = client.call(Request(Command::join, kSecret));
    if (join.response.error.code != "permission_denied") _exit(14);
    CallResult create = client.call(Request(Command::create));
    if (create.response.error.code != "permission_denied") _exit(15);
    _exit(0);
  }
  int wstatus = 0;
  ASSERT_TRUE(loop_.run_until([&] { return waitpid(child, &wstatus, WNOHANG) == child; }, 10'000));
  ASSERT_TRUE(WIFEXITED(wstatus));
  EXPECT_EQ(WEXITSTATUS(wstatus), 0) << "see the _exit codes in the child";
  EXPECT_EQ(backend_.secret_calls, 0);
  EXPECT_EQ(backend_.create_calls, 0);
  EXPECT_TRUE(backend_.joined.empty());
  EXPECT_EQ(backend_.status_calls, 1);
}

}  // namespace
}  // namespace clusterlive::api
