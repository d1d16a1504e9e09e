// Dropping on a card, with the drag events sent by hand (QTest has no drag and drop, and the
// offscreen platform ends a real QDrag at once): the card says before the drop whether it
// can take the job; a drop sends exactly one migration request and moves nothing; a drop on
// a card that cannot take the job sends nothing and says why.
#include <QDragEnterEvent>
#include <QListView>
#include <QMimeData>
#include <memory>

#include "controller_fixture.h"
#include "dragged_job.h"
#include "node_card.h"

using namespace clusterlive;
using namespace clusterlive::view;
using clusterlive::view::testing::ControllerFixture;

namespace {

std::unique_ptr<QMimeData> job_drag(const std::string& job, const std::string& from) {
  return std::unique_ptr<QMimeData>(make_job_mime_data(DraggedJob{job, from}));
}

/// Sends enter and move over `card`; true when the drop would be allowed.
bool drag_over(NodeCard& card, const QMimeData& mime) {
  QDragEnterEvent enter(QPoint(10, 10), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
  QCoreApplication::sendEvent(&card, &enter);
  if (!enter.isAccepted()) return false;
  QDragMoveEvent move(QPoint(12, 12), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
  QCoreApplication::sendEvent(&card, &move);
  return move.isAccepted();
}

bool drop_on(NodeCard& card, const QMimeData& mime) {
  QDropEvent drop(QPointF(12, 12), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
  QCoreApplication::sendEvent(&card, &drop);
  return drop.isAccepted();
}

}  // namespace

class NodeCardTest : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void aDropAsksOnceAndMovesNothing() {
    ControllerFixture fixture;
    QVERIFY(fixture.start());
    NodeCard from(*fixture.controller, "node-a");
    NodeCard to(*fixture.controller, "node-b");
    auto mime = job_drag("j-00000001", "node-a");
    QVERIFY(drag_over(to, *mime));
    QVERIFY2(to.hint().startsWith("can take it: 64 MiB to send"), qPrintable(to.hint()));
    QVERIFY(to.hint().contains("2.0x as fast"));
    QVERIFY(drop_on(to, *mime));
    QTRY_COMPARE(fixture.daemon.count(api::Command::migrate), 1);
    QCOMPARE(fixture.daemon.last(api::Command::migrate)->job, std::string("j-00000001"));
    QCOMPARE(fixture.daemon.last(api::Command::migrate)->target, std::string("node-b"));
    // The item is still on its card; the target's list is empty until the daemon confirms.
    QCOMPARE(from.job_list()->model()->rowCount(), 1);
    QCOMPARE(to.job_list()->model()->rowCount(), 0);
    fixture.commit("j-00000001", "node-b");
    QTRY_COMPARE(to.job_list()->model()->rowCount(), 1);
    QCOMPARE(from.job_list()->model()->rowCount(), 0);
    QCOMPARE(fixture.daemon.count(api::Command::migrate), 1);
  }

  void aCardThatCannotTakeTheJobSaysWhyAndSendsNothing() {
    ControllerFixture fixture;
    QVERIFY(fixture.start());
    NodeCard suspect(*fixture.controller, "node-c");
    auto mime = job_drag("j-00000001", "node-a");
    // Over the card: it says why, and forbids the drop; leaving clears the hint.
    QVERIFY(!drag_over(suspect, *mime));
    QCOMPARE(suspect.hint(), QString("cannot take it: node-c is suspect"));
    QDragLeaveEvent leave;
    QCoreApplication::sendEvent(&suspect, &leave);
    QVERIFY(suspect.hint().isEmpty());
    // Dropped all the same (the enter was taken, so the drop reaches the card): refused.
    QVERIFY(!drag_over(suspect, *mime));
    QVERIFY(!drop_on(suspect, *mime));
    QCOMPARE(suspect.hint(), QString("cannot take it: node-c is suspect"));
    QSignalSpy refreshed(fixture.controller.get(), &ClusterController::refreshed);
    QVERIFY(refreshed.wait(3000));
    QCOMPARE(fixture.daemon.count(api::Command::migrate), 0);
  }

  void otherDragsAreNotTaken() {
    ControllerFixture fixture;
    QVERIFY(fixture.start());
    NodeCard card(*fixture.controller, "node-b");
    QMimeData text;
    text.setText("j-00000001");
    QVERIFY(!drag_over(card, text));  // the enter is refused: no drop can follow
    QVERIFY(card.hint().isEmpty());
    QCOMPARE(fixture.daemon.count(api::Command::migrate), 0);
  }

  void theCardShowsItsNode() {
    ControllerFixture fixture;
    QVERIFY(fixture.start());
    NodeCard card(*fixture.controller, "node-a");
    card.update_from(fixture.controller->node_views().front(), 0.25);
    QCOMPARE(card.objectName(), QString("card-node-a"));
    QCOMPARE(card.job_list()->model()->rowCount(), 1);
  }
};

QTEST_MAIN(NodeCardTest)
#include "node_card_test.moc"
