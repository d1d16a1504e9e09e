#include "node_card.h"

#include <QDragEnterEvent>
#include <QLabel>
#include <QListView>
#include <QMenu>
#include <QVBoxLayout>

#include "cluster_controller.h"
#include "dragged_job.h"
#include "job_list_model.h"
#include "load_bar.h"

namespace clusterlive::view {
namespace {

int drags_under_way = 0;

/// A card's job list: a QListView that says when a drag off it is under way.
class JobListView : public QListView {
 public:
  using QListView::QListView;

 protected:
  void startDrag(Qt::DropActions supported) override {
    NodeCard::DragUnderWay drag;
    QListView::startDrag(supported);
  }
};

QString state_colour(const std::string& state) {
  if (state == "up") return "#2e7d32";
  if (state == "suspect") return "#ef8f00";
  return "#c62828";  // dead, foreign, or one a newer daemon names
}

}  // namespace

bool NodeCard::drag_under_way() { return drags_under_way > 0; }

NodeCard::DragUnderWay::DragUnderWay() { ++drags_under_way; }

NodeCard::DragUnderWay::~DragUnderWay() { --drags_under_way; }

NodeCard::NodeCard(ClusterController& controller, std::string node, QWidget* parent)
    : QFrame(parent), controller_(controller), node_(std::move(node)) {
  setObjectName(QString::fromStdString("card-" + node_));
  setFrameShape(QFrame::StyledPanel);
  setAcceptDrops(true);
  setMinimumWidth(220);

  title_ = new QLabel(QString::fromStdString(node_), this);
  QFont bold = title_->font();
  bold.setBold(true);
  title_->setFont(bold);
  state_ = new QLabel(this);
  cpu_ = new QLabel(this);
  load_ = new LoadBar(this);
  memory_ = new QLabel(this);
  jobs_ = new JobListView(this);
  jobs_->setObjectName("jobs");
  jobs_->setModel(&controller_.jobs_of(node_));
  jobs_->setDragEnabled(true);
  jobs_->setDragDropMode(QAbstractItemView::DragOnly);
  jobs_->setDefaultDropAction(Qt::CopyAction);
  jobs_->setSelectionMode(QAbstractItemView::SingleSelection);
  jobs_->setContextMenuPolicy(Qt::CustomContextMenu);
  jobs_->setAccessibleName(tr("jobs on %1").arg(QString::fromStdString(node_)));
  connect(jobs_, &QListView::customContextMenuRequested, this, &NodeCard::show_job_menu);
  connect(jobs_, &QListView::doubleClicked, this, &NodeCard::send_home);
  hint_ = new QLabel(this);
  hint_->setWordWrap(true);

  auto* layout = new QVBoxLayout(this);
  auto* header = new QHBoxLayout;
  header->addWidget(title_);
  header->addStretch();
  header->addWidget(state_);
  layout->addLayout(header);
  layout->addWidget(cpu_);
  layout->addWidget(load_);
  layout->addWidget(memory_);
  layout->addWidget(jobs_, 1);
  layout->addWidget(hint_);
}

void NodeCard::update_from(const api::NodeView& view, double capacity) {
  title_->setText(QString::fromStdString(view.name) + (view.self ? tr(" (this PC)") : QString()));
  state_->setText(QString::fromStdString(view.state));
  state_->setStyleSheet("color: " + state_colour(view.state));
  if (view.cores && view.cpu_speed) {
    const QString cores = *view.cores == 1 ? tr("1 core") : tr("%1 cores").arg(*view.cores);
    cpu_->setText(tr("%1, speed %2").arg(cores).arg(*view.cpu_speed));
  } else {
    cpu_->setText(tr("CPU not known yet"));
  }
  double busy = -1;
  if (view.load && view.cores && *view.cores > 0) busy = *view.load / *view.cores;
  load_->set_values(capacity, busy);
  if (view.load) load_->setAccessibleDescription(tr("load %1").arg(*view.load, 0, 'f', 2));
  memory_->setText(view.free_memory_mib
                       ? tr("%1 free").arg(QString::fromStdString(
                             format_kib(uint64_t{*view.free_memory_mib} * 1024)))
                       : tr("memory not known yet"));
}

QString NodeCard::hint() const { return hint_->text(); }

void NodeCard::set_hint(const QString& text) { hint_->setText(text); }

void NodeCard::set_drop_look(DropLook look) {
  switch (look) {
    case DropLook::none:
      setStyleSheet(QString());
      break;
    case DropLook::welcome:
      setStyleSheet("NodeCard, clusterlive--view--NodeCard { border: 2px solid #2e7d32; }");
      break;
    case DropLook::refuse:
      setStyleSheet("NodeCard, clusterlive--view--NodeCard { border: 2px solid #c62828; }");
      break;
  }
}

void NodeCard::dragEnterEvent(QDragEnterEvent* event) {
  std::optional<DraggedJob> dragged = dragged_job_in(event->mimeData());
  if (!dragged) {
    event->ignore();
    return;
  }
  // Accepted even when this node cannot take the job, so that the card can say why while the
  // job is over it; dragMoveEvent() then forbids the drop.
  MoveForecast forecast = controller_.forecast(dragged->job, node_);
  set_hint(QString::fromStdString(describe_forecast(forecast)));
  set_drop_look(forecast.possible ? DropLook::welcome : DropLook::refuse);
  event->acceptProposedAction();
}

void NodeCard::dragMoveEvent(QDragMoveEvent* event) {
  std::optional<DraggedJob> dragged = dragged_job_in(event->mimeData());
  if (dragged && controller_.forecast(dragged->job, node_).possible)
    event->acceptProposedAction();
  else
    event->ignore();
}

void NodeCard::dragLeaveEvent(QDragLeaveEvent* event) {
  set_hint(QString());
  set_drop_look(DropLook::none);
  event->accept();
}

void NodeCard::dropEvent(QDropEvent* event) {
  set_drop_look(DropLook::none);
  std::optional<DraggedJob> dragged = dragged_job_in(event->mimeData());
  if (!dragged) {
    event->ignore();
    return;
  }
  MoveForecast forecast = controller_.forecast(dragged->job, node_);
  if (!forecast.possible) {
    set_hint(QString::fromStdString(describe_forecast(forecast)));
    event->ignore();
    return;
  }
  controller_.request_move(dragged->job, dragged->from, node_);
  set_hint(tr("moving %1 here...").arg(QString::fromStdString(dragged->job)));
  event->setDropAction(Qt::CopyAction);
  event->accept();
}

void NodeCard::send_home(const QModelIndex& index) {
  if (!index.isValid() || index.data(JobListModel::AtHomeRole).toBool()) return;
  std::string job = index.data(JobListModel::IdRole).toString().toStdString();
  controller_.request_move(job, node_, api::kMigrateToHome);
}

void NodeCard::show_job_menu(const QPoint& at) {
  QModelIndex index = jobs_->indexAt(at);
  if (!index.isValid()) index = jobs_->currentIndex();  // the menu key: the current job
  if (!index.isValid()) return;
  const std::string job = index.data(JobListModel::IdRole).toString().toStdString();
  const bool own = controller_.caller_uid() == 0 ||
                   index.data(JobListModel::OwnerUidRole).toInt() ==
                       static_cast<int>(controller_.caller_uid());
  const bool locked = index.data(JobListModel::LockedRole).toBool();

  QMenu menu(this);
  QMenu* move_to = menu.addMenu(tr("Move to"));
  for (const api::NodeView& node : controller_.node_views()) {
    if (node.name == node_ || node.state != "up") continue;
    QAction* action = move_to->addAction(QString::fromStdString(node.name));
    const std::string target = node.name;
    connect(action, &QAction::triggered, this,
            [this, job, target] { controller_.request_move(job, node_, target); });
  }
  move_to->setEnabled(own && !move_to->isEmpty());
  QAction* best = menu.addAction(tr("Move to the best node"));
  best->setEnabled(own);
  connect(best, &QAction::triggered, this,
          [this, job] { controller_.request_move(job, node_, api::kMigrateToBest); });
  QAction* home = menu.addAction(tr("Send home"));
  home->setEnabled(own && !index.data(JobListModel::AtHomeRole).toBool());
  connect(home, &QAction::triggered, this,
          [this, job] { controller_.request_move(job, node_, api::kMigrateToHome); });
  menu.addSeparator();
  QAction* lock = menu.addAction(locked ? tr("Unlock (may move)") : tr("Lock here"));
  lock->setEnabled(own);
  connect(lock, &QAction::triggered, this,
          [this, job, locked] { controller_.set_locked(job, !locked); });
  QAction* kill = menu.addAction(tr("Kill"));
  kill->setEnabled(own);
  connect(kill, &QAction::triggered, this, [this, job] { controller_.kill_job(job); });
  menu.exec(jobs_->viewport()->mapToGlobal(at));
}

}  // namespace clusterlive::view
