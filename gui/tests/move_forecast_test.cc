// The forecast shown before a drop: the daemon's refusals named first, then the cost (bytes,
// freeze) and the gain, with the placement policy's own formula.
#include <QTest>

#include "fake_daemon.h"
#include "move_forecast.h"

using namespace clusterlive;
using namespace clusterlive::view;
using testing::job_view;
using testing::node_view;

namespace {

std::vector<api::NodeView> three_nodes() {
  return {node_view("node-a", "up", true, 1, 1000, 2.0), node_view("node-b", "up", false, 4, 1000, 0),
          node_view("node-c", "suspect", false, 4, 1000, 0)};
}

ForecastContext ann() { return ForecastContext{1000, std::nullopt}; }

}  // namespace

class MoveForecastTest : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void aFreeNodeTakesTheJobFaster() {
    api::JobView job = job_view("j-00000001", "node-a", "", 512 * 1024);
    MoveForecast forecast = forecast_move(job, "node-b", three_nodes(), ann());
    QVERIFY2(forecast.possible, forecast.refusal.c_str());
    QCOMPARE(forecast.bytes_to_move, uint64_t{512} * 1024 * 1024);
    QVERIFY(!forecast.estimated_freeze_ms);
    // node-a: one core, the job and one other task: half a core. node-b: a whole one.
    QVERIFY(forecast.speedup);
    QCOMPARE(*forecast.speedup, 2.0);
    QCOMPARE(describe_forecast(forecast),
             std::string("can take it: 512 MiB to send, freeze not known yet, 2.0x as fast"));
  }

  void theFreezeIsTheJobsOwnLastOneElseTheClustersLast() {
    api::JobView job = job_view("j-00000001", "node-a");
    ForecastContext context{1000, 700};
    QCOMPARE(forecast_move(job, "node-b", three_nodes(), context).estimated_freeze_ms,
             std::optional<int64_t>(700));
    api::MigrationView before;
    before.outcome = api::kMigrationCommitted;
    before.freeze_ms = 1200;
    job.migration = before;
    QCOMPARE(forecast_move(job, "node-b", three_nodes(), context).estimated_freeze_ms,
             std::optional<int64_t>(1200));
  }

  void refusals_data() {
    QTest::addColumn<QString>("change");
    QTest::addColumn<QString>("target");
    QTest::addColumn<QString>("refusal");
    QTest::newRow("not up") << "" << "node-c" << "node-c is suspect";
    QTest::newRow("unknown node") << "" << "node-z" << "node-z is not a member any more";
    QTest::newRow("same node") << "" << "node-a" << "j-00000001 already runs on node-a";
    QTest::newRow("locked") << "locked" << "node-b" << "j-00000001 is locked to node-a";
    QTest::newRow("ended") << "ended" << "node-b" << "j-00000001 has ended";
    QTest::newRow("moving") << "migrating" << "node-b" << "j-00000001 is being moved already";
    QTest::newRow("someone else's") << "bob" << "node-b" << "j-00000001 is bob's job";
    QTest::newRow("too big") << "huge" << "node-b"
                             << "node-b has 4096 MiB free; j-00000001 needs 8192";
  }
  void refusals() {
    QFETCH(QString, change);
    QFETCH(QString, target);
    QFETCH(QString, refusal);
    api::JobView job = job_view("j-00000001", "node-a");
    if (change == "locked") job.locked = true;
    if (change == "ended") job.state = api::kJobExited;
    if (change == "migrating") job.state = api::kJobMigrating;
    if (change == "bob") {
      job.owner_uid = 1001;
      job.owner = "bob";
    }
    if (change == "huge") job.rss_kib = 4 * 1024 * 1024;  // 4 GiB: 8 GiB free needed
    MoveForecast forecast = forecast_move(job, target.toStdString(), three_nodes(), ann());
    QVERIFY(!forecast.possible);
    QCOMPARE(QString::fromStdString(forecast.refusal), refusal);
    QCOMPARE(QString::fromStdString(describe_forecast(forecast)), "cannot take it: " + refusal);
  }

  void rootMovesAnyonesJob() {
    api::JobView job = job_view("j-00000001", "node-a");
    job.owner_uid = 1001;
    QVERIFY(forecast_move(job, "node-b", three_nodes(), ForecastContext{0, std::nullopt}).possible);
  }

  void aSlowerTargetSaysSo() {
    std::vector<api::NodeView> nodes = {node_view("node-a", "up", true, 4, 2000, 1.0),
                                        node_view("node-b", "up", false, 4, 1000, 0)};
    MoveForecast forecast = forecast_move(job_view("j-00000001", "node-a"), "node-b", nodes, ann());
    QVERIFY(forecast.possible);
    QCOMPARE(*forecast.speedup, 0.5);
    QVERIFY(describe_forecast(forecast).find("2.0x slower") != std::string::npos);
  }

  void theLatestFreezeIsByUpdateTime() {
    api::JobView older = job_view("j-00000001", "node-a");
    api::JobView newer = job_view("j-00000002", "node-a");
    older.migration = api::MigrationView{};
    older.migration->freeze_ms = 100;
    older.migration->updated_unix_ms = 5;
    newer.migration = api::MigrationView{};
    newer.migration->freeze_ms = 900;
    newer.migration->updated_unix_ms = 9;
    QCOMPARE(latest_freeze_ms({older, newer}), std::optional<int64_t>(900));
    QCOMPARE(latest_freeze_ms({job_view("j-00000003", "node-a")}), std::optional<int64_t>());
  }
};

QTEST_MAIN(MoveForecastTest)
#include "move_forecast_test.moc"
