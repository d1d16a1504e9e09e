#include "daemon/daemon.h"

#include <arpa/inet.h>
#include <avahi-common/timeval.h>
#include <dirent.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <signal.h>
#include <sodium.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>

#include "core/job_spool.h"
#include "core/mac.h"
#include "core/node_id.h"
#include "core/placement.h"
#include "daemon/log.h"
#include "migrate/commit_records.h"
#include "migrate/job_inspection.h"
#include "migrate/peer_link.h"
#include "migrate/target_claim.h"
#include "sys/cpu_benchmark.h"
#include "sys/detached_process.h"
#include "sys/file_io.h"
#include "sys/key_files.h"
#include "sys/proc_stats.h"
#include "sys/wall_clock.h"

namespace clusterlive {
namespace {

constexpr const char* kVersion = "0.3.0";

// A seed for ids that must differ between nodes and runs (job ids).
uint64_t random_seed() {
  uint64_t seed = 0;
  if (getrandom(&seed, sizeof seed, 0) != static_cast<ssize_t>(sizeof seed)) {
    seed = static_cast<uint64_t>(std::chrono::system_clock::now().time_since_epoch().count()) ^
           static_cast<uint64_t>(getpid());
  }
  return seed;
}

std::string host_name() {
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) != 0) return {};
  return name;
}

// This node's LAN addresses: IPv4 and IPv6 of every interface but loopback and the mesh.
std::vector<std::string> lan_addresses(const std::string& mesh_interface) {
  std::vector<std::string> v4, v6;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return {};
  for (ifaddrs* entry = list; entry; entry = entry->ifa_next) {
    if (!entry->ifa_addr || (entry->ifa_flags & IFF_LOOPBACK)) continue;
    if (mesh_interface == entry->ifa_name) continue;
    char text[INET6_ADDRSTRLEN] = {};
    if (entry->ifa_addr->sa_family == AF_INET) {
      inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(entry->ifa_addr)->sin_addr, text,
                sizeof text);
      v4.push_back(text);
    } else if (entry->ifa_addr->sa_family == AF_INET6) {
      inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(entry->ifa_addr)->sin6_addr, text,
                sizeof text);
      v6.push_back(text);
    }
  }
  freeifaddrs(list);
  v4.insert(v4.end(), v6.begin(), v6.end());
  return v4;
}

api::CriuCheckView read_criu_check(const std::string& state_dir) {
  api::CriuCheckView view;
  ReadResult file = read_file_bounded(state_dir + "/criu-check.json", 64 * 1024);
  if (file.status != ReadStatus::ok) return view;
  nlohmann::json json = nlohmann::json::parse(file.text, nullptr, false);
  if (!json.is_object() || !json.contains("ok") || !json["ok"].is_boolean()) return view;
  view.known = true;
  view.ok = json["ok"].get<bool>();
  std::string output = json.value("output", "");
  // The verdict is on the last line ("Looks good."), errors before it.
  while (!output.empty() && output.back() == '\n') output.pop_back();
  size_t line = output.rfind('\n');
  view.detail = view.ok ? output.substr(line == std::string::npos ? 0 : line + 1)
                        : output.substr(0, output.find('\n'));
  return view;
}

/// Where `job` (running on `node_id`) would run fastest among `nodes` (the API's rows, this
/// node's included), for `migrate JOB best`; unknown figures count as unknown, not as zero load.
PlacementChoice choose_best_node(const api::JobView& job, const std::string& node_id,
                                 const std::vector<api::NodeView>& nodes) {
  std::vector<PlacementNode> candidates;
  for (const api::NodeView& row : nodes) {
    if (!row.load || !row.free_memory_mib) continue;
    PlacementNode node;
    node.id = row.name;
    node.up = row.state == "up";
    node.cores = row.cores.value_or(0);
    node.cpu_speed = row.cpu_speed.value_or(0);
    node.load_milli = static_cast<uint64_t>(std::llround(std::max(0.0, *row.load) * 1000));
    node.free_memory_mib = *row.free_memory_mib;
    candidates.push_back(node);
  }
  return choose_fastest_node({job.id, node_id, job.rss_kib * 1024, job.cpu_percent}, candidates);
}

}  // namespace

