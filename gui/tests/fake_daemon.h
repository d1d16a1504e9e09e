// A stand-in for clusterlived in the GUI's tests: a QLocalServer on a socket in a temporary
// directory, answering with the daemon's own protocol code (api_protocol.h) from the state a
// test sets. It records every request, so a test can count what the GUI sent.
#pragma once

#include <QLocalServer>
#include <QLocalSocket>
#include <QObject>
#include <QTemporaryDir>
#include <optional>
#include <string>
#include <vector>

#include "api/api_protocol.h"

namespace clusterlive::view::testing {

class FakeDaemon : public QObject {
  Q_OBJECT

 public:
  FakeDaemon();
  ~FakeDaemon() override;

  QString socket_path() const;
  /// Stops listening and closes every connection (the daemon stopped).
  void stop();
  /// Listens again (the daemon is back).
  void start();

  api::StatusView status;
  std::vector<api::NodeView> nodes;
  std::vector<api::JobView> jobs;
  /// When set, `ps` is answered with error `failed` and this message (no /cluster mounted).
  std::optional<std::string> jobs_unavailable;
  /// When set, `migrate` is answered with error `failed` and this message.
  std::optional<std::string> refuse_migrate;
  /// When false, requests are read but not answered (a daemon that hangs).
  bool answering = true;

  /// Every request received, in order.
  std::vector<api::Request> requests;
  int count(api::Command command) const;
  /// The last request of `command` received; nullptr if none was.
  const api::Request* last(api::Command command) const;
  api::JobView* find_job(const std::string& id);

 private:
  void on_new_connection();
  void on_ready_read(QLocalSocket* client);
  std::string answer(const api::Request& request);

  QTemporaryDir dir_;
  QLocalServer server_;
};

/// A node row as the daemon sends it.
api::NodeView node_view(const std::string& name, const std::string& state = "up",
                        bool self = false, uint16_t cores = 4, uint32_t speed = 1000,
                        double load = 0.5, uint32_t free_mib = 4096);
/// A running job of uid 1000 ("ann") started on `home`, running on `where`.
api::JobView job_view(const std::string& id, const std::string& where,
                      const std::string& home = "", uint64_t rss_kib = 65536);

}  // namespace clusterlive::view::testing
