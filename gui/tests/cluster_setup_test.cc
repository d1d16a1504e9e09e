// The create/join commands and how their answers are read: the key goes on standard input,
// never on the command line; a typed key may have spaces; pkexec's refusals are told apart
// from the CLI's own.
#include <QTest>

#include "cluster_setup.h"

using namespace clusterlive::view;

namespace {

const std::string kKey = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

}  // namespace

class ClusterSetupTest : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void theCommandsGoThroughPkexec() {
    PrivilegedCli cli;
    CliInvocation create = create_invocation(cli);
    QCOMPARE(create.program, std::string("pkexec"));
    QCOMPARE(create.arguments, (std::vector<std::string>{"/usr/bin/clusterlive", "create"}));
    QVERIFY(create.standard_input.empty());
    QCOMPARE(key_show_invocation(cli).arguments,
             (std::vector<std::string>{"/usr/bin/clusterlive", "key", "show"}));
  }

  void joinSendsTheKeyOnStandardInputOnly() {
    CliInvocation join = join_invocation(PrivilegedCli{}, kKey);
    QCOMPARE(join.arguments, (std::vector<std::string>{"/usr/bin/clusterlive", "join", "-"}));
    QCOMPARE(join.standard_input, kKey + "\n");
    for (const std::string& argument : join.arguments)
      QVERIFY(argument.find("0011") == std::string::npos);
  }

  void aKeyMayBeTypedInGroupsAndInUpperCase() {
    std::string grouped = group_key(kKey);
    QCOMPARE(grouped, std::string("00112233 44556677 8899aabb ccddeeff "
                                  "00112233 44556677 8899aabb ccddeeff"));
    std::string upper = grouped;
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    TypedKey typed = check_typed_key("  " + upper + "\n");
    QVERIFY2(typed.secret_hex.has_value(), typed.problem.c_str());
    QCOMPARE(*typed.secret_hex, kKey);
    QCOMPARE(typed.cluster_id.size(), size_t{16});
    QCOMPARE(check_typed_key(kKey).cluster_id, typed.cluster_id);
  }

  void whatIsNotAKeyIsSaidWithoutQuotingIt() {
    TypedKey empty = check_typed_key(" \n");
    QVERIFY(!empty.secret_hex);
    QCOMPARE(empty.problem, std::string("type or paste the cluster key"));

    TypedKey short_key = check_typed_key(kKey.substr(0, 60));
    QVERIFY(!short_key.secret_hex);
    QVERIFY2(short_key.problem.find("64 hex digits") != std::string::npos,
             short_key.problem.c_str());

    std::string wrong = kKey;
    wrong[10] = 'g';
    TypedKey not_hex = check_typed_key(wrong);
    QVERIFY(!not_hex.secret_hex);
    QVERIFY(not_hex.problem.find("not a hex digit") != std::string::npos);
    QVERIFY(not_hex.problem.find(wrong.substr(0, 12)) == std::string::npos);
  }

  void failuresAreToldApart() {
    QCOMPARE(describe_cli_failure(126, ""), std::string("cancelled: the password was not given"));
    QCOMPARE(describe_cli_failure(127, ""),
             std::string("not allowed: this needs an administrator's password (pkexec)"));
    QCOMPARE(describe_cli_failure(3, "clusterlive: clusterlived is not running\nmore\n"),
             std::string("clusterlive: clusterlived is not running"));
    QCOMPARE(describe_cli_failure(1, ""), std::string("clusterlive failed (exit status 1)"));
  }
};

QTEST_MAIN(ClusterSetupTest)
#include "cluster_setup_test.moc"
