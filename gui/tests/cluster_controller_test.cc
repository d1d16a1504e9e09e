// The controller against a fake daemon speaking the real protocol: snapshots feed the models
// (checked by QAbstractItemModelTester throughout); a requested move sends exactly one
// `migrate` and moves nothing until a snapshot shows the job on the target; a refusal leaves
// the job where it was, with the daemon's reason; a daemon restart is survived.
#include <QAbstractItemModelTester>

#include "controller_fixture.h"

using namespace clusterlive;
using namespace clusterlive::view;
using clusterlive::view::testing::ControllerFixture;

class ClusterControllerTest : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void snapshotsFeedTheModels() {
    ControllerFixture fixture;
    QVERIFY(fixture.start());
    ClusterController& controller = *fixture.controller;
    QCOMPARE(controller.nodes().rowCount(), 3);
    QVERIFY(controller.status());
    QCOMPARE(controller.status()->node, std::string("node-a"));
    QCOMPARE(controller.jobs_of("node-a").rowCount(), 1);
    QCOMPARE(controller.jobs_of("node-b").rowCount(), 0);
    QVERIFY(!controller.load_history().samples().empty());
  }

  void whileTheJobsCannotBeListedNodesGoOnAndAMoveUnderWayIsNotEnded() {
    ControllerFixture fixture;
    QVERIFY(fixture.start());
    ClusterController& controller = *fixture.controller;
    QSignalSpy finished(&controller, &ClusterController::move_finished);
    QVERIFY(controller.request_move("j-00000001", "node-a", "node-b"));
    QTRY_VERIFY(controller.pending().find("j-00000001") &&
                controller.pending().find("j-00000001")->attempt == 1);

    fixture.daemon.jobs_unavailable = "no storage node reachable: /cluster is not mounted";
    fixture.daemon.nodes.push_back(testing::node_view("node-d"));
    QTRY_COMPARE(controller.nodes().rowCount(), 4);  // snapshots still come in
    QSignalSpy refreshed(&controller, &ClusterController::refreshed);
    QVERIFY(refreshed.wait(3000));
    QCOMPARE(controller.jobs_of("node-a").rowCount(), 1);  // the last list stays
    QCOMPARE(finished.count(), 0);
    QVERIFY(controller.pending().find("j-00000001"));

    fixture.daemon.jobs_unavailable.reset();
    fixture.commit("j-00000001", "node-b");
    QTRY_COMPARE(finished.count(), 1);
    QVERIFY(finished[0][0].value<FinishedMove>().moved);
  }

  void aMoveIsOneRequestAndNothingMovesUntilTheDaemonSaysSo() {
    ControllerFixture fixture;
    QVERIFY(fixture.start());
    ClusterController& controller = *fixture.controller;
    QAbstractItemModelTester here(&controller.jobs_of("node-a"),
                                  QAbstractItemModelTester::FailureReportingMode::QtTest);
    QAbstractItemModelTester there(&controller.jobs_of("node-b"),
                                   QAbstractItemModelTester::FailureReportingMode::QtTest);
    QAbstractItemModelTester nodes(&controller.nodes(),
                                   QAbstractItemModelTester::FailureReportingMode::QtTest);
    QSignalSpy finished(&controller, &ClusterController::move_finished);

    QVERIFY(controller.request_move("j-00000001", "node-a", "node-b"));
    QVERIFY(!controller.request_move("j-00000001", "node-a", "node-b"));  // one at a time
    QTRY_COMPARE(fixture.daemon.count(api::Command::migrate), 1);
    QCOMPARE(fixture.daemon.last(api::Command::migrate)->target, std::string("node-b"));
    QTRY_VERIFY(controller.pending().find("j-00000001") &&
                controller.pending().find("j-00000001")->attempt == 1);
    // Pending: still on node-a's card, showing the move.
    QCOMPARE(controller.jobs_of("node-a").rowCount(), 1);
    QVERIFY(controller.jobs_of("node-a").index(0).data(JobListModel::PendingRole).toString()
                .contains("node-b"));
    QCOMPARE(controller.jobs_of("node-b").rowCount(), 0);
    // A few snapshots later, still nothing moved.
    QSignalSpy refreshed(&controller, &ClusterController::refreshed);
    QVERIFY(refreshed.wait(3000));
    QCOMPARE(controller.jobs_of("node-b").rowCount(), 0);

    fixture.commit("j-00000001", "node-b");
    QTRY_COMPARE(finished.count(), 1);
    FinishedMove move = finished[0][0].value<FinishedMove>();
    QVERIFY(move.moved);
    QCOMPARE(controller.jobs_of("node-a").rowCount(), 0);
    QCOMPARE(controller.jobs_of("node-b").rowCount(), 1);
    QCOMPARE(fixture.daemon.count(api::Command::migrate), 1);
    QCOMPARE(controller.migration_log().entries().size(), size_t{1});
    QCOMPARE(controller.forecast("j-00000001", "node-a").estimated_freeze_ms,
             std::optional<int64_t>(850));
  }

  void aRefusalLeavesTheJobWithTheReason() {
    ControllerFixture fixture;
    QVERIFY(fixture.start());
    ClusterController& controller = *fixture.controller;
    fixture.daemon.refuse_migrate = "j-00000001 is locked: it stays on node-a";
    QSignalSpy finished(&controller, &ClusterController::move_finished);
    controller.request_move("j-00000001", "node-a", "node-b");
    QTRY_COMPARE(finished.count(), 1);
    FinishedMove move = finished[0][0].value<FinishedMove>();
    QVERIFY(!move.moved);
    QCOMPARE(move.outcome, std::string("refused"));
    QCOMPARE(move.reason, std::string("j-00000001 is locked: it stays on node-a"));
    QVERIFY(!controller.pending().find("j-00000001"));
    QCOMPARE(controller.jobs_of("node-a").rowCount(), 1);
    QVERIFY(controller.jobs_of("node-a").index(0).data(JobListModel::PendingRole).toString().isEmpty());
    QCOMPARE(controller.migration_log().entries().front().outcome, std::string("refused"));
  }

  void aDaemonRestartIsSurvived() {
    ControllerFixture fixture;
    QVERIFY(fixture.start());
    ClusterController& controller = *fixture.controller;
    QSignalSpy changes(&controller, &ClusterController::connection_changed);
    fixture.daemon.stop();
    QTRY_VERIFY(changes.count() >= 1);
    QCOMPARE(changes.last()[0].toBool(), false);
    QVERIFY(!controller.connected());
    // The last snapshot stays on show meanwhile.
    QCOMPARE(controller.nodes().rowCount(), 3);
    fixture.daemon.nodes.push_back(testing::node_view("node-d"));
    fixture.daemon.start();
    QTRY_VERIFY_WITH_TIMEOUT(controller.connected(), 5000);
    QCOMPARE(changes.last()[0].toBool(), true);
    QTRY_COMPARE(controller.nodes().rowCount(), 4);
  }

  void failedActionsAreReported() {
    ControllerFixture fixture;
    QVERIFY(fixture.start());
    QSignalSpy failed(fixture.controller.get(), &ClusterController::action_failed);
    fixture.controller->kill_job("j-00000001");  // the fake answers: it has ended
    QTRY_COMPARE(failed.count(), 1);
    QVERIFY(failed[0][0].toString().contains("has ended"));
    fixture.controller->set_locked("j-00000001", true);
    QTRY_VERIFY(fixture.daemon.find_job("j-00000001")->locked);
    QTRY_VERIFY(fixture.controller->jobs_of("node-a").index(0).data(JobListModel::LockedRole).toBool());
  }
};

QTEST_MAIN(ClusterControllerTest)
#include "cluster_controller_test.moc"
