// clusterlived: owns the event loop (Avahi's simple poll, which also watches our sockets),
// the mDNS discovery, the local API, this node's load figures and the cluster session.
#pragma once

#include <avahi-common/simple-watch.h>

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "api/api_server.h"
#include "api/api_types.h"
#include "avahi/avahi_discovery.h"
#include "core/boot_config.h"
#include "core/cluster_secret.h"
#include "core/load_smoother.h"
#include "daemon/cluster_session.h"
#include "daemon/migration_listener.h"
#include "jobs/job_manager.h"
#include "migrate/migration_progress.h"
#include "storage/storage_manager.h"
#include "mesh/command_runner.h"
#include "sys/proc_stats.h"

namespace clusterlive {

struct DaemonOptions {
  std::string socket_path = api::kDefaultSocketPath;
  std::string runtime_dir = "/run/clusterlive";    ///< this boot's keys
  std::string state_dir = "/var/lib/clusterlive";  ///< criu-check.json
  std::string root_dir = "/";  ///< where /proc/cmdline and key files are looked for (tests)
  std::string leases_path = "/var/lib/misc/dnsmasq.leases";
  std::string mesh_interface = "clmesh0";
  std::string node_id;  ///< empty: the host name
  std::string shared_root = "/cluster";     ///< the shared storage mount ("" = not checked)
  std::string jobs_root = "/cluster/jobs";  ///< the shared job spool
  /// Serve and mount /cluster automatically (off: tests that provide their own /cluster).
  bool manage_storage = true;
};

class Daemon final : public api::Backend {
 public:
  explicit Daemon(DaemonOptions options);
  ~Daemon() override;

  /// Runs until SIGTERM or SIGINT. Returns the process exit code.
  int run();

  // api::Backend
  api::StatusView status() override;
  std::vector<api::NodeView> nodes() override;
  std::optional<std::string> secret_hex() override;
  api::ClusterChange create_cluster() override;
  api::ClusterChange join_cluster(const std::string& secret_text) override;
  api::JobResult run_job(const api::Caller& caller, const api::RunRequest& request) override;
  api::JobList jobs() override;
  api::JobResult job(const std::string& id) override;
  api::JobResult kill_job(const api::Caller& caller, const std::string& id) override;
  api::JobResult set_job_locked(const api::Caller& caller, const std::string& id,
                                bool locked) override;
  api::JobResult migrate_job(const api::Caller& caller,
                             const api::MigrateRequest& request) override;

 private:
  api::JobResult relay_migration(const api::Caller& caller, const api::JobView& job,
                                 const std::string& target, uint64_t attempt,
                                 const nlohmann::json& progress);
  /// `node` is this node, or a member of the cluster that is up now.
  bool member_is_up(const std::string& node) const;
  TimeMs now() const;
  uint64_t wall_clock_ms() const;
  void choose_secret_at_start();
  void start_session(const ClusterSecret& secret, const std::string& source);
  void stop_session();
  api::ClusterChange switch_to(const ClusterSecret& secret, const std::string& how);
  void rearm_session_timer();
  void sample_load();
  void update_storage();
  /// Listens on the migration port while the mesh is up (on this node's mesh address).
  void update_migration_listener();
  /// Starts a target worker for a coordinator's connection `fd`.
  void hand_off_migration(int fd);
  /// Starts clusterlive-migrate recover for every migration whose source worker died
  /// unfinished (its progress file says in_progress and names no live worker).
  void recover_orphaned_migrations();
  /// Starts a target recovery for each claim (migrate/target_claim.h) whose worker died.
  void recover_orphaned_target_attempts();
  /// "" if jobs can use /cluster now; else why not (the job API then leaves /cluster alone:
  /// a hard NFS mount of a dead server would hang the event loop).
  std::string storage_unavailable_reason() const;
  void mark_unreachable(api::JobView& job);
  api::NodeView self_row();
  int64_t uptime_ms() const;

  static void on_session_socket(AvahiWatch*, int fd, AvahiWatchEvent, void* self);
  static void on_session_timer(AvahiTimeout*, void* self);
  static void on_load_timer(AvahiTimeout*, void* self);
  static void on_signal(AvahiWatch*, int fd, AvahiWatchEvent, void* self);

  DaemonOptions options_;
  std::chrono::steady_clock::time_point started_;
  std::string node_id_;
  std::string kernel_command_line_;
  KernelParameters kernel_parameters_;
  std::vector<std::string> capabilities_;

  AvahiSimplePoll* simple_poll_ = nullptr;
  const AvahiPoll* poll_ = nullptr;
  ProcessRunner runner_;
  std::unique_ptr<AvahiDiscovery> discovery_;
  std::unique_ptr<api::Server> api_server_;
  int signal_fd_ = -1;
  AvahiWatch* signal_watch_ = nullptr;

  std::optional<ClusterSecret> secret_;
  std::string secret_source_;
  std::string alone_reason_;
  std::unique_ptr<ClusterSession> session_;
  AvahiWatch* control_watch_ = nullptr;
  AvahiWatch* hello_watch_ = nullptr;
  AvahiTimeout* session_timer_ = nullptr;

  AvahiTimeout* load_timer_ = nullptr;
  ProcFsStats proc_stats_;
  LoadSmoother load_;
  uint16_t cores_ = 1;
  uint32_t cpu_speed_ = 0;
  uint32_t free_memory_mib_ = 0;

  std::unique_ptr<StorageManager> storage_;
  bool storage_pinned_ = false;
  uint32_t storage_epoch_ = kNoStorageEpoch;  // while serving: our store's (storage_choice.h)
  StorageDecision storage_decision_;
  std::string storage_mount_address_;  ///< the storage node's mesh address, "" if none

  std::unique_ptr<MigrationListener> migration_listener_;
  std::string migration_listener_error_;  ///< the last one logged, so it is logged once

  RecoveryScheduler recoveries_;  ///< which orphaned migrations get a recovery worker, when
  RecoveryScheduler target_recoveries_;  ///< the same for attempts to this node

  SeededRandom job_random_;
  std::unique_ptr<JobManager> jobs_;
};

}  // namespace clusterlive
