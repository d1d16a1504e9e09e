#include "api_connection.h"

namespace clusterlive::view {

ApiConnection::ApiConnection(QString socket_path, QObject* parent, int answer_timeout_ms)
    : QObject(parent), socket_path_(std::move(socket_path)) {
  reconnect_timer_.setSingleShot(true);
  reconnect_timer_.setInterval(kReconnectDelayMs);
  connect(&reconnect_timer_, &QTimer::timeout, this, &ApiConnection::connect_now);
  answer_timer_.setSingleShot(true);
  answer_timer_.setInterval(answer_timeout_ms);
  connect(&answer_timer_, &QTimer::timeout, this, [this, answer_timeout_ms] {
    on_broken(QString("clusterlived did not answer within %1 ms").arg(answer_timeout_ms));
  });
  connect(&socket_, &QLocalSocket::connected, this, &ApiConnection::on_connected);
  connect(&socket_, &QLocalSocket::readyRead, this, &ApiConnection::on_ready_read);
  connect(&socket_, &QLocalSocket::errorOccurred, this, [this](QLocalSocket::LocalSocketError) {
    on_broken("cannot reach clusterlived at " + socket_path_ + ": " + socket_.errorString());
  });
  connect(&socket_, &QLocalSocket::disconnected, this,
          [this] { on_broken("clusterlived closed the connection"); });
}

ApiConnection::~ApiConnection() {
  QObject::disconnect(&socket_, nullptr, this, nullptr);
  reconnect_timer_.stop();
  answer_timer_.stop();
  waiting_.clear();
  socket_.abort();
}

void ApiConnection::start() { connect_now(); }

bool ApiConnection::is_connected() const { return connected_; }

void ApiConnection::connect_now() {
  if (socket_.state() != QLocalSocket::UnconnectedState) return;
  socket_.connectToServer(socket_path_);
}

void ApiConnection::on_connected() {
  connected_ = true;
  why_not_connected_.clear();
  emit connected();
}

void ApiConnection::send(const api::Request& request, Callback done) {
  if (!is_connected()) {
    api::Response answer = failure(kNotConnected, why_not_connected_);
    QMetaObject::invokeMethod(
        this, [done = std::move(done), answer] { done(answer); }, Qt::QueuedConnection);
    return;
  }
  QByteArray line = QByteArray::fromStdString(api::format_request(request));
  line.append('\n');
  waiting_.push_back(std::move(done));
  if (!answer_timer_.isActive()) answer_timer_.start();
  socket_.write(line);
}

void ApiConnection::on_ready_read() {
  while (socket_.canReadLine()) {
    QByteArray line = socket_.readLine();
    line.chop(1);  // the newline
    if (line.endsWith('\r')) line.chop(1);
    if (line.isEmpty()) continue;
    if (waiting_.empty()) {
      on_broken("clusterlived sent an answer to nothing");
      return;
    }
    api::ParsedResponse parsed = api::parse_response(line.toStdString());
    if (!parsed.response) {
      on_broken("clusterlived sent a malformed answer: " + QString::fromStdString(parsed.error));
      return;
    }
    Callback done = std::move(waiting_.front());
    waiting_.pop_front();
    if (waiting_.empty())
      answer_timer_.stop();
    else
      answer_timer_.start();  // the next answer gets its own time
    done(*parsed.response);
    // `done` may have closed the socket (a test's teardown): read no further then.
    if (!is_connected()) return;
  }
  if (socket_.bytesAvailable() > static_cast<qint64>(api::kMaxResponseBytes))
    on_broken("clusterlived sent an answer longer than the protocol allows");
}

void ApiConnection::on_broken(const QString& why) {
  // abort() below re-enters through the socket's signals; one break is handled once.
  if (breaking_) return;
  breaking_ = true;
  const bool was_up = connected_;
  const bool news = was_up || why != why_not_connected_;
  connected_ = false;
  why_not_connected_ = why;
  answer_timer_.stop();
  if (socket_.state() != QLocalSocket::UnconnectedState) socket_.abort();
  std::deque<Callback> failed;
  failed.swap(waiting_);
  if (!reconnect_timer_.isActive()) reconnect_timer_.start();
  breaking_ = false;
  if (news) emit disconnected(why);
  // The waiting requests fail from the event loop, after the news of the break, as every
  // answer comes: a callback that opens a dialog must not run inside the socket's signal.
  for (Callback& done : failed) {
    QMetaObject::invokeMethod(
        this, [done = std::move(done), why] { done(failure(kConnectionLost, why)); },
        Qt::QueuedConnection);
  }
}

api::Response ApiConnection::failure(const char* code, const QString& why) {
  api::Response answer;
  answer.ok = false;
  answer.error.code = code;
  answer.error.message = why.toStdString();
  return answer;
}

}  // namespace clusterlive::view
