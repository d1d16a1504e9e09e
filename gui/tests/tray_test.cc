// The tray's summary, tooltip and icon: the colour says whether something is wrong, and the
// tooltip says what.
#include <QTest>

#include "fake_daemon.h"
#include "tray_icon_image.h"
#include "tray_summary.h"

using namespace clusterlive;
using namespace clusterlive::view;
using testing::node_view;

namespace {

api::StatusView healthy() {
  api::StatusView status;
  status.node = "node-a";
  status.cluster_id = "0123456789abcdef";
  status.storage.mounted = true;
  status.criu.known = true;
  status.criu.ok = true;
  return status;
}

}  // namespace

class TrayTest : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void aHealthyClusterIsGreen() {
    std::vector<api::NodeView> nodes = {node_view("node-a", "up", true, 4, 1000, 1.0),
                                        node_view("node-b", "up", false, 4, 1000, 1.5),
                                        node_view("node-x", "foreign")};
    TraySummary summary = summarize(true, healthy(), nodes, "");
    QCOMPARE(summary.nodes_up, 2);
    QCOMPARE(summary.nodes_known, 2);
    QCOMPARE(summary.health, Health::good);
    QCOMPARE(tray_tooltip(summary), std::string("clusterlive: 2 of 2 nodes up, load 2.5 on 8 cores"));
    QImage icon = draw_tray_icon(summary, 32);
    QCOMPARE(icon.size(), QSize(32, 32));
    // The disc's colour, beside the centre (the digit is at the centre).
    QCOMPARE(QColor(icon.pixel(9, 16)), health_colour(Health::good));
  }

  void problemsTurnItAmberOrRed() {
    api::StatusView status = healthy();
    status.members_dead = 1;
    status.storage.mounted = false;
    status.storage.error = "node-b does not answer";
    TraySummary summary = summarize(true, status, {node_view("node-a", "up", true)}, "");
    QCOMPARE(summary.health, Health::warning);
    QCOMPARE(summary.problems.size(), size_t{2});
    QVERIFY(tray_tooltip(summary).find("/cluster is not mounted here: node-b does not answer") !=
            std::string::npos);

    TraySummary down = summarize(false, status, {}, "connection refused");
    QCOMPARE(down.health, Health::broken);
    QCOMPARE(down.problems.front(), std::string("clusterlived is not answering: connection refused"));
    QCOMPARE(QColor(draw_tray_icon(down, 32).pixel(9, 16)), health_colour(Health::broken));

    api::StatusView alone = healthy();
    alone.cluster_id.reset();
    alone.alone_reason = "no cluster secret";
    QCOMPARE(summarize(true, alone, {}, "").health, Health::broken);
  }
};

QTEST_MAIN(TrayTest)
#include "tray_test.moc"
