#include "fake_daemon.h"

#include <QDateTime>
#include <algorithm>

namespace clusterlive::view::testing {

FakeDaemon::FakeDaemon() {
  status.version = "test";
  status.node = "node-a";
  status.cluster_id = "0123456789abcdef";
  status.storage.mounted = true;
  connect(&server_, &QLocalServer::newConnection, this, &FakeDaemon::on_new_connection);
  start();
}

FakeDaemon::~FakeDaemon() { stop(); }

QString FakeDaemon::socket_path() const { return dir_.filePath("api.sock"); }

void FakeDaemon::start() {
  if (!server_.isListening()) server_.listen(socket_path());
}

void FakeDaemon::stop() {
  server_.close();
  for (QLocalSocket* client : server_.findChildren<QLocalSocket*>()) client->abort();
}

int FakeDaemon::count(api::Command command) const {
  return static_cast<int>(std::count_if(requests.begin(), requests.end(),
                                        [&](const api::Request& r) { return r.command == command; }));
}

const api::Request* FakeDaemon::last(api::Command command) const {
  for (auto it = requests.rbegin(); it != requests.rend(); ++it)
    if (it->command == command) return &*it;
  return nullptr;
}

api::JobView* FakeDaemon::find_job(const std::string& id) {
  auto it = std::find_if(jobs.begin(), jobs.end(), [&](const api::JobView& j) { return j.id == id; });
  return it == jobs.end() ? nullptr : &*it;
}

void FakeDaemon::on_new_connection() {
  while (QLocalSocket* client = server_.nextPendingConnection()) {
    connect(client, &QLocalSocket::readyRead, this, [this, client] { on_ready_read(client); });
    connect(client, &QLocalSocket::disconnected, client, &QObject::deleteLater);
  }
}

void FakeDaemon::on_ready_read(QLocalSocket* client) {
  while (client->canReadLine()) {
    QByteArray line = client->readLine();
    line.chop(1);
    api::ParsedRequest parsed = api::parse_request(line.toStdString());
    std::string reply;
    if (parsed.request) {
      requests.push_back(*parsed.request);
      reply = answer(*parsed.request);
    } else {
      reply = api::format_error(parsed.error);
    }
    if (!answering) continue;
    client->write(QByteArray::fromStdString(reply + "\n"));
  }
}

std::string FakeDaemon::answer(const api::Request& request) {
  switch (request.command) {
    case api::Command::status:
      return api::format_ok(api::status_result(status));
    case api::Command::nodes:
      return api::format_ok(api::nodes_result(nodes));
    case api::Command::ps:
      if (jobs_unavailable) return api::format_error(api::ErrorCode::failed, *jobs_unavailable);
      return api::format_ok(api::jobs_result(jobs));
    case api::Command::migrate: {
      api::JobView* job = find_job(request.job);
      if (job == nullptr) return api::format_error(api::ErrorCode::not_found, "no such job");
      if (refuse_migrate) return api::format_error(api::ErrorCode::failed, *refuse_migrate);
      api::MigrationView migration;
      migration.target = request.target == api::kMigrateToHome ? job->home : request.target;
      migration.attempt = job->migration ? job->migration->attempt + 1 : 1;
      migration.phase = "starting";
      migration.outcome = api::kMigrationInProgress;
      migration.updated_unix_ms = QDateTime::currentMSecsSinceEpoch();
      job->migration = migration;
      job->state = api::kJobMigrating;
      return api::format_ok(api::job_result(*job));
    }
    case api::Command::lock:
    case api::Command::unlock:
    case api::Command::kill: {
      api::JobView* job = find_job(request.job);
      if (job == nullptr) return api::format_error(api::ErrorCode::not_found, "no such job");
      if (request.command == api::Command::kill)
        return api::format_error(api::ErrorCode::failed, request.job + " has ended");
      job->locked = request.command == api::Command::lock;
      return api::format_ok(api::job_result(*job));
    }
    default:
      return api::format_error(api::ErrorCode::unknown_command, "not in the fake");
  }
}

api::NodeView node_view(const std::string& name, const std::string& state, bool self,
                        uint16_t cores, uint32_t speed, double load, uint32_t free_mib) {
  api::NodeView node;
  node.name = name;
  node.state = state;
  node.self = self;
  node.cores = cores;
  node.cpu_speed = speed;
  node.load = load;
  node.free_memory_mib = free_mib;
  return node;
}

api::JobView job_view(const std::string& id, const std::string& where, const std::string& home,
                      uint64_t rss_kib) {
  api::JobView job;
  job.id = id;
  job.name = "counter";
  job.owner_uid = 1000;
  job.owner = "ann";
  job.home = home.empty() ? where : home;
  job.where = where;
  job.state = api::kJobRunning;
  job.cpu_percent = 100;
  job.rss_kib = rss_kib;
  job.started_unix_ms = 1795255200000;
  job.spool = "/cluster/jobs/" + id;
  return job;
}

}  // namespace clusterlive::view::testing
