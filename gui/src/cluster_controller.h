// What the window and the tray show, kept fresh from the local daemon: it asks for `status`,
// `nodes` and `ps` every kPollIntervalMs (the API has no push), feeds the models, the load
// history and the migrations log, and sends the user's requests (move, kill, lock). No
// widgets here: the tests drive it against a fake daemon on a temporary socket.
#pragma once

#include <sys/types.h>

#include <QObject>
#include <QTimer>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "api_connection.h"
#include "job_list_model.h"
#include "load_history.h"
#include "migration_log.h"
#include "move_forecast.h"
#include "node_list_model.h"
#include "pending_moves.h"

namespace clusterlive::view {

/// Between two snapshots, ms.
constexpr int kPollIntervalMs = 1000;

class ClusterController : public QObject {
  Q_OBJECT

 public:
  using Clock = std::function<int64_t()>;  ///< ms since the Unix epoch

  /// `caller_uid`: the GUI's user (what it may move). `clock`: the wall clock.
  ClusterController(ApiConnection& api, uid_t caller_uid, Clock clock, QObject* parent = nullptr);

  /// Connects and polls from now on.
  void start();

  bool connected() const { return api_.is_connected(); }
  /// The last `status` answer; nullopt before the first.
  const std::optional<api::StatusView>& status() const { return status_; }
  const std::vector<api::NodeView>& node_views() const { return nodes_; }
  const std::vector<api::JobView>& jobs() const { return jobs_; }
  NodeListModel& nodes() { return node_model_; }
  /// The jobs of node `node` (a model made on first use, kept while the node is known).
  JobListModel& jobs_of(const std::string& node);
  const PendingMoves& pending() const { return pending_; }
  const LoadHistory& load_history() const { return load_history_; }
  const MigrationLog& migration_log() const { return migration_log_; }
  uid_t caller_uid() const { return caller_uid_; }

  /// What moving `job` to `target` would cost and gain (see move_forecast.h).
  MoveForecast forecast(const std::string& job, const std::string& target) const;
  /// Asks the daemon to move `job`, dragged from `from`, to `target` (a node, "home" or
  /// "best"). False, and nothing sent, while a move of it is pending.
  bool request_move(const std::string& job, const std::string& from, const std::string& target);
  void kill_job(const std::string& job);
  void set_locked(const std::string& job, bool locked);
  /// Polls now instead of at the next tick (after an action, so its effect shows at once).
  void poll_now();

 signals:
  /// A new snapshot is in: the models are up to date.
  void refreshed();
  /// A move this window asked for ended: moved, aborted, refused...
  void move_finished(const clusterlive::view::FinishedMove& move);
  /// A kill or lock failed, for a person.
  void action_failed(const QString& why);
  void connection_changed(bool connected, const QString& why);

 private:
  void poll();
  void apply_snapshot(api::StatusView status, std::vector<api::NodeView> nodes,
                      std::vector<api::JobView> jobs);
  void finish_moves(const std::vector<FinishedMove>& finished);
  void refresh_job_models();
  void send_job_command(api::Command command, const std::string& job, const QString& what);

  ApiConnection& api_;
  uid_t caller_uid_;
  Clock clock_;
  QTimer poll_timer_;
  bool poll_under_way_ = false;

  std::optional<api::StatusView> status_;
  std::vector<api::NodeView> nodes_;
  std::vector<api::JobView> jobs_;
  NodeListModel node_model_;
  std::map<std::string, std::unique_ptr<JobListModel>> job_models_;  // by node
  PendingMoves pending_;
  LoadHistory load_history_;
  MigrationLog migration_log_;
};

}  // namespace clusterlive::view

// For queued connections and QSignalSpy.
Q_DECLARE_METATYPE(clusterlive::view::FinishedMove)
