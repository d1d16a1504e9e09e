// A fake daemon with a two-node cluster (this PC node-a, and node-b; node-c suspect) and
// one job of ann (uid 1000) on node-a, and a controller connected to it as ann.
#pragma once

#include <QDateTime>
#include <QSignalSpy>
#include <QTest>
#include <memory>

#include "api_connection.h"
#include "cluster_controller.h"
#include "fake_daemon.h"

namespace clusterlive::view::testing {

struct ControllerFixture {
  FakeDaemon daemon;
  std::unique_ptr<ApiConnection> api;
  std::unique_ptr<ClusterController> controller;

  /// Starts the controller and waits for its first snapshot; false if none came.
  bool start() {
    daemon.nodes = {node_view("node-a", "up", true, 1, 1000, 2.0),
                    node_view("node-b", "up", false, 4, 1000, 0),
                    node_view("node-c", "suspect", false, 4, 1000, 0)};
    daemon.jobs = {job_view("j-00000001", "node-a")};
    api = std::make_unique<ApiConnection>(daemon.socket_path());
    controller = std::make_unique<ClusterController>(
        *api, 1000, [] { return QDateTime::currentMSecsSinceEpoch(); });
    QSignalSpy refreshed(controller.get(), &ClusterController::refreshed);
    controller->start();
    return refreshed.wait(5000);
  }

  /// The daemon's side of a committed move of `id` to `target`.
  void commit(const std::string& id, const std::string& target) {
    api::JobView* job = daemon.find_job(id);
    job->where = target;
    job->state = api::kJobRunning;
    job->migrations += 1;
    job->migration->phase = "committed";
    job->migration->outcome = api::kMigrationCommitted;
    job->migration->freeze_ms = 850;
    job->migration->updated_unix_ms = QDateTime::currentMSecsSinceEpoch();
  }
};

}  // namespace clusterlive::view::testing
