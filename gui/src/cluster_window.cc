#include "cluster_window.h"

#include <QGridLayout>
#include <QLabel>
#include <QHBoxLayout>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QListView>
#include <QListWidget>
#include <QMenuBar>
#include <QPushButton>
#include <QVBoxLayout>
#include <QEvent>
#include <QScrollArea>
#include <QSplitter>
#include <QStatusBar>
#include <QTabWidget>
#include <algorithm>
#include <set>

#include "cluster_controller.h"
#include "cluster_setup_dialog.h"
#include "job_list_model.h"
#include "load_chart.h"
#include "node_card.h"

namespace clusterlive::view {
namespace {

/// Room a card needs across, px (its minimum width and the grid's spacing).
constexpr int kCardSlotWidth = 240;

/// The window's size when it first opens, px.
constexpr int kInitialWidth = 1000;
constexpr int kInitialHeight = 700;

}  // namespace

ClusterWindow::ClusterWindow(ClusterController& controller, QWidget* parent)
    : QMainWindow(parent), controller_(controller) {
  setWindowTitle(tr("clusterview"));
  cards_area_ = new QWidget;
  grid_ = new QGridLayout(cards_area_);
  grid_->setAlignment(Qt::AlignTop | Qt::AlignLeft);
  auto* scroll = new QScrollArea;
  scroll->setWidget(cards_area_);
  scroll->setWidgetResizable(true);
  viewport_ = scroll->viewport();
  viewport_->installEventFilter(this);

  chart_ = new LoadChart(controller_.load_history());
  log_ = new QListWidget;
  log_->setObjectName("migration-log");
  auto* tabs = new QTabWidget;
  tabs->addTab(chart_, tr("Load, last 10 minutes"));
  tabs->addTab(log_, tr("Migrations"));

  auto* splitter = new QSplitter(Qt::Vertical);
  splitter->addWidget(scroll);
  splitter->addWidget(tabs);
  // Three quarters of the height for the cards, the jobs on them and the drop forecasts;
  // left to the size hints, the chart took three quarters (a scroll area hints small).
  splitter->setStretchFactor(0, 3);
  splitter->setStretchFactor(1, 1);
  splitter->setSizes({3 * kInitialHeight / 4, kInitialHeight / 4});
  // A PC in no cluster: say so above the cards, with the way out.
  no_cluster_ = new QWidget;
  no_cluster_->setObjectName("no-cluster");
  no_cluster_text_ = new QLabel;
  no_cluster_text_->setWordWrap(true);
  auto* setup_button = new QPushButton(tr("Create or &join a cluster..."));
  connect(setup_button, &QPushButton::clicked, this, &ClusterWindow::open_cluster_setup);
  auto* no_cluster_row = new QHBoxLayout(no_cluster_);
  no_cluster_row->addWidget(no_cluster_text_, 1);
  no_cluster_row->addWidget(setup_button);
  no_cluster_->hide();

  auto* central = new QWidget;
  auto* central_layout = new QVBoxLayout(central);
  central_layout->setContentsMargins(0, 0, 0, 0);
  central_layout->addWidget(no_cluster_);
  central_layout->addWidget(splitter, 1);
  setCentralWidget(central);

  QMenu* cluster_menu = menuBar()->addMenu(tr("&Cluster"));
  QAction* setup = cluster_menu->addAction(tr("Create, join, or show the &key..."));
  setup->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_K));
  connect(setup, &QAction::triggered, this, &ClusterWindow::open_cluster_setup);

  connection_ = new QLabel;
  statusBar()->addWidget(connection_, 1);
  on_connection_changed(controller_.connected(), tr("connecting to clusterlived..."));

  connect(&controller_, &ClusterController::refreshed, this, &ClusterWindow::refresh);
  connect(&controller_, &ClusterController::move_finished, this,
          &ClusterWindow::on_move_finished);
  connect(&controller_, &ClusterController::connection_changed, this,
          &ClusterWindow::on_connection_changed);
  connect(&controller_, &ClusterController::action_failed, this,
          [this](const QString& why) { statusBar()->showMessage(why, 10000); });
  resize(kInitialWidth, kInitialHeight);
}

NodeCard* ClusterWindow::card(const std::string& node) const {
  auto it = cards_.find(node);
  return it == cards_.end() ? nullptr : it->second;
}

QString ClusterWindow::connection_text() const { return connection_->text(); }

