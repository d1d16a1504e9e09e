// The nodes model under QAbstractItemModelTester through joins, departures and refreshes:
// this PC first, then by name; rows keep their identity across snapshots.
#include <QAbstractItemModelTester>
#include <QSignalSpy>
#include <QTest>

#include "fake_daemon.h"
#include "node_list_model.h"

using namespace clusterlive;
using namespace clusterlive::view;
using testing::node_view;

class NodeListModelTest : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void thisPcFirstThenByName() {
    NodeListModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.set_nodes({node_view("node-c"), node_view("node-b", "up", true), node_view("node-a")});
    QCOMPARE(model.rowCount(), 3);
    QCOMPARE(model.index(0).data(NodeListModel::NameRole).toString(), QString("node-b"));
    QVERIFY(model.index(0).data(NodeListModel::SelfRole).toBool());
    QCOMPARE(model.index(1).data().toString(), QString("node-a"));
    QCOMPARE(model.row_of("node-c"), 2);
    QCOMPARE(model.row_of("node-z"), -1);
  }

  void aRefreshInsertsAndRemovesOnlyWhatChanged() {
    NodeListModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.set_nodes({node_view("node-a", "up", true), node_view("node-b"), node_view("node-d")});
    QSignalSpy resets(&model, &QAbstractItemModel::modelReset);
    QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
    QSignalSpy removed(&model, &QAbstractItemModel::rowsRemoved);
    model.set_nodes({node_view("node-a", "up", true), node_view("node-c"), node_view("node-d", "dead")});
    QCOMPARE(resets.count(), 0);
    QCOMPARE(removed.count(), 1);   // node-b
    QCOMPARE(inserted.count(), 1);  // node-c, at row 1
    QCOMPARE(inserted[0][1].toInt(), 1);
    QCOMPARE(model.index(2).data(NodeListModel::StateRole).toString(), QString("dead"));
  }

  void loadAndCapacityRoles() {
    NodeListModel model;
    model.set_nodes({node_view("node-a", "up", true, 4, 1000, 2.0),
                     node_view("node-b", "up", false, 8, 2000, 12.0)});
    QCOMPARE(model.index(0).data(NodeListModel::BusyRole).toDouble(), 0.5);
    QCOMPARE(model.index(0).data(NodeListModel::CapacityRole).toDouble(), 0.25);
    QCOMPARE(model.index(1).data(NodeListModel::BusyRole).toDouble(), 1.0);  // tasks wait
    QCOMPARE(model.index(1).data(NodeListModel::CapacityRole).toDouble(), 1.0);
    api::NodeView unknown = node_view("node-c");
    unknown.load.reset();
    unknown.free_memory_mib.reset();
    model.set_nodes({unknown});
    QCOMPARE(model.index(0).data(NodeListModel::BusyRole).toDouble(), -1.0);
    QCOMPARE(model.index(0).data(NodeListModel::FreeMemoryRole).toInt(), -1);
  }
};

QTEST_MAIN(NodeListModelTest)
#include "node_list_model_test.moc"
