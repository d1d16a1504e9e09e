#include "api/api_server.h"

#include <avahi-common/timeval.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "api/api_dispatch.h"

namespace clusterlive::api {
namespace {

std::string errno_message(int errno_value) { return std::strerror(errno_value); }

/// The directory part of `path` ("." when it has none).
std::string parent_directory(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

/// Creates `directory` (mode kSocketDirectoryMode, exactly) unless it exists as a directory.
bool ensure_directory(const std::string& directory, std::string& error) {
  struct stat st {};
  if (stat(directory.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return true;
    error = directory + " exists and is not a directory";
    return false;
  }
  if (errno != ENOENT) {
    error = directory + ": " + errno_message(errno);
    return false;
  }
  if (mkdir(directory.c_str(), kSocketDirectoryMode) != 0 && errno != EEXIST) {
    error = "cannot create " + directory + ": " + errno_message(errno);
    return false;
  }
  chmod(directory.c_str(), kSocketDirectoryMode);  // mkdir applied the umask
  return true;
}

bool fill_address(const std::string& path, sockaddr_un& address, std::string& error) {
  address = {};
  address.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof address.sun_path) {
    error = "socket path \"" + path + "\" is empty or longer than " +
            std::to_string(sizeof address.sun_path - 1) + " bytes";
    return false;
  }
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  return true;
}

/// Removes a socket file left by a previous run. A live socket (something accepts
/// connections on it) or anything that is not a socket is left alone and reported.
bool clear_stale_socket(const std::string& path, const sockaddr_un& address, std::string& error) {
  struct stat st {};
  if (lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return true;
    error = path + ": " + errno_message(errno);
    return false;
  }
  if (!S_ISSOCK(st.st_mode)) {
    error = path + " exists and is not a socket; not replacing it";
    return false;
  }
  int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (probe < 0) {
    error = "socket: " + errno_message(errno);
    return false;
  }
  int rc = connect(probe, reinterpret_cast<const sockaddr*>(&address), sizeof address);
  int connect_errno = errno;
  close(probe);
  if (rc == 0 || connect_errno == EAGAIN || connect_errno == EINPROGRESS) {
    error = "another clusterlived is already listening on " + path;
    return false;
  }
  if (connect_errno != ECONNREFUSED) {
    error = "cannot tell whether " + path + " is in use: " + errno_message(connect_errno);
    return false;
  }
  if (unlink(path.c_str()) != 0 && errno != ENOENT) {
    error = "cannot remove the stale socket " + path + ": " + errno_message(errno);
    return false;
  }
  return true;
}

timeval deadline_in(unsigned ms) {
  timeval tv{};
  avahi_elapse_time(&tv, ms, 0);
  return tv;
}

}  // namespace

struct Server::Client {
  Server* server = nullptr;
  int fd = -1;
  Caller caller;
  AvahiWatch* watch = nullptr;
  AvahiTimeout* idle = nullptr;
  std::string input;   ///< received, not yet answered (at most one line past the limit)
  std::string output;  ///< the answer being sent
  size_t output_sent = 0;
  uint64_t bytes_moved = 0;         ///< read plus sent: progress resets the idle timer
  bool peer_done = false;           ///< the client shut down its side (EOF read)
  bool close_after_output = false;  ///< answer sent, then close (the line was too long)

