#include "migrate/peer_link.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>

#include "sys/file_io.h"

namespace clusterlive {
namespace {

constexpr uint16_t kFirstPrivilegedPort = 600;  // below: ports some services expect to own
constexpr uint16_t kLastPrivilegedPort = 1023;
constexpr size_t kChunkBytes = 64 * 1024;

// Binds `fd` to a free privileged port (as bindresvport does, for IPv6 too).
bool bind_privileged(int fd, int family, std::string& error) {
  for (uint16_t port = kLastPrivilegedPort; port >= kFirstPrivilegedPort; --port) {
    int rc;
    if (family == AF_INET6) {
      sockaddr_in6 local{};
      local.sin6_family = AF_INET6;
      local.sin6_addr = in6addr_any;
      local.sin6_port = htons(port);
      rc = bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local);
    } else {
      sockaddr_in local{};
      local.sin_family = AF_INET;
      local.sin_port = htons(port);
      rc = bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local);
    }
    if (rc == 0) return true;
    if (errno != EADDRINUSE) {
      error = "cannot bind a privileged port: " + errno_text(errno);
      return false;
    }
  }
  error = "no free privileged port";
  return false;
}

}  // namespace

TimeMs monotonic_ms() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<TimeMs>(now.tv_sec) * 1000 + now.tv_nsec / 1'000'000;
}

PeerLink::PeerLink(int fd) : fd_(fd) {}

PeerLink::~PeerLink() { close_link(); }

PeerLink::PeerLink(PeerLink&& other) noexcept
    : fd_(other.fd_), buffer_(std::move(other.buffer_)), timed_out_(other.timed_out_) {
  other.fd_ = -1;
}

PeerLink& PeerLink::operator=(PeerLink&& other) noexcept {
  if (this != &other) {
    close_link();
    fd_ = other.fd_;
    buffer_ = std::move(other.buffer_);
    timed_out_ = other.timed_out_;
    other.fd_ = -1;
  }
  return *this;
}

void PeerLink::close_link() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
}

std::optional<PeerLink> PeerLink::connect_privileged(const std::string& address, uint16_t port,
                                                     TimeMs deadline, std::string& error) {
  sockaddr_storage remote{};
  socklen_t remote_size = 0;
  int family = AF_INET6;
  auto* six = reinterpret_cast<sockaddr_in6*>(&remote);
  auto* four = reinterpret_cast<sockaddr_in*>(&remote);
  if (inet_pton(AF_INET6, address.c_str(), &six->sin6_addr) == 1) {
    six->sin6_family = AF_INET6;
    six->sin6_port = htons(port);
    remote_size = sizeof *six;
  } else if (inet_pton(AF_INET, address.c_str(), &four->sin_addr) == 1) {
    family = AF_INET;
    four->sin_family = AF_INET;
    four->sin_port = htons(port);
    remote_size = sizeof *four;
  } else {
    error = "not an IP address: " + address;
    return std::nullopt;
  }
  int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    error = "socket: " + errno_text(errno);
    return std::nullopt;
  }
  PeerLink link(fd);
  if (!bind_privileged(fd, family, error)) return std::nullopt;
  if (connect(fd, reinterpret_cast<sockaddr*>(&remote), remote_size) != 0 &&
      errno != EINPROGRESS) {
    error = "cannot connect to " + address + ": " + errno_text(errno);
    return std::nullopt;
  }
  pollfd watch{fd, POLLOUT, 0};
  TimeMs left = deadline - monotonic_ms();
  if (left <= 0 || poll(&watch, 1, static_cast<int>(left)) != 1) {
    error = "no answer from " + address + " port " + std::to_string(port);
    return std::nullopt;
  }
  int socket_error = 0;
  socklen_t size = sizeof socket_error;
  getsockopt(fd, SOL_SOCKET, SO_ERROR, &socket_error, &size);
  if (socket_error != 0) {
    error = "cannot connect to " + address + ": " + errno_text(socket_error);
    return std::nullopt;
  }
  // Blocking from here on: reads wait in poll() with their deadline, writes may block (the
  // peer reads everything it is sent).
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  return link;
}

bool PeerLink::write_all(const char* data, size_t size, std::string& error) {
  while (size > 0) {
    if (fd_ < 0) {
      error = "the link is closed";
      return false;
    }
    ssize_t sent = ::send(fd_, data, size, MSG_NOSIGNAL);
    if (sent < 0 && errno == EINTR) continue;
    if (sent <= 0) {
      error = "the link broke: " + errno_text(errno);
      close_link();
      return false;
    }
    data += sent;
    size -= static_cast<size_t>(sent);
  }
  return true;
}

