// Notifications: joins, deaths, returns and departures; nothing for this PC, foreign nodes
// or a short suspicion.
#include <QTest>

#include "fake_daemon.h"
#include "membership_notices.h"

using namespace clusterlive;
using namespace clusterlive::view;
using testing::node_view;

class MembershipNoticesTest : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void saysWhatChanged() {
    std::vector<api::NodeView> before = {node_view("node-a", "up", true), node_view("node-b"),
                                         node_view("node-c"), node_view("node-d", "dead"),
                                         node_view("node-e", "suspect")};
    std::vector<api::NodeView> after = {node_view("node-a", "dead", true), node_view("node-c", "dead"),
                                        node_view("node-d"), node_view("node-e"),
                                        node_view("node-f"), node_view("node-x", "foreign")};
    std::vector<std::string> notices = membership_notices(before, after);
    QCOMPARE(notices, (std::vector<std::string>{"node-c is dead", "node-d is back",
                                                "node-f joined the cluster",
                                                "node-b left the cluster"}));
  }

  void noChangeNoNews() {
    std::vector<api::NodeView> nodes = {node_view("node-a", "up", true), node_view("node-b")};
    QVERIFY(membership_notices(nodes, nodes).empty());
  }
};

QTEST_MAIN(MembershipNoticesTest)
#include "membership_notices_test.moc"
