// clusterview's window: a card per node (laid out in as many columns as the width allows,
// so 2 to 64 nodes stay readable), the cluster's load over the last 10 minutes, and the log
// of migrations. The status bar says when the daemon is not answering; the window
// reconnects by itself.
#pragma once

#include <QMainWindow>
#include <map>
#include <string>

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
  size_t log_entries_shown_ = 0;
};

}  // namespace clusterlive::view
