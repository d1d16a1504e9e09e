#include "cluster_controller.h"

#include <algorithm>

namespace clusterlive::view {
namespace {

/// A request with a job argument (job, kill, lock, unlock).
api::Request job_command(api::Command command, const std::string& job) {
  return api::job_request(command, job);
}

QString error_text(const api::Response& answer) {
  return QString::fromStdString(answer.error.message.empty() ? answer.error.code
                                                             : answer.error.message);
}

}  // namespace

ClusterController::ClusterController(ApiConnection& api, uid_t caller_uid, Clock clock,
                                     QObject* parent)
    : QObject(parent), api_(api), caller_uid_(caller_uid), clock_(std::move(clock)) {
  poll_timer_.setInterval(kPollIntervalMs);
  connect(&poll_timer_, &QTimer::timeout, this, &ClusterController::poll);
  connect(&api_, &ApiConnection::connected, this, [this] {
    emit connection_changed(true, QString());
    poll();
  });
  connect(&api_, &ApiConnection::disconnected, this,
          [this](const QString& why) { emit connection_changed(false, why); });
}

void ClusterController::start() {
  api_.start();
  poll_timer_.start();
}

JobListModel& ClusterController::jobs_of(const std::string& node) {
  auto& model = job_models_[node];
  if (!model) {
    model = std::make_unique<JobListModel>(node);
    model->set_jobs(jobs_, pending_);
  }
  return *model;
}

void ClusterController::poll_now() { poll(); }

void ClusterController::poll() {
  if (poll_under_way_ || !api_.is_connected()) return;
  poll_under_way_ = true;
  // Three requests at once; the daemon answers them in order. Each answer is kept until the
  // last one is in, so that the models change from one consistent snapshot.
  struct Snapshot {
    std::optional<api::StatusView> status;
    std::optional<std::vector<api::NodeView>> nodes;
  };
  auto snapshot = std::make_shared<Snapshot>();
  api_.send(api::Request(api::Command::status), [snapshot](const api::Response& answer) {
    std::string error;
    if (answer.ok) snapshot->status = api::parse_status_result(answer.result, error);
  });
  api_.send(api::Request(api::Command::nodes), [snapshot](const api::Response& answer) {
    std::string error;
    if (answer.ok) snapshot->nodes = api::parse_nodes_result(answer.result, error);
  });
  api_.send(api::Request(api::Command::ps), [this, snapshot](const api::Response& answer) {
    poll_under_way_ = false;
    std::string error;
    std::optional<std::vector<api::JobView>> jobs;
    if (answer.ok) jobs = api::parse_jobs_result(answer.result, error);
    // The daemon cannot list the jobs now (no /cluster mounted; the tray says why): the last
    // list stays, nodes and loads go on. An empty list would end every move under way.
    bool cannot_list =
        !answer.ok && answer.error.code == api::error_code_name(api::ErrorCode::failed);
    if (cannot_list) jobs = jobs_;
    // A part missing (the connection broke, a malformed answer): keep showing the last
    // snapshot; the next poll tries again.
    if (!snapshot->status || !snapshot->nodes || !jobs) return;
    apply_snapshot(std::move(*snapshot->status), std::move(*snapshot->nodes), std::move(*jobs));
  });
}

void ClusterController::apply_snapshot(api::StatusView status, std::vector<api::NodeView> nodes,
                                       std::vector<api::JobView> jobs) {
  int64_t now = clock_();
  status_ = std::move(status);
  nodes_ = std::move(nodes);
  jobs_ = std::move(jobs);
  node_model_.set_nodes(nodes_);
  load_history_.add(nodes_, now);
  migration_log_.observe(jobs_);
  std::vector<FinishedMove> finished = pending_.update(jobs_, now);
  // A departed node's job model stays (empty, as no job runs there): a card or a drag may
  // still be using it, and a node that comes back finds its model again.
  refresh_job_models();
  finish_moves(finished);
  emit refreshed();
}

void ClusterController::refresh_job_models() {
  for (auto& [node, model] : job_models_) model->set_jobs(jobs_, pending_);
}

void ClusterController::finish_moves(const std::vector<FinishedMove>& finished) {
  for (const FinishedMove& move : finished) emit move_finished(move);
}

MoveForecast ClusterController::forecast(const std::string& job, const std::string& target) const {
  auto it = std::find_if(jobs_.begin(), jobs_.end(),
                         [&](const api::JobView& view) { return view.id == job; });
  if (it == jobs_.end()) {
    MoveForecast unknown;
    unknown.refusal = job + " is not in the cluster's job list";
    return unknown;
  }
  if (pending_.find(job) != nullptr) {
    MoveForecast busy;
    busy.refusal = job + " is being moved already";
    return busy;
  }
  return forecast_move(*it, target, nodes_, ForecastContext{caller_uid_, latest_freeze_ms(jobs_)});
}

bool ClusterController::request_move(const std::string& job, const std::string& from,
                                     const std::string& target) {
  if (!pending_.request(job, from, target, clock_())) return false;
  refresh_job_models();  // the item shows "asked" at once
  api::MigrateRequest migrate;
  migrate.job = job;
  migrate.target = target;
  api_.send(api::migrate_request(migrate), [this, job, target](const api::Response& answer) {
    if (answer.ok) {
      std::string error;
      std::optional<api::JobView> started = api::parse_job_result(answer.result, error);
      if (started) {
        std::optional<FinishedMove> unfollowable = pending_.started(*started, clock_());
        refresh_job_models();
        if (unfollowable) finish_moves({*unfollowable});
        poll();
        return;
      }
      // Started, but the answer cannot be read: the next snapshots will not find our attempt;
      // say so rather than wait in silence.
      std::optional<FinishedMove> finished =
          pending_.refused(job, "the daemon's answer could not be read: " + error);
      if (finished) finish_moves({*finished});
      refresh_job_models();
      return;
    }
    std::string reason = answer.error.message.empty() ? answer.error.code : answer.error.message;
    if (answer.error.code == kConnectionLost)
      reason = "the connection to clusterlived broke; the move may still happen: " + reason;
    migration_log_.add_refusal(clock_(), job, target, reason);
    std::optional<FinishedMove> finished = pending_.refused(job, reason);
    refresh_job_models();
    if (finished) finish_moves({*finished});
  });
  return true;
}

void ClusterController::send_job_command(api::Command command, const std::string& job,
                                         const QString& what) {
  api_.send(job_command(command, job), [this, what](const api::Response& answer) {
    if (!answer.ok) emit action_failed(what + ": " + error_text(answer));
    poll();
  });
}

void ClusterController::kill_job(const std::string& job) {
  send_job_command(api::Command::kill, job, QString("kill %1").arg(QString::fromStdString(job)));
}

void ClusterController::set_locked(const std::string& job, bool locked) {
  send_job_command(locked ? api::Command::lock : api::Command::unlock, job,
                   QString("%1 %2").arg(locked ? "lock" : "unlock", QString::fromStdString(job)));
}

}  // namespace clusterlive::view