Daemon::Daemon(DaemonOptions options)
    : options_(std::move(options)),
      started_(std::chrono::steady_clock::now()),
      job_random_(random_seed()) {
  node_id_ = options_.node_id.empty() ? host_name() : options_.node_id;
  JobManagerOptions job_options;
  job_options.node_id = node_id_;
  job_options.shared_root = options_.shared_root;
  job_options.jobs_root = options_.jobs_root;
  job_options.runtime_dir = options_.runtime_dir + "/jobs";
  job_options.shim_path = CLUSTERLIVE_JOB_SHIM_PATH;
  jobs_ = std::make_unique<JobManager>(job_options, job_random_);
  if (options_.manage_storage && !options_.shared_root.empty()) {
    StorageManagerOptions storage_options;
    storage_options.helper_path = CLUSTERLIVE_STORAGE_HELPER_PATH;
    storage_options.mount_point = options_.shared_root;
    storage_ = std::make_unique<StorageManager>(storage_options);
    // A restart: the mount the previous run made serves jobs and `ps` until the first decision
    // (a second away) says otherwise.
    storage_mount_address_ = storage_->mounted_from();
  }
  simple_poll_ = avahi_simple_poll_new();
  poll_ = avahi_simple_poll_get(simple_poll_);
}

Daemon::~Daemon() {
  stop_session();
  api_server_.reset();
  discovery_.reset();
  if (load_timer_) poll_->timeout_free(load_timer_);
  if (signal_watch_) poll_->watch_free(signal_watch_);
  if (signal_fd_ >= 0) close(signal_fd_);
  avahi_simple_poll_free(simple_poll_);
}

TimeMs Daemon::now() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

uint64_t Daemon::wall_clock_ms() const {
  return static_cast<uint64_t>(unix_time_ms());
}

int Daemon::run() {
  if (!is_valid_node_id(node_id_)) {
    log::error("this node's host name \"" + node_id_ +
               "\" is not a valid node id (a lower-case "
               "DNS label); clusterlive-hostname.service sets one from the MAC address");
    return 1;
  }
  // SIGTERM / SIGINT arrive as readable data on a signalfd, inside the event loop.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigprocmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);
  signal_fd_ = signalfd(-1, &signals, SFD_CLOEXEC | SFD_NONBLOCK);
  signal_watch_ = poll_->watch_new(poll_, signal_fd_, AVAHI_WATCH_IN, on_signal, this);

  std::string cmdline_error;
  kernel_command_line_ = read_kernel_command_line(cmdline_error, options_.root_dir).value_or("");
  if (!cmdline_error.empty()) log::warning("kernel command line: " + cmdline_error);
  kernel_parameters_ = parse_kernel_parameters(kernel_command_line_);
  for (const std::string& warning : kernel_parameters_.warnings) log::warning(warning);
  if (kernel_parameters_.role) {
    if (*kernel_parameters_.role == "storage") {
      storage_pinned_ = true;
      log::info("clusterlive.role=storage: this node is the preferred storage node");
    } else {
      log::warning("clusterlive.role=" + *kernel_parameters_.role +
                   " is not a known role (known: storage); ignored");
    }
  }

  // Normally made by systemd (RuntimeDirectory=); made here too for other ways of starting.
  mkdir(options_.runtime_dir.c_str(), 0755);

  // CPU speed: measured once per boot, cached under /run.
  CpuSpeed speed = measured_cpu_speed(options_.runtime_dir + "/cpu-speed");
  cpu_speed_ = speed.speed;
  if (!speed.problem.empty()) log::warning("CPU speed cache: " + speed.problem);
  log::info("node " + node_id_ + ": CPU speed " + std::to_string(cpu_speed_) + " per core");

  api::CriuCheckView criu = read_criu_check(options_.state_dir);
  if (criu.known && criu.ok) capabilities_.push_back("criu");

  discovery_ = std::make_unique<AvahiDiscovery>(
      poll_, AvahiDiscovery::Callbacks{[this](const DiscoveredService& service) {
                                         if (session_) session_->on_service_found(service, now());
                                         rearm_session_timer();
                                       },
                                       [](const std::string&) {},
                                       [](const std::string& message, bool problem) {
                                         problem ? log::warning(message) : log::info(message);
                                       }});

  api::ServerOptions server_options;
  server_options.socket_path = options_.socket_path;
  std::string api_error;
  api_server_ = api::Server::start(poll_, *this, server_options, api_error);
  if (!api_server_) {
    log::error("local API: " + api_error);
    return 1;
  }

  sample_load();
  load_timer_ = poll_->timeout_new(poll_, nullptr, on_load_timer, this);
  struct timeval soon;
  avahi_elapse_time(&soon, static_cast<unsigned>(kLoadSampleIntervalMs), 0);
  poll_->timeout_update(load_timer_, &soon);

  choose_secret_at_start();
  sd_notify(0, "READY=1");

  while (avahi_simple_poll_iterate(simple_poll_, -1) == 0) {
  }
  log::info("stopping: the mesh interface goes down; peers will see this node as dead");
  sd_notify(0, "STOPPING=1");
  stop_session();
  return 0;
}