  ~Client() {
    const AvahiPoll* poll = server->poll_;
    if (watch) poll->watch_free(watch);
    if (idle) poll->timeout_free(idle);
    if (fd >= 0) close(fd);
    wipe(input);   // may hold a join request's secret
    wipe(output);  // may hold key_show's answer
  }
};

Server::Server(const AvahiPoll* poll, Backend& backend, ServerOptions options)
    : poll_(poll), backend_(backend), options_(std::move(options)) {}

std::unique_ptr<Server> Server::start(const AvahiPoll* poll, Backend& backend,
                                      ServerOptions options, std::string& error) {
  std::unique_ptr<Server> server(new Server(poll, backend, std::move(options)));
  if (!server->open_socket(error)) return nullptr;
  server->listen_watch_ =
      poll->watch_new(poll, server->listen_fd_, AVAHI_WATCH_IN, on_listen_event, server.get());
  if (!server->listen_watch_) {
    error = "cannot watch the API socket";
    return nullptr;
  }
  return server;
}

bool Server::open_socket(std::string& error) {
  const std::string& path = options_.socket_path;
  sockaddr_un address{};
  if (!fill_address(path, address, error)) return false;
  if (!ensure_directory(parent_directory(path), error)) return false;
  if (!clear_stale_socket(path, address, error)) return false;

  listen_fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) {
    error = "socket: " + errno_message(errno);
    return false;
  }
  if (bind(listen_fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    error = "cannot bind " + path + ": " + errno_message(errno);
    return false;
  }
  struct stat st {};
  if (lstat(path.c_str(), &st) == 0) {
    socket_device_ = st.st_dev;
    socket_inode_ = st.st_ino;
    socket_file_ours_ = true;
  }
  if (chmod(path.c_str(), kSocketMode) != 0) {  // bind() applied the umask
    error = "cannot chmod " + path + ": " + errno_message(errno);
    return false;
  }
  if (listen(listen_fd_, kListenBacklog) != 0) {
    error = "cannot listen on " + path + ": " + errno_message(errno);
    return false;
  }
  return true;
}

Server::~Server() {
  clients_.clear();
  if (listen_watch_) poll_->watch_free(listen_watch_);
  if (accept_retry_) poll_->timeout_free(accept_retry_);
  if (listen_fd_ >= 0) close(listen_fd_);
  if (socket_file_ours_) {
    struct stat st {};
    const std::string& path = options_.socket_path;
    if (lstat(path.c_str(), &st) == 0 && st.st_dev == socket_device_ &&
        st.st_ino == socket_inode_) {
      unlink(path.c_str());
    }
  }
}

void Server::on_listen_event(AvahiWatch*, int, AvahiWatchEvent, void* self) {
  static_cast<Server*>(self)->accept_clients();
}

void Server::on_accept_retry(AvahiTimeout*, void* self) {
  auto* server = static_cast<Server*>(self);
  server->poll_->timeout_update(server->accept_retry_, nullptr);
  server->poll_->watch_update(server->listen_watch_, AVAHI_WATCH_IN);
  server->accept_clients();
}

void Server::accept_clients() {
  for (int i = 0; i < kMaxAcceptsPerWakeup; ++i) {
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      // Out of fds or memory: the socket stays readable, so stop watching it for a while
      // rather than spin.
      ++stats_.accept_errors;
      poll_->watch_update(listen_watch_, static_cast<AvahiWatchEvent>(0));
      timeval tv = deadline_in(kAcceptRetryDelayMs);
      if (accept_retry_) {
        poll_->timeout_update(accept_retry_, &tv);
      } else {
        accept_retry_ = poll_->timeout_new(poll_, &tv, on_accept_retry, this);
      }
      return;
    }
    if (clients_.size() >= options_.max_clients) {
      refuse_busy(fd);
      continue;
    }
    ucred credentials{};
    socklen_t length = sizeof credentials;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) != 0) {
      ++stats_.accept_errors;
      close(fd);
      continue;
    }
    auto client = std::make_unique<Client>();
    client->server = this;
    client->fd = fd;
    client->caller.uid = credentials.uid;
    client->caller.gid = credentials.gid;
    client->caller.pid = credentials.pid;
    client->watch = poll_->watch_new(poll_, fd, AVAHI_WATCH_IN, on_client_event, client.get());
    timeval tv = deadline_in(options_.idle_timeout_ms);
    client->idle = poll_->timeout_new(poll_, &tv, on_client_idle, client.get());
    if (!client->watch || !client->idle) {
      ++stats_.accept_errors;
      continue;  // the Client's destructor frees what was made and closes fd
    }
    ++stats_.connections_accepted;
    clients_.push_back(std::move(client));
  }
}

