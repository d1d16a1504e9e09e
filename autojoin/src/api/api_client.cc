#include "api/api_client.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

namespace clusterlive::api {
namespace {

using Clock = std::chrono::steady_clock;

CallResult failure(CallStatus status, std::string message) {
  CallResult result;
  result.status = status;
  result.message = std::move(message);
  return result;
}

int remaining_ms(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return static_cast<int>(std::max<int64_t>(0, left.count()));
}

/// Waits until `fd` has `events` or the deadline passes; false on timeout.
bool wait_for(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    int rc = poll(&p, 1, remaining_ms(deadline));
    if (rc > 0) return true;
    if (rc == 0) return false;
    if (errno != EINTR) return true;  // let the following call report the error
  }
}

std::string seconds_text(int ms) {
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + " s";
  return std::to_string(ms) + " ms";
}

}  // namespace

const char* call_status_name(CallStatus status) {
  switch (status) {
    case CallStatus::answered:
      return "answered";
    case CallStatus::not_running:
      return "clusterlived is not running";
    case CallStatus::unreachable:
      return "clusterlived cannot be reached";
    case CallStatus::permission_denied:
      return "permission denied";
    case CallStatus::protocol_error:
      return "clusterlived's answer is not understood";
  }
  return "?";
}

Client::Client(std::string socket_path, ClientOptions options)
    : socket_path_(std::move(socket_path)), options_(options) {}

Client::~Client() { disconnect(); }

void Client::disconnect() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
  wipe(buffer_);
}

CallResult Client::connect() {
  if (fd_ >= 0) return failure(CallStatus::answered, "");
  const Clock::time_point deadline = Clock::now() + std::chrono::milliseconds(options_.timeout_ms);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (socket_path_.empty() || socket_path_.size() >= sizeof address.sun_path) {
    return failure(CallStatus::not_running,
                   "clusterlived is not running (\"" + socket_path_ + "\" is not a socket path)");
  }
  std::memcpy(address.sun_path, socket_path_.c_str(), socket_path_.size() + 1);

  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return failure(CallStatus::unreachable, std::string("socket: ") + strerror(errno));
  for (;;) {
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0) break;
    int e = errno;
    if (e == EINTR) continue;
    if (e == EAGAIN && Clock::now() < deadline) {  // the daemon's listen queue is full
      poll(nullptr, 0, std::min(kConnectRetryPauseMs, remaining_ms(deadline)));
      continue;
    }
    if (e == EINPROGRESS) {
      if (!wait_for(fd, POLLOUT, deadline)) {
        close(fd);
        return failure(CallStatus::unreachable, "clusterlived did not accept the connection on " +
                                                    socket_path_ + " within " +
                                                    seconds_text(options_.timeout_ms));
      }
      int so_error = 0;
      socklen_t length = sizeof so_error;
      getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &length);
      if (so_error == 0) break;
      e = so_error;
    }
    close(fd);
    switch (e) {
      case ENOENT:
      case ENOTDIR:
        return failure(CallStatus::not_running,
                       "clusterlived is not running (no socket at " + socket_path_ + ")");
      case ECONNREFUSED:
        return failure(CallStatus::not_running,
                       "clusterlived is not running (nothing listens on " + socket_path_ + ")");
      case EACCES:
      case EPERM:
        return failure(CallStatus::permission_denied,
                       "cannot connect to " + socket_path_ + ": " + strerror(e));
      case EAGAIN:
        return failure(CallStatus::unreachable,
                       "clusterlived is too busy to accept a connection on " + socket_path_);
      default:
        return failure(CallStatus::unreachable,
                       "cannot connect to " + socket_path_ + ": " + strerror(e));
    }
  }
  fd_ = fd;
  return failure(CallStatus::answered, "");
}

CallResult Client::call(const Request& request) {
  const bool reused = fd_ >= 0;
  CallResult result = exchange(request);
  // A connection kept from an earlier call may have been closed by the daemon meanwhile
  // (idle clients are). A request that only reads is then sent again on a new connection;
  // one that acts is not, in case it did reach the daemon.
  if (reused && lost_unanswered_ && only_reads(request.command)) result = exchange(request);
  return result;
}

