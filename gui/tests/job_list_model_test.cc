// A card's jobs: only the node's running jobs, oldest first, under QAbstractItemModelTester;
// dragging one yields the job and the node; a pending move shows on the item.
#include <QAbstractItemModelTester>
#include <QMimeData>
#include <QTest>
#include <memory>

#include "dragged_job.h"
#include "fake_daemon.h"
#include "job_list_model.h"

using namespace clusterlive;
using namespace clusterlive::view;
using testing::job_view;

class JobListModelTest : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void keepsTheNodesRunningJobsOldestFirst() {
    JobListModel model("node-a");
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    api::JobView late = job_view("j-00000001", "node-a");
    late.started_unix_ms += 1000;
    api::JobView early = job_view("j-00000002", "node-a", "node-b");
    api::JobView elsewhere = job_view("j-00000003", "node-b");
    api::JobView ended = job_view("j-00000004", "node-a");
    ended.state = api::kJobExited;
    PendingMoves none;
    model.set_jobs({late, early, elsewhere, ended}, none);
    QCOMPARE(model.rowCount(), 2);
    QCOMPARE(model.index(0).data(JobListModel::IdRole).toString(), QString("j-00000002"));
    QVERIFY(!model.index(0).data(JobListModel::AtHomeRole).toBool());
    QVERIFY(model.index(1).data(JobListModel::AtHomeRole).toBool());
    // The job moves away, another arrives: rows removed and inserted, never a reset.
    late.where = "node-b";
    api::JobView arrived = job_view("j-00000005", "node-a", "node-c");
    arrived.started_unix_ms -= 1000;
    model.set_jobs({late, early, arrived}, none);
    QCOMPARE(model.rowCount(), 2);
    QCOMPARE(model.row_of("j-00000005"), 0);
    QCOMPARE(model.row_of("j-00000001"), -1);
  }

  void dragsCarryTheJobAndThisNode() {
    JobListModel model("node-a");
    PendingMoves none;
    model.set_jobs({job_view("j-00000001", "node-a")}, none);
    QVERIFY(model.flags(model.index(0)) & Qt::ItemIsDragEnabled);
    QCOMPARE(model.mimeTypes(), QStringList{kJobMimeType});
    QCOMPARE(model.supportedDragActions(), Qt::DropActions(Qt::CopyAction));
    std::unique_ptr<QMimeData> mime(model.mimeData({model.index(0)}));
    QVERIFY(mime);
    std::optional<DraggedJob> dragged = dragged_job_in(mime.get());
    QVERIFY(dragged);
    QCOMPARE(dragged->job, std::string("j-00000001"));
    QCOMPARE(dragged->from, std::string("node-a"));
    QVERIFY(!model.mimeData({}));
  }

  void aPendingMoveShowsOnTheItem() {
    JobListModel model("node-a");
    PendingMoves pending;
    pending.request("j-00000001", "node-a", "node-b", 0);
    model.set_jobs({job_view("j-00000001", "node-a")}, pending);
    QCOMPARE(model.index(0).data(JobListModel::PendingRole).toString(),
             QString::fromUtf8("\u2192 node-b: asked"));
    QVERIFY(model.index(0).data().toString().contains("node-b: asked"));
  }

  void sizesReadWell() {
    QCOMPARE(format_kib(800), std::string("800 KiB"));
    QCOMPARE(format_kib(512 * 1024), std::string("512.0 MiB"));
    QCOMPARE(format_kib(3 * 1024 * 1024 + 100 * 1024), std::string("3.1 GiB"));
  }
};

QTEST_MAIN(JobListModelTest)
#include "job_list_model_test.moc"
