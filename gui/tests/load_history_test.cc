// The load chart's data: live members summed, ten minutes kept, a clock step starts afresh.
#include <QTest>

#include "fake_daemon.h"
#include "load_history.h"

using namespace clusterlive;
using namespace clusterlive::view;
using testing::node_view;

class LoadHistoryTest : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void sumsTheLiveMembers() {
    LoadHistory history;
    api::NodeView unknown = node_view("node-d");
    unknown.load.reset();
    history.add({node_view("node-a", "up", true, 4, 1000, 1.5), node_view("node-b", "up", false, 2, 1000, 0.5),
                 node_view("node-c", "dead", false, 8, 1000, 9), unknown},
                1000);
    QCOMPARE(history.samples().size(), size_t{1});
    QCOMPARE(history.samples()[0].load, 2.0);
    QCOMPARE(history.samples()[0].cores, 6u);
  }

  void keepsTheSpanOnly() {
    LoadHistory history(60'000);
    for (int64_t at = 0; at <= 120'000; at += 1000) history.add({node_view("node-a")}, at);
    QCOMPARE(history.samples().front().at_ms, int64_t{60'000});
    QCOMPARE(history.samples().back().at_ms, int64_t{120'000});
    QCOMPARE(history.samples().size(), size_t{61});
  }

  void aClockStepBackStartsAfresh() {
    LoadHistory history;
    history.add({node_view("node-a")}, 5000);
    history.add({node_view("node-a")}, 6000);
    history.add({node_view("node-a")}, 1000);
    QCOMPARE(history.samples().size(), size_t{1});
  }
};

QTEST_MAIN(LoadHistoryTest)
#include "load_history_test.moc"
