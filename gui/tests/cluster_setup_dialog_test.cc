// The create/join dialog against a stand-in for `pkexec clusterlive` (a shell script in a
// temporary directory that records its arguments and standard input): creating shows the new
// key to carry on; joining sends the typed key on standard input only; a key that is not one
// cannot be sent; a dismissed password dialog is said and changes nothing.
#include <QFile>
#include <QLineEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include "cluster_setup_dialog.h"

using namespace clusterlive::view;

namespace {

const QString kKey = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

/// A stand-in CLI in a temporary directory: appends "$*" to args, its standard input to stdin,
/// and answers create, join and key show as clusterlive does, or exits with `fail_code`.
struct FakeCli {
  QTemporaryDir dir;
  PrivilegedCli cli;

  explicit FakeCli(int fail_code = 0) {
    QString script = dir.filePath("clusterlive");
    QFile file(script);
    file.open(QIODevice::WriteOnly);
    file.write(QString("#!/bin/sh\n"
                       "cd '%1' || exit 99\n"
                       "echo \"$*\" >> args\n"
                       "cat >> stdin\n"
                       "[ %2 -eq 0 ] || { echo 'clusterlive: refused' >&2; exit %2; }\n"
                       "case \"$*\" in\n"
                       "create) echo 'created cluster 1234abcd1234abcd'; echo more ;;\n"
                       "'key show') echo '%3' ;;\n"
                       "'join -') echo 'joined cluster 5678abcd5678abcd' ;;\n"
                       "*) exit 2 ;;\n"
                       "esac\n")
                   .arg(dir.path())
                   .arg(fail_code)
                   .arg(kKey)
                   .toUtf8());
    file.close();
    cli.program = "/bin/sh";
    cli.prefix = {script.toStdString()};
  }

  QString read(const QString& name) const {
    QFile file(dir.filePath(name));
    return file.open(QIODevice::ReadOnly) ? QString::fromUtf8(file.readAll()) : QString();
  }
};

QPushButton* button(QDialog& dialog, const char* name) {
  return dialog.findChild<QPushButton*>(name);
}

}  // namespace

class ClusterSetupDialogTest : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void creatingShowsTheNewKey() {
    FakeCli fake;
    ClusterSetupDialog dialog(fake.cli, "");
    QSignalSpy changed(&dialog, &ClusterSetupDialog::cluster_changed);
    QVERIFY(!button(dialog, "show-key")->isEnabled());  // no cluster, no key
    QTest::mouseClick(button(dialog, "create"), Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(!dialog.shown_key().isEmpty(), 5000);
    QCOMPARE(dialog.shown_key(), QString("00112233 44556677 8899aabb ccddeeff "
                                         "00112233 44556677 8899aabb ccddeeff"));
    QCOMPARE(changed.count(), 1);
    QCOMPARE(fake.read("args"), QString("create\nkey show\n"));
    QVERIFY(button(dialog, "show-key")->isEnabled());
    QVERIFY2(dialog.status_text().contains("type it on the other PCs"),
             qPrintable(dialog.status_text()));
  }

  void joiningSendsTheKeyOnStandardInput() {
    FakeCli fake;
    ClusterSetupDialog dialog(fake.cli, "");
    QSignalSpy changed(&dialog, &ClusterSetupDialog::cluster_changed);
    auto* key = dialog.findChild<QLineEdit*>("join-key");
    QPushButton* join = button(dialog, "join");
    QTest::keyClicks(key, "0011 2233");
    QVERIFY(!join->isEnabled());  // not a key yet: nothing can be sent
    key->setText(kKey.toUpper().left(32) + " " + kKey.mid(32) + "\n");
    QVERIFY(join->isEnabled());
    QTest::mouseClick(join, Qt::LeftButton);
    QTRY_COMPARE_WITH_TIMEOUT(changed.count(), 1, 5000);
    QCOMPARE(fake.read("args"), QString("join -\n"));  // never on the command line
    QCOMPARE(fake.read("stdin"), kKey + "\n");
    QCOMPARE(dialog.status_text(), QString("joined cluster 5678abcd5678abcd"));
    QVERIFY(key->text().isEmpty());
  }

  void aDismissedPasswordChangesNothing() {
    FakeCli fake(126);
    ClusterSetupDialog dialog(fake.cli, "");
    QSignalSpy changed(&dialog, &ClusterSetupDialog::cluster_changed);
    QTest::mouseClick(button(dialog, "create"), Qt::LeftButton);
    QTRY_COMPARE_WITH_TIMEOUT(dialog.status_text(),
                              QString("cancelled: the password was not given"), 5000);
    QCOMPARE(changed.count(), 0);
    QVERIFY(dialog.shown_key().isEmpty());
    QCOMPARE(fake.read("args"), QString("create\n"));  // no `key show` after a failure
    QVERIFY(button(dialog, "create")->isEnabled());
  }

  void aRefusalSaysTheCliReason() {
    FakeCli fake(1);
    ClusterSetupDialog dialog(fake.cli, "1234abcd1234abcd");
    QVERIFY(button(dialog, "show-key")->isEnabled());
    QTest::mouseClick(button(dialog, "show-key"), Qt::LeftButton);
    QTRY_COMPARE_WITH_TIMEOUT(dialog.status_text(), QString("clusterlive: refused"), 5000);
    QVERIFY(dialog.shown_key().isEmpty());
  }

  void aMissingProgramIsSaid() {
    PrivilegedCli missing;
    missing.program = "/nonexistent/pkexec";
    ClusterSetupDialog dialog(missing, "");
    QTest::mouseClick(button(dialog, "create"), Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(dialog.status_text().startsWith("cannot run /nonexistent/pkexec"),
                             5000);
    QVERIFY(button(dialog, "create")->isEnabled());
  }
};

QTEST_MAIN(ClusterSetupDialogTest)
#include "cluster_setup_dialog_test.moc"
