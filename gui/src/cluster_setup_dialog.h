// The dialog to create a cluster or join one, and to show this cluster's key to carry to
// another PC. It runs the root-only CLI commands of cluster_setup.h (through pkexec) one at a
// time and says what came of each; the daemon's status (polled by the controller) shows the
// new cluster.
#pragma once

#include <QDialog>
#include <QString>
#include <functional>
#include <string>

#include "cluster_setup.h"

class QLabel;
class QLineEdit;
class QProcess;
class QPushButton;
class QTabWidget;

namespace clusterlive::view {

class ClusterSetupDialog : public QDialog {
  Q_OBJECT

 public:
  /// `current_cluster_id`: the cluster this PC is in, empty when it is in none.
  ClusterSetupDialog(PrivilegedCli cli, const std::string& current_cluster_id,
                     QWidget* parent = nullptr);
  ~ClusterSetupDialog() override;

  /// The key shown to carry to other PCs, in groups of eight; empty until one was fetched.
  QString shown_key() const;
  /// The last outcome, or what is under way.
  QString status_text() const;

 signals:
  /// This PC was put into a cluster (created or joined): the window polls at once.
  void cluster_changed();

 private:
  using Finished = std::function<void(int exit_code, const std::string& out, const std::string& err)>;
  void run(const CliInvocation& invocation, const QString& waiting_text, Finished finished);
  void set_busy(bool busy);
  void say(const QString& text, bool problem);
  void create_cluster();
  void join_cluster();
  void show_key();
  void check_join_key();

  PrivilegedCli cli_;
  bool in_a_cluster_;
  QProcess* process_ = nullptr;  // the run under way, if any
  QTabWidget* tabs_;
  QWidget* key_page_;
  QPushButton* create_button_;
  QPushButton* join_button_;
  QPushButton* show_key_button_;
  QPushButton* copy_button_;
  QLineEdit* join_key_;
  QLabel* join_check_;
  QLineEdit* key_;
  QLabel* status_;
};

}  // namespace clusterlive::view