void Daemon::on_signal(AvahiWatch*, int fd, AvahiWatchEvent, void* self) {
  signalfd_siginfo info{};
  while (read(fd, &info, sizeof info) == sizeof info) {
  }
  avahi_simple_poll_quit(static_cast<Daemon*>(self)->simple_poll_);
}

void Daemon::choose_secret_at_start() {
  KeySources sources = find_key_sources(kernel_command_line_, options_.root_dir);
  for (const KeyLocation& location : sources.locations) {
    if (!location.error.empty()) log::warning("key file " + location.error);
  }
  SecretChoice choice = choose_key(sources);
  if (choice.secret) {
    start_session(*choice.secret, std::string(to_string(*choice.source)));
    return;
  }
  if (!choice.error.empty()) {
    alone_reason_ = choice.error;
    log::error("running alone: " + choice.error);
  } else {
    alone_reason_ =
        "no cluster secret (boot medium, persistence, kernel command line); "
        "use `clusterlive create` or `clusterlive join`";
    log::warning("running alone: " + alone_reason_);
  }
}

void Daemon::start_session(const ClusterSecret& secret, const std::string& source) {
  stop_session();
  secret_ = secret;
  secret_source_ = source;
  alone_reason_.clear();
  SessionConfig config;
  config.node_id = node_id_;
  config.secret_source = source;
  config.seeds = kernel_parameters_.peers;
  config.leases_path = options_.leases_path;
  config.runtime_dir = options_.runtime_dir;
  config.mesh_interface = options_.mesh_interface;
  config.capabilities = capabilities_;
  session_ = std::make_unique<ClusterSession>(secret, config, runner_, now(), wall_clock_ms());
  log::info("node " + node_id_ + " in cluster " + session_->cluster_id() + " (secret from " +
            source + ")");
  if (std::string error = session_->start(); !error.empty()) {
    log::error("mesh not available: " + error);
  } else {
    log::info("mesh interface " + options_.mesh_interface + " up");
  }
  if (session_->control_fd() >= 0) {
    control_watch_ =
        poll_->watch_new(poll_, session_->control_fd(), AVAHI_WATCH_IN, on_session_socket, this);
  }
  if (session_->hello_fd() >= 0) {
    hello_watch_ =
        poll_->watch_new(poll_, session_->hello_fd(), AVAHI_WATCH_IN, on_session_socket, this);
  }
  session_timer_ = poll_->timeout_new(poll_, nullptr, on_session_timer, this);
  rearm_session_timer();
  discovery_->publish(node_id_, kHelloPort, session_->txt_record());
}

void Daemon::stop_session() {
  migration_listener_.reset();
  if (control_watch_) poll_->watch_free(control_watch_);
  if (hello_watch_) poll_->watch_free(hello_watch_);
  if (session_timer_) poll_->timeout_free(session_timer_);
  control_watch_ = hello_watch_ = nullptr;
  session_timer_ = nullptr;
  if (discovery_) discovery_->withdraw();
  if (session_) session_->stop();
  session_.reset();
}

void Daemon::rearm_session_timer() {
  if (!session_ || !session_timer_) return;
  TimeMs wait = std::max<TimeMs>(1, session_->next_tick_due() - now());
  struct timeval when;
  avahi_elapse_time(&when, static_cast<unsigned>(std::min<TimeMs>(wait, 1000)), 0);
  poll_->timeout_update(session_timer_, &when);
}

void Daemon::on_session_socket(AvahiWatch*, int fd, AvahiWatchEvent, void* self) {
  auto* daemon = static_cast<Daemon*>(self);
  if (!daemon->session_) return;
  if (fd == daemon->session_->control_fd()) {
    daemon->session_->on_control_readable(daemon->now());
  } else {
    daemon->session_->on_hello_readable(daemon->now());
  }
  daemon->rearm_session_timer();
}

