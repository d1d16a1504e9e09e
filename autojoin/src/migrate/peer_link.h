// The connection between the two halves of one migration: the source's coordinator
// (clusterlive-migrate source) and the target's participant (clusterlive-migrate target).
// Blocking I/O with a deadline on every read: each half is a process of its own, so blocking
// never holds up the daemon. Messages are JSON objects, one per line; a file travels as a
// {"file": NAME, "bytes": N} line followed by exactly N raw bytes.
//
// Trust: the link runs over the WireGuard mesh, which only members holding the cluster secret
// can reach. The source connects from a privileged port (< 1024), so a local user of a member
// cannot pose as a coordinator; the target checks that and the prepared record on /cluster,
// which only root of a member can write.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "core/migration.h"

namespace clusterlive {

/// TCP port of the daemon's migration listener, on its mesh address only.
constexpr uint16_t kMigrationPort = 51874;
/// Longest message line accepted, in bytes (a hello names every file the job has open).
constexpr size_t kMaxLinkLineBytes = 4 * 1024 * 1024;
/// Largest file sent over the link (CRIU's non-page images are a few KiB to a few MiB).
constexpr uint64_t kMaxLinkFileBytes = 64ULL * 1024 * 1024;

/// Monotonic time in milliseconds (the clock the migration state machines run on).
TimeMs monotonic_ms();

class PeerLink {
 public:
  /// Takes ownership of a connected stream socket.
  explicit PeerLink(int fd);
  ~PeerLink();
  PeerLink(PeerLink&& other) noexcept;
  PeerLink& operator=(PeerLink&& other) noexcept;
  PeerLink(const PeerLink&) = delete;
  PeerLink& operator=(const PeerLink&) = delete;

  /// Connects to [address]:port from a privileged local port, giving up at `deadline`.
  static std::optional<PeerLink> connect_privileged(const std::string& address, uint16_t port,
                                                    TimeMs deadline, std::string& error);

  bool send(const nlohmann::json& message, std::string& error);
  /// Sends the file at `path` as a file frame named `name`.
  bool send_file(const std::string& name, const std::string& path, std::string& error);

  /// The next message, or nullopt with `error` (timed_out() says whether the deadline passed;
  /// otherwise the link is broken or the peer sent something malformed).
  std::optional<nlohmann::json> receive(TimeMs deadline, std::string& error);
  /// After receive() returned a {"file", "bytes"} header: writes the bytes into `path`
  /// (created 0600, never through a symlink).
  bool receive_file_body(uint64_t bytes, const std::string& path, TimeMs deadline,
                         std::string& error);

  bool timed_out() const { return timed_out_; }
  bool closed() const { return fd_ < 0; }
  void close_link();
  int fd() const { return fd_; }

 private:
  bool write_all(const char* data, size_t size, std::string& error);
  /// Waits until the socket is readable; false (error set) on the deadline or an error.
  bool wait_readable(TimeMs deadline, std::string& error);

  int fd_ = -1;
  std::string buffer_;  // bytes read past the last message
  bool timed_out_ = false;
};

}  // namespace clusterlive