void Server::refuse_busy(int fd) {
  ++stats_.connections_refused_busy;
  std::string line =
      format_error(ErrorCode::busy, "too many clients (" + std::to_string(options_.max_clients) +
                                        ") are connected; try again later") +
      "\n";
  // Best effort: a fresh socket's buffer takes a short line; never wait for it.
  ssize_t ignored = send(fd, line.data(), line.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
  (void)ignored;
  close(fd);
}

void Server::on_client_event(AvahiWatch*, int, AvahiWatchEvent event, void* client) {
  auto* c = static_cast<Client*>(client);
  Server* server = c->server;
  if (!server->serve(*c, event)) server->close_client(c);
}

void Server::on_client_idle(AvahiTimeout*, void* client) {
  auto* c = static_cast<Client*>(client);
  Server* server = c->server;
  ++server->stats_.connections_closed_idle;
  server->close_client(c);
}

bool Server::serve(Client& client, AvahiWatchEvent event) {
  const uint64_t moved_before = client.bytes_moved;
  if (!flush_output(client)) return false;
  bool may_read = client.output.empty() && !client.peer_done && !client.close_after_output;
  if (may_read && (event & (AVAHI_WATCH_IN | AVAHI_WATCH_HUP | AVAHI_WATCH_ERR))) {
    if (!read_input(client)) return false;
  }
  if (!answer_lines(client)) return false;
  if (!flush_output(client)) return false;
  if (client.output.empty()) {
    if (client.close_after_output) return false;
    if (client.peer_done && client.input.empty()) return false;
  }
  rearm(client, client.bytes_moved != moved_before);
  return true;
}

bool Server::read_input(Client& client) {
  // Room for one line at the limit plus its newline; more than that is a line too long.
  const size_t capacity = options_.max_request_bytes + 1;
  while (client.input.size() < capacity) {
    size_t want = std::min(kReadChunkBytes, capacity - client.input.size());
    size_t old_size = client.input.size();
    client.input.resize(old_size + want);
    ssize_t n = recv(client.fd, client.input.data() + old_size, want, MSG_DONTWAIT);
    int recv_errno = errno;
    client.input.resize(old_size + (n > 0 ? static_cast<size_t>(n) : 0));
    if (n > 0) {
      client.bytes_moved += static_cast<uint64_t>(n);
      // Stop as soon as a whole line is in: it is answered before anything more is read.
      if (client.input.find('\n', old_size) != std::string::npos) return true;
      continue;
    }
    if (n == 0) {
      client.peer_done = true;
      return true;
    }
    if (recv_errno == EINTR) continue;
    if (recv_errno == EAGAIN || recv_errno == EWOULDBLOCK) return true;
    return false;  // ECONNRESET and friends: the client is gone
  }
  return true;
}

void Server::refuse_too_long(Client& client) {
  ++stats_.requests_too_long;
  ++stats_.requests_refused;
  wipe(client.input);
  client.output =
      format_error(ErrorCode::bad_request, "request line longer than " +
                                               std::to_string(options_.max_request_bytes) +
                                               " bytes; closing the connection") +
      "\n";
  client.output_sent = 0;
  client.close_after_output = true;
}

bool Server::answer_lines(Client& client) {
  while (client.output.empty() && !client.close_after_output) {
    size_t newline = client.input.find('\n');
    if (newline == std::string::npos) {
      if (client.input.size() > options_.max_request_bytes) {
        refuse_too_long(client);
        return true;
      }
      // At end of input, a last request without its newline is still answered.
      if (!client.peer_done || client.input.empty()) return true;
      newline = client.input.size();
      client.input.push_back('\n');
    }
    if (newline > options_.max_request_bytes) {
      refuse_too_long(client);
      return true;
    }
    std::string_view line(client.input.data(), newline);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") != std::string_view::npos) {  // blank lines are skipped
      Answer answer = answer_request(backend_, client.caller, line);
      ++stats_.requests_answered;
      if (!answer.ok) ++stats_.requests_refused;
      client.output = std::move(answer.line);
      client.output.push_back('\n');
      client.output_sent = 0;
      wipe(answer.line);
    }
    // The request may have carried a secret: zero it before the bytes are shifted out.
    std::fill_n(client.input.begin(), newline + 1, '\0');
    client.input.erase(0, newline + 1);
    if (!flush_output(client)) return false;
  }
  return true;
}

bool Server::flush_output(Client& client) {
  while (client.output_sent < client.output.size()) {
    ssize_t n = send(client.fd, client.output.data() + client.output_sent,
                     client.output.size() - client.output_sent, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n > 0) {
      client.output_sent += static_cast<size_t>(n);
      client.bytes_moved += static_cast<uint64_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
    return false;  // EPIPE, ECONNRESET: the client went away; never a signal (MSG_NOSIGNAL)
  }
  if (!client.output.empty()) {
    wipe(client.output);
    client.output_sent = 0;
  }
  return true;
}

void Server::rearm(Client& client, bool progress) {
  AvahiWatchEvent events = static_cast<AvahiWatchEvent>(0);
  if (!client.output.empty()) {
    events = AVAHI_WATCH_OUT;
  } else if (!client.peer_done && !client.close_after_output) {
    events = AVAHI_WATCH_IN;
  }
  poll_->watch_update(client.watch, events);
  if (progress) {
    timeval tv = deadline_in(options_.idle_timeout_ms);
    poll_->timeout_update(client.idle, &tv);
  }
}

void Server::close_client(Client* client) {
  auto it = std::find_if(clients_.begin(), clients_.end(),
                         [client](const std::unique_ptr<Client>& c) { return c.get() == client; });
  if (it != clients_.end()) clients_.erase(it);
}

}  // namespace clusterlive::api
