// clusterview: the cluster on the desktop. A tray icon, and a window with a card per node
// where jobs are dragged from node to node. Talks only to this PC's clusterlived.
#include <unistd.h>

#include <QApplication>
#include <QCommandLineParser>
#include <QDBusConnection>
#include <QDBusConnectionInterface>
#include <QDateTime>
#include <QElapsedTimer>
#include <QSaveFile>
#include <QSystemTrayIcon>
#include <QTimer>
#include <memory>

#include "api/api_types.h"
#include "api_connection.h"
#include "cluster_controller.h"
#include "cluster_tray.h"
#include "cluster_window.h"

namespace {
/// How long to wait for a system tray at start, and how often to look, ms.
constexpr qint64 kTrayWaitMs = 30000;
constexpr int kTrayPollMs = 500;

/// Whether it is time to ask Qt for the tray. Qt decides once per process, at the first
/// question, which kind of tray it uses: a D-Bus StatusNotifierItem when the panel's
/// StatusNotifierWatcher is on the session bus, else an XEmbed icon. Asked at login before
/// LXQt's panel put its watcher on the bus, Qt settles on XEmbed for good, which that panel
/// does not host: the icon never shows. So ask once the watcher is there, or when there is no
/// session bus at all, or when the wait is over (a desktop with an XEmbed tray only).
bool time_to_ask_for_the_tray(const QElapsedTimer& waited) {
  QDBusConnectionInterface* bus = QDBusConnection::sessionBus().interface();
  return bus == nullptr || bus->isServiceRegistered("org.kde.StatusNotifierWatcher").value() ||
         waited.hasExpired(kTrayWaitMs);
}
}  // namespace

int main(int argc, char** argv) {
  using namespace clusterlive::view;
  QApplication app(argc, argv);
  QApplication::setApplicationName("clusterview");
  QApplication::setApplicationVersion(CLUSTERVIEW_VERSION);
  QApplication::setQuitOnLastWindowClosed(false);  // the tray stays

  QCommandLineParser options;
  options.setApplicationDescription("The clusterlive cluster on the desktop.");
  options.addHelpOption();
  options.addVersionOption();
  QCommandLineOption socket_option("socket", "clusterlived's API socket.", "path",
                                   clusterlive::api::kDefaultSocketPath);
  QCommandLineOption window_option("window", "Open the window at start (always without a tray).");
  QCommandLineOption no_tray_option("no-tray", "No tray icon; quit when the window closes.");
  QCommandLineOption layout_option(
      "layout-report", "After each refresh, write where the cards and jobs are on the screen "
      "(JSON, for scripts that drive the window).", "file");
  options.addOptions({socket_option, window_option, no_tray_option, layout_option});
  options.process(app);

  ApiConnection api(options.value(socket_option));
  ClusterController controller(api, getuid(), [] { return QDateTime::currentMSecsSinceEpoch(); });
  ClusterWindow window(controller);

  // With a tray the window opens from its icon; without one (or with --no-tray) the window
  // is the application. At login the panel holding the tray may start after clusterview:
  // wait for the tray a while before falling back to the window alone.
  std::unique_ptr<ClusterTray> tray;
  auto use_tray = [&] {
    tray = std::make_unique<ClusterTray>(controller, api, window);
    tray->show();
  };
  auto use_window_alone = [&] {
    QApplication::setQuitOnLastWindowClosed(true);
    window.show();
  };
  if (options.isSet(window_option)) window.show();
  if (options.isSet(no_tray_option)) {
    use_window_alone();
  } else {
    auto* poll = new QTimer(&app);
    QElapsedTimer waited;
    waited.start();
    auto look_for_the_tray = [&, poll, waited] {
      if (!time_to_ask_for_the_tray(waited)) return;
      if (QSystemTrayIcon::isSystemTrayAvailable()) {
        poll->stop();
        use_tray();
      } else if (waited.hasExpired(kTrayWaitMs)) {
        poll->stop();
        use_window_alone();
      }
    };
    QObject::connect(poll, &QTimer::timeout, &app, look_for_the_tray);
    poll->start(kTrayPollMs);
    look_for_the_tray();
  }

  if (options.isSet(layout_option)) {
    const QString report_path = options.value(layout_option);
    QObject::connect(&controller, &ClusterController::refreshed, &window, [&window, report_path] {
      QSaveFile report(report_path);  // whole or not at all, for a reader polling it
      if (report.open(QIODevice::WriteOnly)) {
        report.write(window.layout_report());
        report.commit();
      }
    });
  }
  controller.start();
  return QApplication::exec();
}
