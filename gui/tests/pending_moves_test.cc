// A move asked for by a drop is followed through the daemon's answer and the `ps` snapshots
// to its end: committed, aborted with the reason, refused, the job's end, or silence.
#include <QTest>

#include "fake_daemon.h"
#include "pending_moves.h"

using namespace clusterlive;
using namespace clusterlive::view;
using testing::job_view;

namespace {

api::JobView moving(const std::string& id, uint64_t attempt, const std::string& outcome,
                    int64_t updated, const std::string& phase = "precopy") {
  api::JobView job = job_view(id, "node-a");
  job.state = outcome == api::kMigrationInProgress ? api::kJobMigrating : api::kJobRunning;
  api::MigrationView migration;
  migration.target = "node-b";
  migration.attempt = attempt;
  migration.phase = phase;
  migration.round = 2;
  migration.bytes_sent = 3 * 1024 * 1024;
  migration.outcome = outcome;
  migration.updated_unix_ms = updated;
  job.migration = migration;
  return job;
}

}  // namespace

class PendingMovesTest : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void oneRequestPerJobAtATime() {
    PendingMoves moves;
    QVERIFY(moves.request("j-00000001", "node-a", "node-b", 0));
    QVERIFY(!moves.request("j-00000001", "node-a", "node-c", 1));
    QCOMPARE(moves.find("j-00000001")->target, std::string("node-b"));
    QCOMPARE(describe_pending(*moves.find("j-00000001")), std::string("\u2192 node-b: asked"));
  }

  void aCommittedMoveEndsAsMoved() {
    PendingMoves moves;
    moves.request("j-00000001", "node-a", "home", 0);
    moves.started(moving("j-00000001", 3, api::kMigrationInProgress, 10, "starting"), 10);
    QCOMPARE(moves.find("j-00000001")->target, std::string("node-b"));  // "home" resolved
    // The previous attempt's end in a snapshot is not ours.
    QVERIFY(moves.update({moving("j-00000001", 2, api::kMigrationAborted, 5)}, 20).empty());
    QVERIFY(moves.update({moving("j-00000001", 3, api::kMigrationInProgress, 30)}, 30).empty());
    QCOMPARE(describe_pending(*moves.find("j-00000001")),
             std::string("\u2192 node-b: pre-copy round 2, 3.0 MiB sent"));
    std::vector<FinishedMove> ended =
        moves.update({moving("j-00000001", 3, api::kMigrationCommitted, 40, "committed")}, 40);
    QCOMPARE(ended.size(), size_t{1});
    QVERIFY(ended[0].moved);
    QCOMPARE(ended[0].outcome, std::string("committed"));
    QCOMPARE(ended[0].from, std::string("node-a"));
    QVERIFY(moves.empty());
  }

  void anAbortedMoveEndsWithTheDaemonsReason() {
    PendingMoves moves;
    moves.request("j-00000001", "node-a", "node-b", 0);
    moves.started(moving("j-00000001", 1, api::kMigrationInProgress, 1), 1);
    api::JobView aborted = moving("j-00000001", 1, api::kMigrationAborted, 50, "aborted");
    aborted.migration->reason = "preflight refused: pid 12 has /tmp/x open";
    std::vector<FinishedMove> ended = moves.update({aborted}, 50);
    QCOMPARE(ended.size(), size_t{1});
    QVERIFY(!ended[0].moved);
    QCOMPARE(ended[0].reason, std::string("preflight refused: pid 12 has /tmp/x open"));
  }

  void aRefusalEndsTheMove() {
    PendingMoves moves;
    moves.request("j-00000001", "node-a", "node-b", 0);
    std::optional<FinishedMove> ended = moves.refused("j-00000001", "j-00000001 is locked");
    QVERIFY(ended);
    QCOMPARE(ended->outcome, std::string("refused"));
    QVERIFY(!moves.refused("j-00000001", "twice"));
    QVERIFY(moves.empty());
  }

  void anUnansweredRequestWaitsForTheAnswerNotTheSnapshot() {
    PendingMoves moves;
    moves.request("j-00000001", "node-a", "node-b", 0);
    QVERIFY(moves.update({}, 1000).empty());  // not in ps yet: no verdict before the answer
    QVERIFY(moves.find("j-00000001"));
  }

  void theJobsEndOrDisappearanceEndsTheMove() {
    PendingMoves moves;
    moves.request("j-00000001", "node-a", "node-b", 0);
    moves.started(moving("j-00000001", 1, api::kMigrationInProgress, 1), 1);
    moves.request("j-00000002", "node-a", "node-b", 0);
    moves.started(moving("j-00000002", 1, api::kMigrationInProgress, 1), 1);
    api::JobView exited = job_view("j-00000001", "");
    exited.state = api::kJobExited;
    std::vector<FinishedMove> ended = moves.update({exited}, 5);
    QCOMPARE(ended.size(), size_t{2});
    for (const FinishedMove& move : ended) {
      QVERIFY(!move.moved);
      QCOMPARE(move.outcome, std::string("ended"));
    }
  }

  void silenceEndsTheWait() {
    PendingMoves moves;
    moves.request("j-00000001", "node-a", "node-b", 0);
    moves.started(moving("j-00000001", 1, api::kMigrationInProgress, 7), 0);
    api::JobView same = moving("j-00000001", 1, api::kMigrationInProgress, 7);
    QVERIFY(moves.update({same}, kMoveSilenceLimitMs).empty());
    std::vector<FinishedMove> ended = moves.update({same}, kMoveSilenceLimitMs + 1);
    QCOMPARE(ended.size(), size_t{1});
    QCOMPARE(ended[0].outcome, std::string("no_news"));
  }
};

QTEST_MAIN(PendingMovesTest)
#include "pending_moves_test.moc"
