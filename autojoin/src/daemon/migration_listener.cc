#include "daemon/migration_listener.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "sys/file_io.h"

namespace clusterlive {
namespace {

constexpr int kBacklog = 8;
constexpr int kMaxAcceptsPerWakeup = 8;  // a flood cannot starve the rest of the loop

}  // namespace

std::unique_ptr<MigrationListener> MigrationListener::start(const AvahiPoll* poll,
                                                            const std::string& address,
                                                            uint16_t port, Handoff handoff,
                                                            std::string& error) {
  sockaddr_in6 local{};
  local.sin6_family = AF_INET6;
  local.sin6_port = htons(port);
  if (inet_pton(AF_INET6, address.c_str(), &local.sin6_addr) != 1) {
    error = "not an IPv6 address: " + address;
    return nullptr;
  }
  std::unique_ptr<MigrationListener> listener(
      new MigrationListener(poll, address, std::move(handoff)));
  listener->fd_ = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int on = 1;
  if (listener->fd_ < 0 ||
      setsockopt(listener->fd_, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0 ||
      bind(listener->fd_, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0 ||
      listen(listener->fd_, kBacklog) != 0) {
    error = "cannot listen on [" + address + "]:" + std::to_string(port) + ": " +
            errno_text(errno);
    return nullptr;
  }
  listener->watch_ = poll->watch_new(poll, listener->fd_, AVAHI_WATCH_IN, on_readable,
                                     listener.get());
  if (!listener->watch_) {
    error = "cannot watch the migration port";
    return nullptr;
  }
  return listener;
}

MigrationListener::~MigrationListener() {
  if (watch_) poll_->watch_free(watch_);
  if (fd_ >= 0) close(fd_);
}

void MigrationListener::on_readable(AvahiWatch*, int, AvahiWatchEvent, void* self) {
  auto* listener = static_cast<MigrationListener*>(self);
  for (int i = 0; i < kMaxAcceptsPerWakeup; ++i) {
    int connection = accept4(listener->fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (connection < 0) return;  // EAGAIN: none left; others: try at the next wake-up
    listener->handoff_(connection);
    close(connection);
  }
}

}  // namespace clusterlive
