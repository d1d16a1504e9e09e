// The drag payload round-trips, and anything else dropped on a card is not taken for a job.
#include <QMimeData>
#include <QTest>
#include <memory>

#include "dragged_job.h"

using namespace clusterlive::view;

class DraggedJobTest : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void roundTrips() {
    DraggedJob dragged{"j-3f9a0c12", "node-a"};
    std::unique_ptr<QMimeData> mime(make_job_mime_data(dragged));
    QVERIFY(mime->hasFormat(kJobMimeType));
    QCOMPARE(mime->text(), QString("j-3f9a0c12"));
    std::optional<DraggedJob> back = dragged_job_in(mime.get());
    QVERIFY(back);
    QVERIFY(*back == dragged);
  }

  // Plain string literals, not raw ones: moc (Qt 6.4) loses the class after an unbalanced
  // quote inside a raw string.
  void malformedPayloadsAreNoJob_data() {
    QTest::addColumn<QByteArray>("payload");
    QTest::newRow("empty") << QByteArray();
    QTest::newRow("not json") << QByteArray("j-3f9a0c12");
    QTest::newRow("array") << QByteArray("[\"j-3f9a0c12\",\"node-a\"]");
    QTest::newRow("no from") << QByteArray("{\"job\":\"j-3f9a0c12\"}");
    QTest::newRow("number") << QByteArray("{\"job\":7,\"from\":\"node-a\"}");
    QTest::newRow("bad job id") << QByteArray("{\"job\":\"j-XYZ\",\"from\":\"node-a\"}");
    QTest::newRow("bad node") << QByteArray("{\"job\":\"j-3f9a0c12\",\"from\":\"Node A\"}");
    QTest::newRow("truncated") << QByteArray("{\"job\":\"j-3f9a0c12\",\"fr");
  }
  void malformedPayloadsAreNoJob() {
    QFETCH(QByteArray, payload);
    QVERIFY(!decode_dragged_job(payload));
  }

  void otherMimeDataIsNoJob() {
    QMimeData text;
    text.setText("j-3f9a0c12");
    QVERIFY(!dragged_job_in(&text));
    QVERIFY(!dragged_job_in(nullptr));
  }
};

QTEST_MAIN(DraggedJobTest)
#include "dragged_job_test.moc"
