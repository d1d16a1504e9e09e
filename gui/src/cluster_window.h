// clusterview's window: a card per node (laid out in as many columns as the width allows,
// so 2 to 64 nodes stay readable), the cluster's load over the last 10 minutes, and the log
// of migrations. The status bar says when the daemon is not answering; the window
// reconnects by itself. A PC in no cluster is offered to create or join one.
#pragma once

#include <QDialog>
#include <QMainWindow>
#include <QPointer>
#include <map>
#include <string>

#include "cluster_setup.h"

class QGridLayout;
class QLabel;
class QListWidget;

namespace clusterlive::view {

class ClusterController;
class LoadChart;
class NodeCard;
struct FinishedMove;

class ClusterWindow : public QMainWindow {
  Q_OBJECT

 public:
  explicit ClusterWindow(ClusterController& controller, QWidget* parent = nullptr);

  /// The card of node `node`, nullptr if none is shown.
  NodeCard* card(const std::string& node) const;
  size_t card_count() const { return cards_.size(); }
  QString connection_text() const;
  QListWidget* migration_log_view() const { return log_; }
  /// Where the cards are drawn (the scroll area's viewport).
  QWidget* cards_viewport() const { return viewport_; }
  /// Where the cards and their jobs are on the screen, for scripts that drive the window
  /// (the desktop system test drags with xdotool): {"nodes": [{"name", "x", "y", "jobs":
  /// [{"id", "x", "y"}]}]}, the centres in global coordinates, of the cards shown.
  QByteArray layout_report() const;
  /// True while the "this PC is in no cluster" line with its button shows.
  bool offers_cluster_setup() const;
  /// The commands the create/join dialog runs (tests put a stand-in CLI here).
  void set_setup_cli(PrivilegedCli cli) { setup_cli_ = std::move(cli); }

 public slots:
  /// Opens the create/join/key dialog (one at a time), from the menu, the line or the tray.
  void open_cluster_setup();

 protected:
  /// Lays the cards out again when the scroll area's viewport changes width.
  bool eventFilter(QObject* watched, QEvent* event) override;

 private:
  void refresh();
  void lay_out_cards();
  void on_move_finished(const FinishedMove& move);
  void on_connection_changed(bool connected, const QString& why);

  ClusterController& controller_;
  QWidget* cards_area_;
  QWidget* viewport_;  // the scroll area's: its width decides the columns
  QGridLayout* grid_;
  std::map<std::string, NodeCard*> cards_;  // by node, in the model's order when laid out
  int columns_ = 0;
  LoadChart* chart_;
  QListWidget* log_;
  QLabel* connection_;
  QWidget* no_cluster_;  // the line offering to create or join a cluster
  QLabel* no_cluster_text_;
  PrivilegedCli setup_cli_;
  QPointer<QDialog> setup_dialog_;
  size_t log_entries_shown_ = 0;
};

}  // namespace clusterlive::view
