// ApiConnection against a fake daemon on a temporary socket: answers reach their callbacks in
// order; a daemon that stops fails every waiting request with connection_lost (none is sent
// again) and is reconnected to when it is back; one that hangs counts as broken.
#include <QSignalSpy>
#include <QTest>

#include "api_connection.h"
#include "fake_daemon.h"

using namespace clusterlive;
using namespace clusterlive::view;
using clusterlive::view::testing::FakeDaemon;

class ApiConnectionTest : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void answersComeInOrder() {
    FakeDaemon daemon;
    daemon.nodes = {testing::node_view("node-a", "up", true)};
    ApiConnection api(daemon.socket_path());
    QSignalSpy connected(&api, &ApiConnection::connected);
    api.start();
    // A local socket that listens connects at once, inside start().
    QTRY_VERIFY_WITH_TIMEOUT(api.is_connected(), 5000);
    std::vector<std::string> order;
    api.send(api::Request(api::Command::status), [&](const api::Response& answer) {
      QVERIFY(answer.ok);
      order.push_back("status");
    });
    api.send(api::Request(api::Command::nodes), [&](const api::Response& answer) {
      QVERIFY(answer.ok);
      std::string error;
      auto nodes = api::parse_nodes_result(answer.result, error);
      QVERIFY(nodes);
      QCOMPARE(nodes->size(), size_t{1});
      order.push_back("nodes");
    });
    QTRY_COMPARE(order.size(), size_t{2});
    QCOMPARE(order, (std::vector<std::string>{"status", "nodes"}));
    QCOMPARE(api.waiting(), size_t{0});
  }

  void withNoDaemonARequestFailsLaterNotInsideSend() {
    QTemporaryDir empty;
    ApiConnection api(empty.filePath("api.sock"));
    api.start();
    bool called = false;
    api::Response got;
    api.send(api::Request(api::Command::status), [&](const api::Response& answer) {
      called = true;
      got = answer;
    });
    QVERIFY(!called);  // never re-entered from send()
    QTRY_VERIFY(called);
    QVERIFY(!got.ok);
    QCOMPARE(got.error.code, std::string(kNotConnected));  // never sent
    QVERIFY(!got.error.message.empty());
  }

  void aStoppedDaemonFailsWaitingRequestsOnceAndIsFoundAgain() {
    FakeDaemon daemon;
    daemon.answering = false;
    ApiConnection api(daemon.socket_path());
    QSignalSpy connected(&api, &ApiConnection::connected);
    QSignalSpy disconnected(&api, &ApiConnection::disconnected);
    api.start();
    // A local socket that listens connects at once, inside start().
    QTRY_VERIFY_WITH_TIMEOUT(api.is_connected(), 5000);
    int failures = 0;
    api.send(api::migrate_request(api::MigrateRequest{"j-00000001", "node-b", 0}),
             [&](const api::Response& answer) {
               QCOMPARE(answer.error.code, std::string(kConnectionLost));
               ++failures;
             });
    QTRY_COMPARE(daemon.count(api::Command::migrate), 1);
    daemon.stop();
    QTRY_COMPARE(failures, 1);
    QTRY_VERIFY(disconnected.count() >= 1);
    QVERIFY(!api.is_connected());
    daemon.answering = true;
    daemon.start();
    QTRY_VERIFY_WITH_TIMEOUT(api.is_connected(), 5000);  // reconnected by itself
    QCOMPARE(daemon.count(api::Command::migrate), 1);  // and the move was not sent again
    QCOMPARE(failures, 1);
  }

  void aDaemonThatDoesNotAnswerCountsAsBroken() {
    FakeDaemon daemon;
    daemon.answering = false;
    ApiConnection api(daemon.socket_path(), nullptr, /*answer_timeout_ms=*/300);
    QSignalSpy connected(&api, &ApiConnection::connected);
    api.start();
    // A local socket that listens connects at once, inside start().
    QTRY_VERIFY_WITH_TIMEOUT(api.is_connected(), 5000);
    std::string code, message;
    api.send(api::Request(api::Command::status), [&](const api::Response& answer) {
      code = answer.error.code;
      message = answer.error.message;
    });
    QTRY_COMPARE(code, std::string(kConnectionLost));
    QVERIFY2(message.find("did not answer") != std::string::npos, message.c_str());
  }
};

QTEST_MAIN(ApiConnectionTest)
#include "api_connection_test.moc"
