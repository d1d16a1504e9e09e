// clusterview's frame time and memory with a big cluster: 64 nodes and 500 jobs from a fake
// daemon (tests/fake_daemon.h) on a temporary socket, the window drawn offscreen at
// 1600x1000. A frame is one snapshot taken in (status, nodes, ps answered and applied to the
// models and cards) and the whole window painted. Every frame the loads and CPU figures change,
// as they do in a live cluster. Prints one JSON object (for scripts/bench).
#include <QApplication>
#include <QDateTime>
#include <QElapsedTimer>
#include <QFile>
#include <QSignalSpy>
#include <algorithm>
#include <cstdio>
#include <vector>

#include "api_connection.h"
#include "cluster_controller.h"
#include "cluster_window.h"
#include "fake_daemon.h"

using namespace clusterlive;
using namespace clusterlive::view;
using namespace clusterlive::view::testing;

namespace {

constexpr int kNodes = 64;
constexpr int kJobs = 500;
constexpr int kFrames = 40;

std::string node_name(int i) { return "node-" + std::to_string(1000 + i); }

/// This process's resident memory, MiB (VmRSS in /proc/self/status).
double rss_mib() {
  QFile status("/proc/self/status");
  if (!status.open(QIODevice::ReadOnly)) return -1;
  for (const QByteArray& line : status.readAll().split('\n'))
    if (line.startsWith("VmRSS:")) return line.mid(6).trimmed().split(' ').front().toDouble() / 1024;
  return -1;
}

double percentile(std::vector<double> values, double p) {
  std::sort(values.begin(), values.end());
  return values[static_cast<size_t>(p * (values.size() - 1))];
}

}  // namespace

int main(int argc, char** argv) {
  qputenv("QT_QPA_PLATFORM", "offscreen");
  QApplication app(argc, argv);
  FakeDaemon daemon;
  for (int i = 0; i < kNodes; ++i)
    daemon.nodes.push_back(node_view(node_name(i), "up", i == 0, 8, 900 + 10 * i, 1.0));
  for (int j = 0; j < kJobs; ++j) {
    char id[16];
    std::snprintf(id, sizeof id, "j-%08d", j);
    daemon.jobs.push_back(job_view(id, node_name(j % kNodes), node_name(0), 65536 + 1024 * j));
  }
  ApiConnection api(daemon.socket_path());
  ClusterController controller(api, 1000, [] { return QDateTime::currentMSecsSinceEpoch(); });
  ClusterWindow window(controller);
  window.resize(1600, 1000);
  window.show();
  QSignalSpy refreshed(&controller, &ClusterController::refreshed);
  controller.start();
  if (!refreshed.wait(10000)) {
    std::fprintf(stderr, "frame_bench: no first snapshot from the fake daemon\n");
    return 1;
  }
  const double rss_before = rss_mib();

  std::vector<double> frame_ms;
  for (int frame = 0; frame < kFrames; ++frame) {
    for (size_t i = 0; i < daemon.nodes.size(); ++i)
      daemon.nodes[i].load = 0.5 + static_cast<double>((frame + i) % 16) / 4;
    for (size_t j = 0; j < daemon.jobs.size(); ++j)
      daemon.jobs[j].cpu_percent = static_cast<double>((frame * 7 + j) % 100);
    QElapsedTimer timer;
    timer.start();
    refreshed.clear();
    controller.poll_now();
    if (!refreshed.wait(10000)) {
      std::fprintf(stderr, "frame_bench: snapshot %d did not come\n", frame);
      return 1;
    }
    window.grab();  // paints every widget of the window now
    frame_ms.push_back(static_cast<double>(timer.nsecsElapsed()) / 1e6);
  }
  std::printf(
      "{\"nodes\":%d,\"jobs\":%d,\"frames\":%d,\"frame_ms_median\":%.1f,\"frame_ms_p95\":%.1f,"
      "\"rss_mib_at_start\":%.1f,\"rss_mib\":%.1f}\n",
      kNodes, kJobs, kFrames, percentile(frame_ms, 0.5), percentile(frame_ms, 0.95), rss_before,
      rss_mib());
  return 0;
}