bool PeerLink::send(const nlohmann::json& message, std::string& error) {
  std::string line = message.dump() + "\n";
  return write_all(line.data(), line.size(), error);
}

bool PeerLink::send_file(const std::string& name, const std::string& path, std::string& error) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  struct stat st {};
  if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    error = path + ": " + (fd < 0 ? errno_text(errno) : "not a regular file");
    if (fd >= 0) close(fd);
    return false;
  }
  uint64_t size = static_cast<uint64_t>(st.st_size);
  bool ok = send({{"file", name}, {"bytes", size}}, error);
  std::string chunk(kChunkBytes, '\0');
  uint64_t left = size;
  while (ok && left > 0) {
    ssize_t got = read(fd, chunk.data(), std::min<uint64_t>(chunk.size(), left));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      error = path + ": " + (got < 0 ? errno_text(errno) : "shrank while being sent");
      ok = false;
      close_link();  // the frame promised more bytes: the peer must not read on
      break;
    }
    ok = write_all(chunk.data(), static_cast<size_t>(got), error);
    left -= static_cast<uint64_t>(got);
  }
  close(fd);
  return ok;
}

bool PeerLink::wait_readable(TimeMs deadline, std::string& error) {
  for (;;) {
    if (fd_ < 0) {
      error = "the link is closed";
      return false;
    }
    TimeMs left = deadline - monotonic_ms();
    if (left <= 0) {
      timed_out_ = true;
      error = "no message from the peer in time";
      return false;
    }
    pollfd watch{fd_, POLLIN, 0};
    int ready = poll(&watch, 1, static_cast<int>(std::min<TimeMs>(left, 1'000'000)));
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) {
      error = "poll: " + errno_text(errno);
      return false;
    }
    if (ready == 1) return true;
  }
}

std::optional<nlohmann::json> PeerLink::receive(TimeMs deadline, std::string& error) {
  timed_out_ = false;
  for (;;) {
    size_t newline = buffer_.find('\n');
    if (newline != std::string::npos) {
      std::string line = buffer_.substr(0, newline);
      buffer_.erase(0, newline + 1);
      nlohmann::json message = nlohmann::json::parse(line, nullptr, false);
      if (message.is_discarded() || !message.is_object()) {
        error = "malformed message from the peer";
        close_link();
        return std::nullopt;
      }
      return message;
    }
    if (buffer_.size() > kMaxLinkLineBytes) {
      error = "message from the peer too long";
      close_link();
      return std::nullopt;
    }
    if (!wait_readable(deadline, error)) return std::nullopt;
    char chunk[kChunkBytes];
    ssize_t got = recv(fd_, chunk, sizeof chunk, 0);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      error = got == 0 ? "the peer closed the link" : "the link broke: " + errno_text(errno);
      close_link();
      return std::nullopt;
    }
    buffer_.append(chunk, static_cast<size_t>(got));
  }
}

bool PeerLink::receive_file_body(uint64_t bytes, const std::string& path, TimeMs deadline,
                                 std::string& error) {
  if (bytes > kMaxLinkFileBytes) {
    error = "file of " + std::to_string(bytes) + " bytes refused";
    close_link();
    return false;
  }
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    error = path + ": " + errno_text(errno);
    close_link();  // the bytes still in flight cannot be skipped reliably
    return false;
  }
  bool ok = true;
  uint64_t left = bytes;
  auto write_out = [&](const char* data, size_t size) {
    while (ok && size > 0) {
      ssize_t written = write(fd, data, size);
      if (written < 0 && errno == EINTR) continue;
      if (written <= 0) {
        error = path + ": " + errno_text(errno);  // a full disk lands here
        ok = false;
        return;
      }
      data += written;
      size -= static_cast<size_t>(written);
    }
  };
  size_t from_buffer = static_cast<size_t>(std::min<uint64_t>(buffer_.size(), left));
  write_out(buffer_.data(), from_buffer);
  buffer_.erase(0, from_buffer);
  left -= from_buffer;
  while (ok && left > 0) {
    if (!wait_readable(deadline, error)) {
      ok = false;
      break;
    }
    char chunk[kChunkBytes];
    ssize_t got = recv(fd_, chunk, std::min<uint64_t>(sizeof chunk, left), 0);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      error = got == 0 ? "the peer closed the link mid-file" : "the link broke: " + errno_text(errno);
      ok = false;
      break;
    }
    write_out(chunk, static_cast<size_t>(got));
    left -= static_cast<uint64_t>(got);
  }
  if (ok && fsync(fd) != 0) {
    error = path + ": " + errno_text(errno);
    ok = false;
  }
  close(fd);
  if (!ok) {
    unlink(path.c_str());
    close_link();
  }
  return ok;
}

}  // namespace clusterlive