void ClusterWindow::refresh() {
  const NodeListModel& nodes = controller_.nodes();
  std::set<std::string> shown;
  bool changed = false;
  for (int row = 0; row < nodes.rowCount(); ++row) {
    const api::NodeView& view = nodes.rows()[static_cast<size_t>(row)];
    if (view.state == "foreign") continue;  // another cluster's: nothing to drop there
    shown.insert(view.name);
    NodeCard*& card = cards_[view.name];
    if (card == nullptr) {
      card = new NodeCard(controller_, view.name, cards_area_);
      changed = true;
    } else if (card->isHidden()) {
      changed = true;  // it left during a drag and is back: lay_out_cards shows it
    }
    card->update_from(view, nodes.data(nodes.index(row), NodeListModel::CapacityRole).toDouble());
  }
  for (auto it = cards_.begin(); it != cards_.end();) {
    if (shown.count(it->first) != 0) {
      ++it;
      continue;
    }
    if (NodeCard::drag_under_way()) {
      // The drag may have started on this card: hide it now, delete it at the first
      // refresh after the drop (see NodeCard::drag_under_way).
      if (!it->second->isHidden()) changed = true;
      it->second->hide();
      ++it;
      continue;
    }
    it->second->deleteLater();
    it = cards_.erase(it);
    changed = true;
  }
  if (changed) lay_out_cards();
  chart_->update();

  // The title says how many are up (taskbars show it; the desktop test reads it).
  int members = 0;
  int up = 0;
  for (const api::NodeView& view : nodes.rows()) {
    if (view.state == "foreign") continue;
    ++members;
    if (view.state == "up") ++up;
  }
  setWindowTitle(tr("clusterview: %1 of %2 nodes up").arg(up).arg(members));

  const std::optional<api::StatusView>& status = controller_.status();
  const bool alone = status && !status->cluster_id;
  if (alone)
    no_cluster_text_->setText(tr("This PC is in no cluster yet (%1): create one, or join one "
                                 "with its key.")
                                  .arg(QString::fromStdString(status->alone_reason)));
  no_cluster_->setVisible(alone);

  const auto& entries = controller_.migration_log().entries();
  if (entries.size() != log_entries_shown_ ||
      (!entries.empty() && log_->count() > 0 &&
       log_->item(0)->text() != QString::fromStdString(describe_log_entry(entries.front())))) {
    log_->clear();
    for (const MigrationLogEntry& entry : entries)
      log_->addItem(QString::fromStdString(describe_log_entry(entry)));
    log_entries_shown_ = entries.size();
  }
}

void ClusterWindow::lay_out_cards() {
  columns_ = std::max(1, viewport_->width() / kCardSlotWidth);
  while (grid_->count() > 0) delete grid_->takeAt(0);  // the items, not the cards
  // This PC first, then by name: the node model's order.
  const NodeListModel& nodes = controller_.nodes();
  int slot = 0;
  for (const api::NodeView& view : nodes.rows()) {
    NodeCard* shown = card(view.name);
    if (shown == nullptr) continue;
    grid_->addWidget(shown, slot / columns_, slot % columns_);
    shown->show();
    ++slot;
  }
}

bool ClusterWindow::eventFilter(QObject* watched, QEvent* event) {
  if (watched == viewport_ && event->type() == QEvent::Resize &&
      std::max(1, viewport_->width() / kCardSlotWidth) != columns_)
    lay_out_cards();
  return QMainWindow::eventFilter(watched, event);
}

QByteArray ClusterWindow::layout_report() const {
  QJsonArray cards;
  for (const auto& [name, card] : cards_) {
    if (card->isHidden()) continue;
    QPoint centre = card->mapToGlobal(card->rect().center());
    QJsonArray jobs;
    QListView* list = card->job_list();
    for (int row = 0; row < list->model()->rowCount(); ++row) {
      QModelIndex index = list->model()->index(row, 0);
      QPoint at = list->viewport()->mapToGlobal(list->visualRect(index).center());
      jobs.append(QJsonObject{{"id", index.data(JobListModel::IdRole).toString()},
                              {"x", at.x()},
                              {"y", at.y()}});
    }
    cards.append(QJsonObject{{"name", QString::fromStdString(name)},
                             {"x", centre.x()},
                             {"y", centre.y()},
                             {"jobs", jobs}});
  }
  return QJsonDocument(QJsonObject{{"nodes", cards}}).toJson(QJsonDocument::Compact);
}

bool ClusterWindow::offers_cluster_setup() const { return !no_cluster_->isHidden(); }

void ClusterWindow::open_cluster_setup() {
  if (setup_dialog_) {
    setup_dialog_->raise();
    setup_dialog_->activateWindow();
    return;
  }
  const std::optional<api::StatusView>& status = controller_.status();
  std::string cluster_id = status && status->cluster_id ? *status->cluster_id : std::string();
  auto* dialog = new ClusterSetupDialog(setup_cli_, cluster_id, this);
  dialog->setAttribute(Qt::WA_DeleteOnClose);
  connect(dialog, &ClusterSetupDialog::cluster_changed, &controller_,
          &ClusterController::poll_now);
  setup_dialog_ = dialog;
  dialog->show();
}

void ClusterWindow::on_move_finished(const FinishedMove& move) {
  QString text = move.moved ? tr("%1 moved to %2").arg(QString::fromStdString(move.job),
                                                        QString::fromStdString(move.target))
                            : tr("%1 did not move to %2: %3")
                                  .arg(QString::fromStdString(move.job),
                                       QString::fromStdString(move.target),
                                       QString::fromStdString(move.reason));
  statusBar()->showMessage(text, 15000);
  // Said on the card the job was dragged from: where the item stayed (or came back).
  if (NodeCard* from = card(move.from)) from->set_hint(text);
  if (NodeCard* to = card(move.target)) to->set_hint(move.moved ? text : QString());
}

void ClusterWindow::on_connection_changed(bool connected, const QString& why) {
  connection_->setText(connected ? tr("connected to clusterlived")
                                 : tr("clusterlived is not answering (%1); trying again").arg(why));
  connection_->setStyleSheet(connected ? QString() : QString("color: #c62828"));
}

}  // namespace clusterlive::view
