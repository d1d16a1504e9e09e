// clusterlived: see daemon.h. Options exist for tests and unusual setups; the systemd unit
// runs it without any.
#include <CLI/CLI.hpp>

#include "daemon/daemon.h"

int main(int argc, char** argv) {
  clusterlive::DaemonOptions options;
  CLI::App app{"clusterlived: clusterlive's node daemon (discovery, mesh, membership)"};
  app.add_option("--socket", options.socket_path, "local API socket");
  app.add_option("--runtime-dir", options.runtime_dir, "this boot's keys and caches");
  app.add_option("--state-dir", options.state_dir, "where criu-check.json is");
  app.add_option("--root", options.root_dir,
                 "root under which /proc/cmdline and the key files are looked for");
  app.add_option("--leases", options.leases_path, "dnsmasq leases file");
  app.add_option("--interface", options.mesh_interface, "WireGuard interface name");
  app.add_option("--node-id", options.node_id, "node id (default: the host name)");
  app.add_option("--shared-root", options.shared_root,
                 "the shared storage mount a job needs (default /cluster; \"\" = not checked)");
  app.add_option("--jobs-root", options.jobs_root, "the shared job spool (default /cluster/jobs)");
  bool no_storage = false;
  app.add_flag("--no-storage", no_storage,
               "do not serve or mount the shared storage (it is provided another way)");
  CLI11_PARSE(app, argc, argv);
  options.manage_storage = !no_storage;
  clusterlive::Daemon daemon(options);
  return daemon.run();
}