template <typename T, typename Parse>
Reply<T> Client::typed_call(const Request& request, Parse parse) {
  Reply<T> reply;
  reply.call = call(request);
  if (reply.call.status != CallStatus::answered || !reply.call.response.ok) return reply;
  std::string error;
  reply.value = parse(reply.call.response.result, error);
  if (!reply.value) {
    reply.call.status = CallStatus::protocol_error;
    reply.call.message = "clusterlived's answer is not understood: " + error;
  }
  return reply;
}

Reply<JobView> Client::run_job(const RunRequest& request) {
  return typed_call<JobView>(run_request(request), parse_job_result);
}

Reply<std::vector<JobView>> Client::jobs() {
  return typed_call<std::vector<JobView>>(Request(Command::ps), parse_jobs_result);
}

Reply<JobView> Client::job(const std::string& id) {
  return typed_call<JobView>(job_request(Command::job, id), parse_job_result);
}

Reply<JobView> Client::kill_job(const std::string& id) {
  return typed_call<JobView>(job_request(Command::kill, id), parse_job_result);
}

Reply<JobView> Client::migrate_job(const MigrateRequest& request) {
  return typed_call<JobView>(migrate_request(request), parse_job_result);
}

Reply<JobView> Client::set_job_locked(const std::string& id, bool locked) {
  return typed_call<JobView>(job_request(locked ? Command::lock : Command::unlock, id),
                             parse_job_result);
}

CallResult Client::exchange(const Request& request) {
  lost_unanswered_ = false;
  const Clock::time_point deadline = Clock::now() + std::chrono::milliseconds(options_.timeout_ms);
  if (fd_ < 0) {
    CallResult connected = connect();
    if (connected.status != CallStatus::answered) return connected;
  }

  std::string line = format_request(request);
  line.push_back('\n');
  size_t sent = 0;
  bool send_failed = false;
  while (sent < line.size()) {
    ssize_t n = send(fd_, line.data() + sent, line.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (wait_for(fd_, POLLOUT, deadline)) continue;
      wipe(line);
      disconnect();
      return failure(CallStatus::unreachable, "clusterlived did not take the request within " +
                                                  seconds_text(options_.timeout_ms));
    }
    // EPIPE, ECONNRESET: the daemon closed the connection; it may have said why (busy), so
    // read what it sent before giving up.
    send_failed = true;
    break;
  }
  wipe(line);

  size_t newline = buffer_.find('\n');
  while (newline == std::string::npos) {
    if (buffer_.size() > options_.max_response_bytes) {
      disconnect();
      return failure(CallStatus::protocol_error, "clusterlived's answer is longer than " +
                                                     std::to_string(options_.max_response_bytes) +
                                                     " bytes");
    }
    if (!wait_for(fd_, POLLIN, send_failed ? Clock::now() : deadline)) {
      disconnect();
      if (send_failed) {
        lost_unanswered_ = true;
        return failure(CallStatus::unreachable, "clusterlived closed the connection");
      }
      return failure(CallStatus::unreachable,
                     "clusterlived did not answer within " + seconds_text(options_.timeout_ms));
    }
    char chunk[16 * 1024];
    ssize_t n = recv(fd_, chunk, sizeof chunk, MSG_DONTWAIT);
    if (n > 0) {
      size_t old_size = buffer_.size();
      buffer_.append(chunk, static_cast<size_t>(n));
      explicit_bzero(chunk, static_cast<size_t>(n));  // may be key_show's answer
      newline = buffer_.find('\n', old_size);
      continue;
    }
    if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) continue;
    lost_unanswered_ = buffer_.empty();
    disconnect();
    return failure(CallStatus::unreachable, "clusterlived closed the connection without answering");
  }

  std::string answer = buffer_.substr(0, newline);
  buffer_.erase(0, newline + 1);
  if (send_failed) disconnect();
  if (!answer.empty() && answer.back() == '\r') answer.pop_back();
  ParsedResponse parsed = parse_response(answer);
  wipe(answer);
  if (!parsed.response) {
    disconnect();
    return failure(CallStatus::protocol_error,
                   "clusterlived's answer is not understood: " + parsed.error);
  }
  CallResult result;
  result.status = CallStatus::answered;
  result.response = std::move(*parsed.response);
  return result;
}

}  // namespace clusterlive::api
