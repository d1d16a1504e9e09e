// The GUI's connection to the local clusterlived (autojoin/src/api/PROTOCOL.md): one JSON
// request per line, answers in order. Never blocks the GUI thread: answers come to callbacks
// from the event loop. When the daemon is not running or restarts, every request waiting
// for an answer fails with kConnectionLost, and the connection is tried again every
// kReconnectDelayMs until the daemon answers.
#pragma once

#include <QLocalSocket>
#include <QObject>
#include <QTimer>
#include <deque>
#include <functional>

#include "api/api_protocol.h"

namespace clusterlive::view {

/// Error code (client side, never sent by the daemon) of a request whose answer cannot come:
/// the daemon is not running, or the connection broke before it answered. A request that
/// changes something (migrate, kill, lock) must not be sent again: it may have arrived.
constexpr const char* kConnectionLost = "connection_lost";
/// Error code (client side) of a request that was never sent: no connection to the daemon.
constexpr const char* kNotConnected = "not_connected";
/// Between attempts to connect, ms.
constexpr int kReconnectDelayMs = 1000;
/// Longest wait for one answer before the connection counts as broken, ms (the CLI's).
constexpr int kAnswerTimeoutMs = 15000;

class ApiConnection : public QObject {
  Q_OBJECT

 public:
  using Callback = std::function<void(const api::Response&)>;

  /// `socket_path`: the daemon's socket, api::kDefaultSocketPath outside tests.
  explicit ApiConnection(QString socket_path, QObject* parent = nullptr,
                         int answer_timeout_ms = kAnswerTimeoutMs);
  /// Drops the callbacks of requests still waiting, without calling them: their owners may
  /// be gone already.
  ~ApiConnection() override;

  /// Connects, and keeps reconnecting after each break.
  void start();
  bool is_connected() const;
  /// Why the last attempt to connect failed or the connection broke; "" while connected.
  QString why_not_connected() const { return why_not_connected_; }

  /// Sends `request`; `done` gets the answer later from the event loop (never from inside
  /// send()): the daemon's response, or an error with code kConnectionLost.
  void send(const api::Request& request, Callback done);
  /// Requests sent and not answered yet.
  size_t waiting() const { return waiting_.size(); }

 signals:
  void connected();
  /// The connection broke, or an attempt to connect failed for a new reason (so a daemon
  /// that is not running at start is reported too, once per reason).
  void disconnected(const QString& why);

 private:
  void connect_now();
  void on_connected();
  void on_ready_read();
  void on_broken(const QString& why);
  static api::Response failure(const char* code, const QString& why);

  QString socket_path_;
  QLocalSocket socket_;
  QTimer reconnect_timer_;
  QTimer answer_timer_;
  std::deque<Callback> waiting_;  // callbacks of sent requests, oldest first
  QString why_not_connected_ = "not connected yet";
  bool connected_ = false;
  bool breaking_ = false;  // inside on_broken()
};

}  // namespace clusterlive::view
