#include "cluster_tray.h"

#include <QAction>
#include <QApplication>
#include <QIcon>
#include <QMenu>
#include <QPixmap>
#include <QWidget>

#include "api_connection.h"
#include "cluster_controller.h"
#include "membership_notices.h"
#include "tray_icon_image.h"

namespace clusterlive::view {
namespace {

bool same_look(const TraySummary& a, const TraySummary& b) {
  return a.nodes_up == b.nodes_up && a.health == b.health && a.cores == b.cores &&
         static_cast<int>(a.load * 10) == static_cast<int>(b.load * 10);
}

}  // namespace

ClusterTray::ClusterTray(ClusterController& controller, ApiConnection& api, QWidget& window,
                         QObject* parent)
    : QObject(parent), controller_(controller), api_(api), window_(window) {
  auto* menu = new QMenu(&window_);
  QAction* show_window = menu->addAction(tr("Show the cluster"));
  connect(show_window, &QAction::triggered, this, [this] {
    window_.show();
    window_.raise();
    window_.activateWindow();
  });
  QAction* setup = menu->addAction(tr("Create, join, or show the key..."));
  connect(setup, &QAction::triggered, this, [this] {
    window_.show();
    QMetaObject::invokeMethod(&window_, "open_cluster_setup");
  });
  QAction* quit = menu->addAction(tr("Quit"));
  connect(quit, &QAction::triggered, qApp, &QApplication::quit);
  tray_.setContextMenu(menu);
  connect(&tray_, &QSystemTrayIcon::activated, this, [this](QSystemTrayIcon::ActivationReason why) {
    if (why == QSystemTrayIcon::Trigger) toggle_window();
  });
  connect(&controller_, &ClusterController::refreshed, this, &ClusterTray::refresh);
  connect(&controller_, &ClusterController::connection_changed, this, &ClusterTray::refresh);
  refresh();
}

void ClusterTray::show() { tray_.show(); }

void ClusterTray::toggle_window() {
  if (window_.isVisible()) {
    window_.hide();
  } else {
    window_.show();
    window_.raise();
    window_.activateWindow();
  }
}

void ClusterTray::refresh() {
  TraySummary summary = summarize(controller_.connected(), controller_.status(),
                                  controller_.node_views(), api_.why_not_connected().toStdString());
  if (!have_summary_ || !same_look(summary, summary_)) {
    QIcon icon;
    for (int size : {16, 22, 24, 32, 48, 64})
      icon.addPixmap(QPixmap::fromImage(draw_tray_icon(summary, size)));
    tray_.setIcon(icon);  // each change is a D-Bus message to the panel: only on a change
  }
  tray_.setToolTip(QString::fromStdString(tray_tooltip(summary)));
  summary_ = std::move(summary);
  have_summary_ = true;

  if (!controller_.connected()) return;
  if (have_nodes_) {
    for (const std::string& notice : membership_notices(last_nodes_, controller_.node_views()))
      tray_.showMessage(tr("clusterlive"), QString::fromStdString(notice));
  }
  last_nodes_ = controller_.node_views();
  have_nodes_ = !last_nodes_.empty();
}

}  // namespace clusterlive::view