void Daemon::on_session_timer(AvahiTimeout*, void* self) {
  auto* daemon = static_cast<Daemon*>(self);
  if (!daemon->session_) return;
  daemon->session_->tick(daemon->now());
  daemon->rearm_session_timer();
}

void Daemon::on_load_timer(AvahiTimeout* timeout, void* self) {
  auto* daemon = static_cast<Daemon*>(self);
  daemon->sample_load();
  daemon->update_storage();
  daemon->update_migration_listener();
  daemon->recover_orphaned_migrations();
  daemon->recover_orphaned_target_attempts();
  struct timeval next;
  avahi_elapse_time(&next, static_cast<unsigned>(kLoadSampleIntervalMs), 0);
  daemon->poll_->timeout_update(timeout, &next);
}

void Daemon::sample_load() {
  jobs_->sample(now());
  std::string error;
  std::optional<ProcStats> stats = proc_stats_.read(error);
  if (!stats) return;  // keep the last figures; a transient /proc read error is not news
  // procs_running counts us, the sampler: leave ourselves out.
  load_.add_sample(stats->procs_running > 0 ? stats->procs_running - 1 : 0);
  cores_ = stats->online_cores;
  free_memory_mib_ = stats->mem_available_mib;
  if (session_) {
    session_->set_load(cores_, cpu_speed_, load_.exported_load_milli(), free_memory_mib_);
  }
}

void Daemon::update_migration_listener() {
  if (!session_ || !session_->mesh_up()) {
    migration_listener_.reset();
    return;
  }
  std::string address = session_->mesh_address_text(node_id_);
  if (migration_listener_ && migration_listener_->address() == address) return;
  migration_listener_.reset();
  std::string error;
  migration_listener_ = MigrationListener::start(
      poll_, address, kMigrationPort, [this](int fd) { hand_off_migration(fd); }, error);
  if (migration_listener_) {
    log::info("migration port [" + address + "]:" + std::to_string(kMigrationPort) + " open");
    migration_listener_error_.clear();
  } else if (error != migration_listener_error_) {
    log::warning(error + " (jobs cannot move to this node until it works)");
    migration_listener_error_ = error;
  }
}

void Daemon::recover_orphaned_migrations() {
  // The migrations dir is on this node's tmpfs: cheap to scan every second, no /cluster I/O.
  const std::string& dir = jobs_->migrations_dir();
  std::map<std::string, ProgressSummary> progress;
  if (DIR* entries = opendir(dir.c_str())) {
    while (dirent* entry = readdir(entries)) {
      std::string name = entry->d_name;
      if (!name.ends_with(".json")) continue;  // skips <job>.json.tmp and <job>.json.recover
      std::string job = name.substr(0, name.size() - 5);
      if (!is_job_id(job)) continue;
      ReadResult text = read_file_bounded(dir + "/" + name, 64 * 1024);
      if (text.status != ReadStatus::ok) continue;
      if (auto summary = parse_progress_summary(text.text)) progress[job] = *summary;
    }
    closedir(entries);
  }
  if (progress.empty()) return;
  // A worker is alive if its pid is a clusterlive-migrate process (a pid of a dead worker may
  // since name another program), or this daemon: migrate_job names the daemon in the file it
  // writes before the source worker starts and writes its own pid. A daemon restarted in that
  // moment takes a live worker for dead; the recovery looks for the job's source workers
  // itself and exits when it finds one.
  pid_t self = getpid();
  auto worker_alive = [self](pid_t pid) { return pid == self || is_migration_worker(pid); };
  for (const std::string& job : recoveries_.due(progress, worker_alive, now())) {
    pid_t init = jobs_->running_pid(job).value_or(0);
    std::string error;
    if (!spawn_detached({CLUSTERLIVE_MIGRATE_PATH, "recover", "--job", job, "--node", node_id_,
                         "--init", std::to_string(init), "--progress",
                         jobs_->migration_progress_path(job), "--jobs-root", options_.jobs_root},
                        -1, error)) {
      log::error("cannot recover the migration of " + job + ": " + error);
      continue;
    }
    log::warning("the migration worker of " + job + " died; recovering the migration");
  }
}

