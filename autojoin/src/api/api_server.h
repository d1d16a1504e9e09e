// The local API server: a Unix stream socket served from the daemon's event loop (Avahi's
// poll abstraction), answering one JSON request per line (see api_protocol.h, PROTOCOL.md).
//
// Single-threaded and never blocking: every socket is non-blocking, every fd and timer is
// registered through the `const AvahiPoll*` given to start(). Every resource a client
// controls is bounded: request line length, number of clients, idle time, and output (a
// client's next request is read only once the previous answer is sent).
#pragma once

#include <avahi-common/watch.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "api/api_protocol.h"
#include "api/api_types.h"

namespace clusterlive::api {

/// Most clients connected at once; one more gets a "busy" error and is closed.
constexpr size_t kMaxClients = 64;
/// A client that neither sends nor receives anything for this long is closed, in ms.
constexpr unsigned kClientIdleTimeoutMs = 30'000;
/// Pending connections the kernel queues for us (listen() backlog).
constexpr int kListenBacklog = 16;
/// Connections accepted per wake-up of the listening socket, so a flood cannot starve the
/// rest of the daemon's loop.
constexpr int kMaxAcceptsPerWakeup = 16;
/// After accept() fails for want of fds or memory, wait this long before trying again, in ms.
constexpr unsigned kAcceptRetryDelayMs = 250;
/// Bytes read from a client per recv() call.
constexpr size_t kReadChunkBytes = 16 * 1024;
/// Mode of the socket file: anyone may connect (and read state); rights are checked per
/// request from SO_PEERCRED.
constexpr mode_t kSocketMode = 0666;
/// Mode of the socket's directory when the server has to create it.
constexpr mode_t kSocketDirectoryMode = 0755;

struct ServerOptions {
  std::string socket_path = kDefaultSocketPath;
  size_t max_request_bytes = kMaxRequestBytes;  ///< per line, newline excluded
  size_t max_clients = kMaxClients;
  unsigned idle_timeout_ms = kClientIdleTimeoutMs;
};

/// What the server has seen since it started (the daemon may show them as counters).
struct ServerStats {
  uint64_t connections_accepted = 0;
  uint64_t connections_refused_busy = 0;  ///< closed at once: kMaxClients were connected
  uint64_t connections_closed_idle = 0;
  uint64_t requests_answered = 0;
  uint64_t requests_refused = 0;  ///< answered with an error (any code)
  uint64_t requests_too_long = 0;
  uint64_t accept_errors = 0;  ///< accept() or SO_PEERCRED failures (e.g. out of fds)
};

class Server {
 public:
  /// Creates the socket at options.socket_path (its directory too, mode 0755, if missing;
  /// not the directory's parents) and starts serving `backend` from `poll`. A socket file
  /// left by a previous run (nothing listens) is replaced; a live one, or a path that is not
  /// a socket, is an error. Returns nullptr and sets `error` on failure. `poll` and
  /// `backend` must outlive the Server.
  static std::unique_ptr<Server> start(const AvahiPoll* poll, Backend& backend,
                                       ServerOptions options, std::string& error);

  /// Closes every client and the socket, and removes the socket file if it is still ours.
  /// Safe to call from any callback of `poll`, but not from inside a Backend call.
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// Clients connected now.
  size_t client_count() const { return clients_.size(); }
  /// Counters since start().
  const ServerStats& stats() const { return stats_; }
  /// Where the socket is.
  const std::string& socket_path() const { return options_.socket_path; }

 private:
  struct Client;

  Server(const AvahiPoll* poll, Backend& backend, ServerOptions options);
  bool open_socket(std::string& error);

  static void on_listen_event(AvahiWatch* watch, int fd, AvahiWatchEvent event, void* self);
  static void on_accept_retry(AvahiTimeout* timeout, void* self);
  static void on_client_event(AvahiWatch* watch, int fd, AvahiWatchEvent event, void* client);
  static void on_client_idle(AvahiTimeout* timeout, void* client);

  void accept_clients();
  void refuse_busy(int fd);
  /// Reads, answers and writes what it can; false when the client must be closed.
  bool serve(Client& client, AvahiWatchEvent event);
  /// Reads what is available; false on a connection error.
  bool read_input(Client& client);
  /// Answers complete lines, each sent before the next is answered; false on a connection
  /// error.
  bool answer_lines(Client& client);
  /// Answers a line over the limit with an error, then the connection is closed.
  void refuse_too_long(Client& client);
  /// Sends what it can of the pending answer; false on a connection error.
  bool flush_output(Client& client);
  void rearm(Client& client, bool progress);
  void close_client(Client* client);

  const AvahiPoll* poll_;
  Backend& backend_;
  ServerOptions options_;
  int listen_fd_ = -1;
  AvahiWatch* listen_watch_ = nullptr;
  AvahiTimeout* accept_retry_ = nullptr;
  dev_t socket_device_ = 0;  ///< identity of our socket file, so we never unlink another's
  ino_t socket_inode_ = 0;
  bool socket_file_ours_ = false;
  std::vector<std::unique_ptr<Client>> clients_;
  ServerStats stats_;
};

}  // namespace clusterlive::api
