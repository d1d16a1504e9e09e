// The daemon's migration port: a TCP listener on this node's mesh address only. Each
// connection is a coordinator starting a migration to this node; the listener hands it as is
// to a new target worker (clusterlive-migrate target), which checks it and does the rest, so
// the daemon's event loop never waits on a migration.
#pragma once

#include <avahi-common/watch.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace clusterlive {

class MigrationListener {
 public:
  /// Called with each accepted connection; the listener closes it afterwards.
  using Handoff = std::function<void(int fd)>;

  /// Listens on [address]:port. nullptr and `error` on failure (e.g. the address is not up).
  static std::unique_ptr<MigrationListener> start(const AvahiPoll* poll, const std::string& address,
                                                  uint16_t port, Handoff handoff,
                                                  std::string& error);
  ~MigrationListener();
  MigrationListener(const MigrationListener&) = delete;
  MigrationListener& operator=(const MigrationListener&) = delete;

  const std::string& address() const { return address_; }

 private:
  MigrationListener(const AvahiPoll* poll, std::string address, Handoff handoff)
      : poll_(poll), address_(std::move(address)), handoff_(std::move(handoff)) {}
  static void on_readable(AvahiWatch* watch, int fd, AvahiWatchEvent event, void* self);

  const AvahiPoll* poll_;
  std::string address_;
  Handoff handoff_;
  int fd_ = -1;
  AvahiWatch* watch_ = nullptr;
};

}  // namespace clusterlive