void Daemon::recover_orphaned_target_attempts() {
  // Beside the progress files, on this node's tmpfs: cheap to scan every second.
  const std::string& dir = jobs_->migrations_dir();
  std::map<std::string, ProgressSummary> claims;
  if (DIR* entries = opendir(dir.c_str())) {
    while (dirent* entry = readdir(entries)) {
      std::string name = entry->d_name;
      if (!name.ends_with(".claim")) continue;  // skips <job>.claim.tmp
      std::string job = name.substr(0, name.size() - 6);
      if (!is_job_id(job)) continue;
      ReadResult text = read_file_bounded(dir + "/" + name, 4096);
      if (text.status != ReadStatus::ok) continue;
      // An undecided attempt, as the scheduler sees one: its worker is the claim's.
      if (auto claim = parse_target_claim(text.text)) {
        claims[job] = ProgressSummary{std::string(api::kMigrationInProgress), claim->worker_pid};
      }
    }
    closedir(entries);
  }
  if (claims.empty()) return;
  for (const std::string& job : target_recoveries_.due(claims, is_migration_worker, now())) {
    std::string error;
    if (!spawn_detached({CLUSTERLIVE_MIGRATE_PATH, "target-recover", "--job", job, "--node",
                         node_id_, "--pid-dir", options_.runtime_dir + "/jobs", "--jobs-root",
                         options_.jobs_root, "--lock-dir", dir},
                        -1, error)) {
      log::error("cannot settle the migration of " + job + " to this node: " + error);
      continue;
    }
    log::warning("the target worker of " + job + " died; settling its attempt");
  }
}

void Daemon::hand_off_migration(int fd) {
  std::string error;
  if (!spawn_detached({CLUSTERLIVE_MIGRATE_PATH, "target", "--node", node_id_, "--pid-dir",
                       options_.runtime_dir + "/jobs", "--jobs-root", options_.jobs_root,
                       "--lock-dir", jobs_->migrations_dir()},
                      fd, error)) {
    log::error("cannot take a migration: " + error);
  }
}

void Daemon::update_storage() {
  if (!storage_) return;
  StorageWanted wanted;
  wanted.node_id = node_id_;
  StorageDecision decision;
  if (!session_) {
    decision.reason = "no cluster: running alone";
  } else if (!session_->mesh_up()) {
    decision.reason = "the mesh is down";
  } else {
    storage_->poll(now());
    bool serving = storage_->claims_serving();
    if (serving && storage_epoch_ == kNoStorageEpoch) {
      // Serving from before this daemon started (a restart): the epoch it served with is
      // gone with the old process. The highest one heard of is the best guess.
      storage_epoch_ = std::max<uint32_t>(1, session_->highest_storage_epoch_seen());
    }
    if (!serving) storage_epoch_ = kNoStorageEpoch;
    session_->set_storage_roles(storage_pinned_, serving, storage_epoch_);
    decision = session_->storage_decision(storage_pinned_, serving, storage_epoch_,
                                          uptime_ms() >= kStorageSettleMs);
    if (decision.serve_here && !serving) storage_epoch_ = decision.epoch_if_elected;
    wanted.serve = decision.serve_here;
    wanted.serve_address = session_->mesh_address_text(node_id_);
    wanted.serve_prefix = session_->mesh_prefix_text();
    if (decision.mount_from) wanted.mount_address = session_->mesh_address_text(*decision.mount_from);
    if (decision.keep_mount) wanted.mount_address = storage_->mounted_from();
  }
  if (decision.reason != storage_decision_.reason) log::info("storage: " + decision.reason);
  storage_decision_ = decision;
  storage_mount_address_ = wanted.mount_address;
  storage_->reconcile(wanted, now());
  for (const std::string& line : storage_->take_log_lines()) log::info(line);
  if (session_) {
    bool serving = storage_->claims_serving();
    session_->set_storage_roles(storage_pinned_, serving, serving ? storage_epoch_ : kNoStorageEpoch);
  }
}

std::string Daemon::storage_unavailable_reason() const {
  if (!storage_) return "";  // /cluster is provided another way (tests): JobManager checks it
  if (!storage_mount_address_.empty() && storage_->mounted_from() == storage_mount_address_) {
    return "";
  }
  std::string reason = "no storage node reachable: " + options_.shared_root + " is not mounted (" +
                       (storage_decision_.reason.empty() ? "starting" : storage_decision_.reason);
  if (!storage_->last_error().empty()) reason += "; " + storage_->last_error();
  return reason + ")";
}

