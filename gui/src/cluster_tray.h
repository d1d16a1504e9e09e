// The tray icon: nodes up and the load at a glance (tray_icon_image.h), a colour when
// something is wrong, the problems in its tooltip, a notification when nodes join or leave.
// A click shows or hides the window.
#pragma once

#include <QObject>
#include <QSystemTrayIcon>
#include <vector>

#include "api/api_types.h"
#include "tray_summary.h"

class QWidget;

namespace clusterlive::view {

class ApiConnection;
class ClusterController;

class ClusterTray : public QObject {
  Q_OBJECT

 public:
  ClusterTray(ClusterController& controller, ApiConnection& api, QWidget& window,
              QObject* parent = nullptr);

  void show();
  const TraySummary& summary() const { return summary_; }
  QString tooltip() const { return tray_.toolTip(); }

 private:
  void refresh();
  void toggle_window();

  ClusterController& controller_;
  ApiConnection& api_;
  QWidget& window_;
  QSystemTrayIcon tray_;
  TraySummary summary_;
  bool have_summary_ = false;
  std::vector<api::NodeView> last_nodes_;
  bool have_nodes_ = false;
};

}  // namespace clusterlive::view
