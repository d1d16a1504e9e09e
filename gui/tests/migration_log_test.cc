// The migrations log: each attempt once, newest first, refusals included, bounded.
#include <QTest>

#include "fake_daemon.h"
#include "migration_log.h"

using namespace clusterlive;
using namespace clusterlive::view;

namespace {

api::JobView ended_move(const std::string& id, uint64_t attempt, int64_t at,
                        const std::string& outcome = api::kMigrationCommitted) {
  api::JobView job = testing::job_view(id, "node-b", "node-a");
  api::MigrationView migration;
  migration.target = "node-b";
  migration.attempt = attempt;
  migration.outcome = outcome;
  migration.updated_unix_ms = at;
  migration.freeze_ms = 900;
  job.migration = migration;
  return job;
}

}  // namespace

class MigrationLogTest : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void eachAttemptIsLoggedOnceNewestFirst() {
    MigrationLog log;
    log.observe({ended_move("j-00000002", 1, 20), ended_move("j-00000001", 1, 10)});
    log.observe({ended_move("j-00000002", 1, 20), ended_move("j-00000001", 2, 30)});
    QCOMPARE(log.entries().size(), size_t{3});
    QCOMPARE(log.entries()[0].at_unix_ms, int64_t{30});
    QCOMPARE(log.entries()[1].at_unix_ms, int64_t{20});
    QCOMPARE(log.entries()[2].at_unix_ms, int64_t{10});
    QCOMPARE(describe_log_entry(log.entries()[0]),
             std::string("j-00000001 (counter) \u2192 node-b: committed, frozen 0.9 s"));
  }

  void movesUnderWayAreNotLogged() {
    MigrationLog log;
    log.observe({ended_move("j-00000001", 1, 10, api::kMigrationInProgress)});
    QVERIFY(log.entries().empty());
  }

  void refusalsAreLoggedWithTheReason() {
    MigrationLog log;
    log.add_refusal(5, "j-00000001", "node-c", "node-c is not a live member");
    QCOMPARE(describe_log_entry(log.entries()[0]),
             std::string("j-00000001 \u2192 node-c: refused (node-c is not a live member)"));
  }

  void theLogIsBounded() {
    MigrationLog log;
    for (size_t i = 0; i < kMigrationLogLimit + 10; ++i)
      log.observe({ended_move("j-00000001", i + 1, static_cast<int64_t>(i))});
    QCOMPARE(log.entries().size(), kMigrationLogLimit);
    QCOMPARE(log.entries().front().attempt, uint64_t{kMigrationLogLimit + 10});
    // An attempt dropped from the list is not logged again.
    log.observe({ended_move("j-00000001", 1, 0)});
    QCOMPARE(log.entries().front().attempt, uint64_t{kMigrationLogLimit + 10});
  }
};

QTEST_MAIN(MigrationLogTest)
#include "migration_log_test.moc"