api::NodeView Daemon::self_row() {
  api::NodeView row;
  row.name = node_id_;
  row.self = true;
  row.state = "up";
  row.addresses = lan_addresses(options_.mesh_interface);
  row.cores = cores_;
  row.cpu_speed = cpu_speed_;
  row.load = load_.exported_load_milli() / 1000.0;
  row.free_memory_mib = free_memory_mib_;
  row.state_for_ms = uptime_ms();
  return row;
}

int64_t Daemon::uptime_ms() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               started_)
      .count();
}

api::StatusView Daemon::status() {
  api::StatusView status;
  status.version = kVersion;
  status.node = node_id_;
  status.alone_reason = alone_reason_;
  status.criu = read_criu_check(options_.state_dir);
  status.uptime_ms = uptime_ms();
  status.mesh.interface = options_.mesh_interface;
  if (session_) session_->fill_status(status, now());
  api::StorageView& storage = status.storage;
  storage.mount_point = options_.shared_root;
  storage.pinned = storage_pinned_;
  storage.decision = storage_decision_.reason;
  if (storage_decision_.mount_from) storage.server = *storage_decision_.mount_from;
  if (storage_) {
    storage.serving = storage_->serving();
    storage.mounted = storage_unavailable_reason().empty();
    storage.homes_linked = storage.mounted && storage_->homes_linked();
    storage.busy_with = storage_->busy_with();
    storage.error = storage_->last_error();
  }
  return status;
}

api::JobResult Daemon::run_job(const api::Caller& caller, const api::RunRequest& request) {
  api::JobResult result;
  if (std::string reason = storage_unavailable_reason(); !reason.empty()) {
    result.error_code = "failed";
    result.error = reason + ": a job started here could never move, so it is not started";
  } else {
    result = jobs_->run(caller, request);
  }
  if (result.ok) {
    log::info("job " + result.job.id + " (" + result.job.name + ") started for " +
              result.job.owner);
  } else {
    log::warning("job for uid " + std::to_string(caller.uid) + " not started: " + result.error);
  }
  return result;
}

// The spool says which node runs a job; only membership knows whether that node is there.
void Daemon::mark_unreachable(api::JobView& job) {
  if (job.state != api::kJobRunning || job.where.empty() || job.where == node_id_) return;
  std::optional<MemberInfo> member = session_ ? session_->member(job.where) : std::nullopt;
  if (!member || member->state == MemberState::dead) job.state = api::kJobUnreachable;
}

api::JobList Daemon::jobs() {
  // The spool is on /cluster: without it an empty list would read "your jobs are gone".
  if (std::string reason = storage_unavailable_reason(); !reason.empty()) return {{}, reason};
  std::vector<api::JobView> jobs = jobs_->list();
  for (api::JobView& job : jobs) mark_unreachable(job);
  return {std::move(jobs), ""};
}

api::JobResult Daemon::job(const std::string& id) {
  if (std::string reason = storage_unavailable_reason(); !reason.empty()) {
    return api::JobResult{false, "failed", reason, {}};
  }
  api::JobResult result = jobs_->get(id);
  if (result.ok) mark_unreachable(result.job);
  return result;
}

api::JobResult Daemon::kill_job(const api::Caller& caller, const std::string& id) {
  if (std::string reason = storage_unavailable_reason(); !reason.empty()) {
    return api::JobResult{false, "failed", reason, {}};
  }
  // A job that runs on another live member is killed there: this node's daemon checks the
  // caller's rights, the other's migration port takes the request (from root of a member).
  api::JobResult current = jobs_->get(id);
  if (current.ok && !current.job.ended() && current.job.state != api::kJobMigrating &&
      current.job.where != node_id_ && (caller.uid == 0 || caller.uid == current.job.owner_uid)) {
    if (!member_is_up(current.job.where)) {
      return api::JobResult{false, "failed",
                            "job " + id + " runs on " + current.job.where + ", which is not up",
                            {}};
    }
    std::string error;
    if (!spawn_detached({CLUSTERLIVE_MIGRATE_PATH, "relay", "--address",
                         session_->mesh_address_text(current.job.where), "--port",
                         std::to_string(kMigrationPort), "--command", "kill", "--job", id},
                        -1, error)) {
      return api::JobResult{false, "failed", error, {}};
    }
    log::info("job " + id + ": kill relayed to " + current.job.where + " for uid " +
              std::to_string(caller.uid));
    return current;
  }
  api::JobResult result = jobs_->kill(caller, id);
  if (result.ok) log::info("job " + id + " killed at the request of uid " + std::to_string(caller.uid));
  return result;
}

