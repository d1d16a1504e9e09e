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
/// How long to wait for a system tray at start before opening the window, how long to keep
/// looking for one after that, and how often to look, ms.
constexpr qint64 kTrayWaitMs = 30000;
constexpr qint64 kTrayGiveUpMs = 600000;
constexpr int kTrayPollMs = 500;

/// Qt's generic platform theme decides once per process, at its first question, which kind of
/// tray it uses: a D-Bus StatusNotifierItem when a panel's StatusNotifierWatcher is on the
/// session bus, else an XEmbed icon. Asked before the panel put its watcher on the bus, it
/// would settle on XEmbed for good, which LXQt's panel does not host. (LXQt's own theme asks
/// the bus each time; waiting costs it nothing.) So ask Qt only once the watcher is there, or
/// when there is no session bus at all.
bool worth_asking_for_the_tray() {
  QDBusConnectionInterface* bus = QDBusConnection::sessionBus().interface();
  return bus == nullptr || bus->isServiceRegistered("org.kde.StatusNotifierWatcher").value();
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
  // is the application. At login the panel holding the tray may start after clusterview (on
  // a loaded PC, by a minute): wait for the tray a while, then open the window, but still add
  // the icon when the tray comes.
  std::unique_ptr<ClusterTray> tray;
  auto use_tray = [&] {
    QApplication::setQuitOnLastWindowClosed(false);
    tray = std::make_unique<ClusterTray>(controller, api, window);
    tray->show();
  };
  auto use_window_alone = [&] {
    QApplication::setQuitOnLastWindowClosed(true);
    window.show();
  };
  if (options.isSet(window_option)) window.show();
  bool window_opened_for_want_of_a_tray = false;
  if (options.isSet(no_tray_option)) {
    use_window_alone();
  } else {
    auto* poll = new QTimer(&app);
    QElapsedTimer waited;
    waited.start();
    auto look_for_the_tray = [&, poll, waited] {
      const bool wait_over = waited.hasExpired(kTrayWaitMs);
      // At the end of the wait, ask Qt once whatever the bus says (a desktop with an
      // XEmbed tray only).
      const bool ask = worth_asking_for_the_tray() || (wait_over && !window_opened_for_want_of_a_tray);
      if (ask && QSystemTrayIcon::isSystemTrayAvailable()) {
        poll->stop();
        use_tray();
        return;
      }
      if (wait_over && !window_opened_for_want_of_a_tray) {
        window_opened_for_want_of_a_tray = true;
        use_window_alone();
      }
      if (waited.hasExpired(kTrayGiveUpMs)) poll->stop();
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
