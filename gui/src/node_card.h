// One node of the cluster in the window: name, state, CPU, load, memory and the jobs running
// there. Jobs are dragged off a card's list onto another card; while a job is over a card,
// the card says whether it can take it and at what cost and gain (move_forecast.h). A drop
// asks the controller for the move; nothing moves until the daemon says so.
#pragma once

#include <QFrame>
#include <string>

#include "api/api_types.h"

class QLabel;
class QListView;

namespace clusterlive::view {

class ClusterController;
class LoadBar;

class NodeCard : public QFrame {
  Q_OBJECT

 public:
  NodeCard(ClusterController& controller, std::string node, QWidget* parent = nullptr);

  const std::string& node() const { return node_; }
  /// Shows `view` (this node's row of the last snapshot) and `capacity` (0..1, of the largest
  /// node).
  void update_from(const api::NodeView& view, double capacity);
  /// The line under the jobs: a forecast while a job is dragged over, a move's end after.
  QString hint() const;
  void set_hint(const QString& text);
  QListView* job_list() const { return jobs_; }

  /// True while a job is being dragged off any card. QDrag::exec runs a nested event loop,
  /// and the once-a-second refresh runs inside it: a card (and the list the drag started
  /// from) must not be deleted under the drag, so the window keeps a departed node's card
  /// hidden until this is false again.
  static bool drag_under_way();

  /// Marks a drag as under way for its lifetime; the cards' job lists hold one around
  /// QAbstractItemView::startDrag (and tests, to play the nested loop's part).
  class DragUnderWay {
   public:
    DragUnderWay();
    ~DragUnderWay();
    DragUnderWay(const DragUnderWay&) = delete;
    DragUnderWay& operator=(const DragUnderWay&) = delete;
  };

 protected:
  void dragEnterEvent(QDragEnterEvent* event) override;
  void dragMoveEvent(QDragMoveEvent* event) override;
  void dragLeaveEvent(QDragLeaveEvent* event) override;
  void dropEvent(QDropEvent* event) override;

 private:
  enum class DropLook { none, welcome, refuse };
  void set_drop_look(DropLook look);
  void show_job_menu(const QPoint& at);
  void send_home(const QModelIndex& index);

  ClusterController& controller_;
  std::string node_;
  QLabel* title_;
  QLabel* state_;
  QLabel* cpu_;
  LoadBar* load_;
  QLabel* memory_;
  QListView* jobs_;
  QLabel* hint_;
};

}  // namespace clusterlive::view