// The lock is a file of the job's spool on the shared /cluster: any node can set it, with no
// relay to the node that runs the job, which reads it when asked to move the job.
api::JobResult Daemon::set_job_locked(const api::Caller& caller, const std::string& id,
                                      bool locked) {
  if (std::string reason = storage_unavailable_reason(); !reason.empty()) {
    return api::JobResult{false, "failed", reason, {}};
  }
  api::JobResult result = jobs_->set_locked(caller, id, locked);
  if (result.ok) {
    mark_unreachable(result.job);
    log::info("job " + id + (locked ? " locked" : " unlocked") + " at the request of uid " +
              std::to_string(caller.uid));
  }
  return result;
}

api::JobResult Daemon::migrate_job(const api::Caller& caller,
                                   const api::MigrateRequest& request) {
  auto refuse = [](const std::string& code, const std::string& why) {
    return api::JobResult{false, code, why, {}};
  };
  if (std::string reason = storage_unavailable_reason(); !reason.empty()) {
    return refuse("failed", reason);
  }
  api::JobResult current = jobs_->get(request.job);
  if (!current.ok) return current;
  const api::JobView& job = current.job;
  if (caller.uid != 0 && caller.uid != job.owner_uid) {
    return refuse("permission_denied", request.job + " is " + job.owner + "'s job");
  }
  if (job.ended()) return refuse("failed", request.job + " has ended (" + job.state + ")");
  if (job.state == api::kJobMigrating) {
    return refuse("failed", request.job + " is already being moved to " + job.migration->target);
  }
  if (job.locked) return refuse("failed", request.job + " is locked to " + job.where);
  std::string target = request.target == api::kMigrateToHome ? job.home : request.target;
  if (request.target == api::kMigrateToBest) {
    PlacementChoice best = choose_best_node(job, job.where, nodes());
    if (!best.target) return refuse("failed", best.reason);
    log::info("best node for " + request.job + ": " + best.reason);
    target = *best.target;
  }
  if (target == job.where) return refuse("failed", request.job + " already runs on " + target);
  if (!member_is_up(target)) return refuse("failed", target + " is not a live member of the cluster");

  // The attempt is chosen here, so the answer names it and whoever asked follows exactly this
  // migration (the job's spool may still show the previous one for a moment).
  std::string spool = options_.jobs_root + "/" + request.job;
  std::optional<CommitRecord> location = read_location(spool);
  std::optional<uint64_t> next =
      location ? next_attempt(*location, directory_entries(spool)) : std::nullopt;
  if (!next) return refuse("failed", "cannot read the commit record of " + request.job);
  if (request.attempt != 0 && request.attempt < *next) {
    return refuse("failed", "attempt " + std::to_string(request.attempt) + " of " + request.job +
                                " is stale: another migration of it came first");
  }
  uint64_t attempt = request.attempt != 0 ? request.attempt : *next;
  nlohmann::json progress = {{"target", target},     {"attempt", attempt},
                             {"phase", "starting"},  {"round", 0},
                             {"bytes_sent", 0},      {"rate_bytes_per_s", 0},
                             {"outcome", api::kMigrationInProgress}, {"reason", ""},
                             {"updated_unix_ms", wall_clock_ms()}, {"worker_pid", getpid()}};
  std::string error;
  if (job.where != node_id_) return relay_migration(caller, job, target, attempt, progress);

  std::optional<pid_t> init = jobs_->running_pid(request.job);
  if (!init) return refuse("failed", "cannot find the processes of " + request.job + " here");
  // The progress file exists before the worker does, so the answer and the CLI's first
  // poll already show the migration.
  std::string progress_path = jobs_->migration_progress_path(request.job);
  if (!write_file_atomically(progress_path, progress.dump() + "\n", {0644, true, 0755}, error)) {
    return refuse("failed", error);
  }
  if (!spawn_detached({CLUSTERLIVE_MIGRATE_PATH, "source", "--job", request.job, "--node",
                       node_id_, "--target", target, "--address",
                       session_->mesh_address_text(target), "--port",
                       std::to_string(kMigrationPort), "--init", std::to_string(*init),
                       "--attempt", std::to_string(attempt), "--progress", progress_path,
                       "--jobs-root", options_.jobs_root},
                      -1, error)) {
    unlink(progress_path.c_str());
    return refuse("failed", error);
  }
  log::info("moving " + request.job + " to " + target + " (attempt " + std::to_string(attempt) +
            ") at the request of uid " + std::to_string(caller.uid));
  return jobs_->get(request.job);
}

// A job that runs on another node is moved by that node: its migration port takes the
// request (from root of a member) after the rights were checked here. The answer shows the
// migration as starting; the job's spool shows its progress from then on, on every node.
api::JobResult Daemon::relay_migration(const api::Caller& caller, const api::JobView& job,
                                       const std::string& target, uint64_t attempt,
                                       const nlohmann::json& progress) {
  if (!member_is_up(job.where)) {
    return api::JobResult{false, "failed", job.id + " runs on " + job.where + ", which is not up",
                          {}};
  }
  std::string error;
  if (!spawn_detached({CLUSTERLIVE_MIGRATE_PATH, "relay", "--address",
                       session_->mesh_address_text(job.where), "--port",
                       std::to_string(kMigrationPort), "--command", "migrate", "--job", job.id,
                       "--target", target, "--attempt", std::to_string(attempt), "--jobs-root",
                       options_.jobs_root},
                      -1, error)) {
    return api::JobResult{false, "failed", error, {}};
  }
  log::info("moving " + job.id + " to " + target + " (attempt " + std::to_string(attempt) +
            "): asked of " + job.where + " for uid " + std::to_string(caller.uid));
  api::JobResult answer{true, "", "", job};
  api::MigrationView view;
  view.target = target;
  view.attempt = attempt;
  view.phase = "starting";
  view.outcome = api::kMigrationInProgress;
  view.reason = "asked of " + job.where;
  view.updated_unix_ms = progress.value("updated_unix_ms", int64_t{0});
  answer.job.migration = view;
  answer.job.state = api::kJobMigrating;
  return answer;
}

bool Daemon::member_is_up(const std::string& node) const {
  if (node == node_id_) return session_ != nullptr;  // this node: never in its own table
  std::optional<MemberInfo> member = session_ ? session_->member(node) : std::nullopt;
  return member && member->state == MemberState::up;
}

std::vector<api::NodeView> Daemon::nodes() {
  if (!session_) return {self_row()};
  return session_->node_views(now(), self_row());
}

std::optional<std::string> Daemon::secret_hex() {
  if (!secret_) return std::nullopt;
  return secret_->to_hex();
}

api::ClusterChange Daemon::switch_to(const ClusterSecret& secret, const std::string& how) {
  api::ClusterChange change;
  std::string error;
  const std::string path = path_under_root(options_.root_dir, kJoinedKeyPath);
  if (!write_key_file_atomically(path, secret.to_hex() + "\n", error)) {
    change.error = "could not store the secret, nothing changed: " + error;
    return change;
  }
  if (secret_source_ == "kernel command line" || secret_source_ == "boot medium") {
    log::warning("the " + secret_source_ + " holds another secret: it wins again at next boot");
  }
  start_session(secret, std::string(to_string(SecretSource::joined)));
  log::info(how + ": now in cluster " + session_->cluster_id());
  change.ok = true;
  change.cluster_id = session_->cluster_id();
  return change;
}

api::ClusterChange Daemon::create_cluster() {
  ClusterSecret::Bytes bytes{};
  // libsodium's CSPRNG, through the same parser every other source goes through.
  ensure_crypto_initialized();
  randombytes_buf(bytes.data(), bytes.size());
  return switch_to(ClusterSecret(bytes), "created a new cluster");
}

api::ClusterChange Daemon::join_cluster(const std::string& secret_text) {
  SecretParseResult parsed = ClusterSecret::parse(secret_text);
  if (!parsed.secret) {
    api::ClusterChange change;
    change.error = "not a cluster secret: " + parsed.error;
    return change;
  }
  return switch_to(*parsed.secret, "joined");
}

}  // namespace clusterlive
