#include "migrate/migration_target.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <deque>
#include <iostream>
#include <thread>

#include "core/decimal.h"
#include "core/job_spool.h"
#include "core/migration.h"
#include "core/proc_parsers.h"
#include "api/api_client.h"
#include "criu/criu_commands.h"
#include "jobs/job_shim.h"
#include "migrate/commit_records.h"
#include "migrate/criu_process.h"
#include "migrate/job_inspection.h"
#include "migrate/peer_link.h"
#include "migrate/relay.h"
#include "migrate/target_claim.h"
#include "sys/file_io.h"

namespace clusterlive {
namespace {

constexpr TimeMs kHelloTimeoutMs = 30'000;
constexpr TimeMs kPageServerStartMs = 30'000;

// A CRIU image file name the source may send: plain, no path, no "parent" link.
bool is_image_file_name(const std::string& name) {
  if (name.empty() || name.size() > 128 || name == "." || name == ".." || name == "parent") {
    return false;
  }
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '_') {
      return false;
    }
  }
  return true;
}

std::string address_text(const sockaddr_storage& address) {
  char text[INET6_ADDRSTRLEN] = {};
  if (address.ss_family == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6&>(address).sin6_addr, text,
              sizeof text);
  } else {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in&>(address).sin_addr, text,
              sizeof text);
  }
  return text;
}

uint16_t port_of(const sockaddr_storage& address) {
  if (address.ss_family == AF_INET6) {
    return ntohs(reinterpret_cast<const sockaddr_in6&>(address).sin6_port);
  }
  return ntohs(reinterpret_cast<const sockaddr_in&>(address).sin_port);
}

// A free TCP port on `address` for a page server (bound and released: CRIU binds it again).
std::optional<uint16_t> free_port(const sockaddr_storage& local) {
  int fd = socket(local.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::nullopt;
  sockaddr_storage bind_to = local;
  if (bind_to.ss_family == AF_INET6) reinterpret_cast<sockaddr_in6&>(bind_to).sin6_port = 0;
  else reinterpret_cast<sockaddr_in&>(bind_to).sin_port = 0;
  socklen_t size = bind_to.ss_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
  std::optional<uint16_t> port;
  if (bind(fd, reinterpret_cast<sockaddr*>(&bind_to), size) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&bind_to), &size) == 0) {
    port = port_of(bind_to);
  }
  close(fd);
  return port;
}

class Target {
 public:
  explicit Target(const TargetOptions& options) : options_(options), link_(options.connection_fd) {}

  int run();

 private:
  bool accept_hello();
  void serve_messages();
  void handle(const nlohmann::json& message);
  void store_set(const nlohmann::json& message);
  void receive_file(const nlohmann::json& message);
  void execute(std::deque<ParticipantAction> actions);
  void restore(std::deque<ParticipantAction>& follow_up);
  bool owner_matches(pid_t init, std::string& error);
  void discard_local_copy();
  /// Writes (or, decided, removes) this attempt's claim beside its lock (target_claim.h).
  void write_claim();
  void remove_claim();
  void reply(const nlohmann::json& message);
  void log(const std::string& text) const {
    std::cerr << "clusterlive-migrate: " << job_.job_id << " attempt " << job_.attempt
              << " (target): " << text << std::endl;
  }
  std::string attempt_dir() const {
    return options_.work_root + "/" + job_.job_id + "/" + std::to_string(job_.attempt);
  }
  std::string claim_path() const { return target_claim_path(options_.lock_dir, job_.job_id); }

  const TargetOptions& options_;
  PeerLink link_;
  sockaddr_storage local_{};
  MigrationJob job_;
  std::string spool_;
  int spool_fd_ = -1;
  int lock_fd_ = -1;
  uint32_t owner_uid_ = 0;
  std::optional<MigrationParticipant> participant_;
  pid_t job_pid_ = 0;            // the restored init, once restored
  TargetClaim claim_;             // what a recovery needs should this process die undecided
  bool finished_ = false;
  MigrationOutcome outcome_ = MigrationOutcome::in_progress;
  bool restore_answer_due_ = false;  // the coordinator waits for {"restored": ...}
};

bool Target::accept_hello() {
  sockaddr_storage peer{};
  socklen_t size = sizeof peer;
  socklen_t local_size = sizeof local_;
  if (getpeername(link_.fd(), reinterpret_cast<sockaddr*>(&peer), &size) != 0 ||
      getsockname(link_.fd(), reinterpret_cast<sockaddr*>(&local_), &local_size) != 0) {
    std::cerr << "clusterlive-migrate: no connection on fd " << options_.connection_fd << "\n";
    return false;
  }
  if ((peer.ss_family != AF_INET && peer.ss_family != AF_INET6) || port_of(peer) >= 1024) {
    std::cerr << "clusterlive-migrate: refusing " << address_text(peer)
              << ": not from a privileged port\n";
    return false;
  }
  std::string error;
  auto hello = link_.receive(monotonic_ms() + kHelloTimeoutMs, error);
  auto refuse = [&](const std::string& why) {
    std::cerr << "clusterlive-migrate: refusing a migration from " << address_text(peer) << ": "
              << why << "\n";
    link_.send({{"ok", false}, {"error", options_.node + " refuses: " + why}}, error);
    return false;
  };
  if (!hello) return refuse(error);
  if (hello->contains("relay")) {
    // Not a migration: a request another node's daemon passes on (migrate/relay.h).
    link_.send(serve_relay(hello->at("relay"), options_.api_socket), error);
    return false;
  }
  std::vector<std::string> paths;
  std::vector<std::string> features;
  try {
    const nlohmann::json& h = hello->at("hello");
    job_.job_id = h.at("job").get<std::string>();
    job_.attempt = h.at("attempt").get<uint64_t>();
    job_.source_node = h.at("source").get<std::string>();
    paths = h.at("paths").get<std::vector<std::string>>();
    features = h.at("criu_features").get<std::vector<std::string>>();
  } catch (const nlohmann::json::exception&) {
    return refuse("malformed hello");
  }
  job_.target_node = options_.node;
  if (!is_job_id(job_.job_id)) return refuse("not a job id");
  spool_ = options_.jobs_root + "/" + job_.job_id;
  spool_fd_ = open_spool(spool_);
  if (spool_fd_ < 0) return refuse("the job's spool " + spool_ + " is unusable");
  // Only root of a member can write the prepared record: it is what vouches for the request,
  // and it must name this node and this attempt.
  auto prepared = read_prepared_record(spool_, job_.attempt);
  if (!prepared || prepared->node != options_.node || prepared->attempt != job_.attempt) {
    return refuse("no prepared record of attempt " + std::to_string(job_.attempt) +
                  " names this node");
  }
  ReadResult meta = read_file_bounded(spool_ + "/job.json", 1024 * 1024);
  try {
    owner_uid_ = nlohmann::json::parse(meta.text).at("owner_uid").get<uint32_t>();
  } catch (const nlohmann::json::exception&) {
    return refuse("cannot read the job's owner from job.json");
  }
  // One undecided attempt per job here (refuse_participant's rule, across processes).
  mkdir(options_.lock_dir.c_str(), 0700);
  std::string lock_path = options_.lock_dir + "/" + job_.job_id + ".lock";
  lock_fd_ = open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (lock_fd_ < 0 || flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    return refuse("another migration of " + job_.job_id + " is still undecided here");
  }
  // A claim nobody holds: a worker died with an attempt undecided, perhaps with a stopped
  // copy here, and its recovery has not run yet (the daemon starts one within seconds).
  if (access(claim_path().c_str(), F_OK) == 0) {
    return refuse("an earlier migration of " + job_.job_id + " is still being settled here");
  }
  mkdir(options_.work_root.c_str(), 0700);
  mkdir((options_.work_root + "/" + job_.job_id).c_str(), 0700);
  remove_tree(attempt_dir());
  if (mkdir(attempt_dir().c_str(), 0700) != 0) {
    return refuse("cannot make " + attempt_dir() + ": " + errno_text(errno));
  }
  claim_ = TargetClaim{job_.attempt, job_.source_node, getpid(), 0, 0};
  write_claim();
  NodeFacts facts = gather_node_facts(options_.node, paths, features);
  participant_.emplace(job_, monotonic_ms());
  log("accepted from " + job_.source_node);
  return link_.send({{"ok", true}, {"facts", node_facts_to_json(facts)}}, error);
}

void Target::write_claim() {
  std::string error;
  if (!write_file_atomically(claim_path(), format_target_claim(claim_), {0600, true, 0700},
                             error)) {
    // Only a recovery after this process's death needs it; the migration goes on.
    log("cannot record the claim (a copy here would outlive this worker's death): " + error);
  }
}

void Target::remove_claim() { unlink(claim_path().c_str()); }

void Target::reply(const nlohmann::json& message) {
  std::string error;
  if (!link_.closed() && !link_.send(message, error)) log(error);
}

void Target::store_set(const nlohmann::json& message) {
  criu::ImageSet set;
  uint64_t expected_pages = 0;
  try {
    expected_pages = message.value("expected_pages", uint64_t{0});
    std::string name = message.at("set").get<std::string>();
    uint32_t parent = message.at("parent").get<uint32_t>();
    if (name == "final") {
      set = criu::ImageSet::final_after(parent);
    } else {
      auto round = parse_decimal<uint32_t>(name, true);
      if (!round || *round == 0 || parent != *round - 1) throw std::invalid_argument("set");
      set = criu::ImageSet::precopy(*round);
    }
  } catch (const std::exception&) {
    reply({{"stored", false}, {"error", "malformed set request"}});
    return;
  }
  std::string dir = criu::images_dir(attempt_dir(), set);
  mkdir(dir.c_str(), 0700);
  int status_pipe[2];
  std::optional<uint16_t> port = free_port(local_);
  if (!port || pipe2(status_pipe, O_CLOEXEC) != 0) {
    reply({{"ready", false}, {"error", "no port for a page server"}});
    return;
  }
  std::string address = address_text(local_);
  criu::PageServerRequest request{attempt_dir(), set, address, *port, status_pipe[1]};
  std::string error;
  pid_t server_pid = 0;
  if (auto started = start_process(criu::page_server_command(request), status_pipe[1], error)) {
    server_pid = *started;
  }
  close(status_pipe[1]);
  char ready = 1;
  if (server_pid > 0) {
    pollfd watch{status_pipe[0], POLLIN, 0};
    if (poll(&watch, 1, static_cast<int>(kPageServerStartMs)) != 1 ||
        read(status_pipe[0], &ready, 1) != 1 || ready != 0) {
      error = "the page server did not start: " +
              criu_log_error(criu::log_path(attempt_dir(), "page-server", set));
      kill_process(server_pid);
      server_pid = 0;
    }
  }
  close(status_pipe[0]);
  if (server_pid == 0) {
    reply({{"ready", false}, {"error", options_.node + ": " + error}});
    return;
  }
  reply({{"ready", true}, {"port", *port}});
  // The page server takes one dump and exits. Pages arriving count as hearing from the
  // coordinator, so the idle deadline does not run meanwhile.
  // A source that dies closes the connection and the server exits; this deadline is for one
  // that hangs. It grows with the job's size, as the source's own deadline does.
  TimeMs deadline =
      monotonic_ms() + transfer_timeout_ms(expected_pages) + kParticipantIdleTimeoutMs;
  std::optional<int> status;
  while (!(status = wait_process(server_pid, std::min(deadline, monotonic_ms() + 1000)))) {
    participant_->on_heard_from_coordinator(monotonic_ms());
    if (monotonic_ms() >= deadline) break;
  }
  if (!status) {
    kill_process(server_pid);
    reply({{"stored", false}, {"error", options_.node + ": the page server timed out"}});
    return;
  }
  participant_->on_heard_from_coordinator(monotonic_ms());
  if (!WIFEXITED(*status) || WEXITSTATUS(*status) != 0) {
    reply({{"stored", false},
           {"error", options_.node + ": page server " + describe_status(*status) + ": " +
                         criu_log_error(criu::log_path(attempt_dir(), "page-server", set))}});
    return;
  }
  reply({{"stored", true}});
}

void Target::receive_file(const nlohmann::json& message) {
  std::string name;
  uint64_t bytes = 0;
  try {
    name = message.at("file").get<std::string>();
    bytes = message.at("bytes").get<uint64_t>();
  } catch (const nlohmann::json::exception&) {
    link_.close_link();  // the bytes after a malformed header cannot be framed
    return;
  }
  std::string error;
  if (!is_image_file_name(name)) {
    log("refusing an image file named \"" + name + "\"");
    link_.close_link();
    return;
  }
  std::string dir = criu::images_dir(attempt_dir(), criu::ImageSet::final_after(0));
  mkdir(dir.c_str(), 0700);
  if (!link_.receive_file_body(bytes, dir + "/" + name, monotonic_ms() + kTransferTimeoutBaseMs,
                               error)) {
    log("image file " + name + ": " + error);
  }
}

bool Target::owner_matches(pid_t init, std::string& error) {
  if (owner_uid_ == 0) return true;  // root's job: root may be restored
  for (pid_t pid : processes_of_job(init)) {
    if (pid == init) continue;  // the job's own init runs as root (job_shim.cc)
    ReadResult text = read_file_bounded("/proc/" + std::to_string(pid) + "/status", 64 * 1024);
    if (text.status != ReadStatus::ok) continue;  // not there any more
    std::optional<ProcessStatus> status = parse_process_status(text.text);
    if (!status) {
      error = "cannot read the credentials of the restored process " + std::to_string(pid);
      return false;
    }
    // A zombie runs nothing more; CRIU re-creates it as root (a job caught between a child's
    // exit and its reaping, as a shell loop often is).
    if (status->zombie()) continue;
    for (uint32_t uid : status->uids) {
      if (uid != owner_uid_) {
        error = "the restored process " + std::to_string(pid) + " has uid " + std::to_string(uid) +
                ", the job's owner is uid " + std::to_string(owner_uid_);
        return false;
      }
    }
  }
  return true;
}

void Target::restore(std::deque<ParticipantAction>& follow_up) {
  std::string pidfile = attempt_dir() + "/restored.pid";
  unlink(pidfile.c_str());
  std::string error;
  std::optional<pid_t> criu = start_process(
      criu::restore_command({attempt_dir(), pidfile}), -1, error);
  std::vector<ParticipantAction> next;
  if (!criu) {
    next = participant_->on_restore_failed(error, monotonic_ms());
  } else {
    TimeMs deadline = monotonic_ms() + kParticipantRestoreTimeoutMs;
    std::optional<int> status;
    for (;;) {
      status = wait_process(*criu, std::min(deadline, monotonic_ms() + kRestoreHeartbeatMs));
      if (status || monotonic_ms() >= deadline) break;
      // Still restoring: the coordinator tells a slow restore from a lost link by this.
      if (restore_answer_due_) reply({{"restoring", true}});
    }
    if (!status) {
      kill_process(*criu);
      status = -1;
    }
    std::string log_path = criu::log_path(attempt_dir(), "restore", criu::ImageSet::final_after(0));
    ReadResult pid_text = read_file_bounded(pidfile, 64);
    std::optional<pid_t> pid;
    if (pid_text.status == ReadStatus::ok) {
      std::string text = pid_text.text;
      while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
      pid = parse_decimal<pid_t>(text, true);
    }
    if (*status != 0 || !WIFEXITED(*status) || WEXITSTATUS(*status) != 0 || !pid) {
      error = "restore failed on " + options_.node + " (" +
              (*status == -1 ? std::string("timed out") : describe_status(*status)) +
              "): " + criu_log_error(log_path);
      if (pid) {
        kill(*pid, SIGKILL);
        job_pid_ = *pid;
      }
      next = participant_->on_restore_failed(error, monotonic_ms());
    } else {
      job_pid_ = *pid;
      if (!owner_matches(job_pid_, error)) {
        next = participant_->on_restore_failed(error, monotonic_ms());
      } else {
        log("restored as pid " + std::to_string(job_pid_) + ", stopped");
        // Vouched for before the coordinator hears of it: from then on it may commit, and a
        // recovery must be able to find this copy.
        claim_.restored_pid = job_pid_;
        claim_.restored_start = start_time_of(job_pid_);
        write_claim();
        next = participant_->on_restore_done(monotonic_ms());
        error.clear();
      }
    }
  }
  if (restore_answer_due_) {
    restore_answer_due_ = false;
    if (error.empty()) reply({{"restored", true}});
    else reply({{"restored", false}, {"error", error}});
  }
  for (auto& action : next) follow_up.push_back(action);
}

void Target::discard_local_copy() {
  if (job_pid_ > 0) {
    kill(job_pid_, SIGKILL);  // the init: the kernel kills its whole PID namespace
    while (waitpid(job_pid_, nullptr, 0) < 0 && errno == EINTR) {
    }
    job_pid_ = 0;
  }
  remove_tree(attempt_dir(), ".log");
}

void Target::execute(std::deque<ParticipantAction> actions) {
  while (!actions.empty()) {
    ParticipantAction action = actions.front();
    actions.pop_front();
    std::string error;
    std::vector<ParticipantAction> next;
    switch (action.kind) {
      case ParticipantActionKind::start_restore:
        restore(actions);
        break;
      case ParticipantActionKind::resume_local_copy: {
        std::string pid_file = options_.pid_dir + "/" + job_.job_id + ".pid";
        if (!write_file_atomically(pid_file, pid_line(job_pid_), {0644, true, 0755}, error)) {
          log(error);  // the job runs, but kill and ps cannot find it here
        }
        signal_job(job_pid_, SIGCONT);
        log("resumed: the job runs here");
        break;
      }
      case ParticipantActionKind::discard_local_copy:
        discard_local_copy();
        break;
      case ParticipantActionKind::fence_prepared_record: {
        RenameResult result = rename_record(
            spool_, prepared_record_name(job_.attempt),
            fenced_record_name(job_.attempt, options_.node), error);
        log("fenced the prepared record: " + std::string(to_string(result)));
        next = participant_->on_fence_result(result, monotonic_ms());
        break;
      }
      case ParticipantActionKind::read_commit_record:
        next = participant_->on_commit_record_read(read_location(spool_), monotonic_ms());
        break;
      case ParticipantActionKind::finished:
        finished_ = true;
        outcome_ = action.outcome;
        log("finished: " + std::string(to_string(action.outcome)) +
            (action.reason.empty() ? "" : " (" + action.reason + ")"));
        break;
    }
    for (auto& follow : next) actions.push_back(follow);
  }
}

void Target::handle(const nlohmann::json& message) {
  participant_->on_heard_from_coordinator(monotonic_ms());
  if (message.contains("set")) {
    store_set(message);
  } else if (message.contains("file")) {
    receive_file(message);
  } else if (message.contains("restore")) {
    restore_answer_due_ = true;
    std::vector<ParticipantAction> actions = participant_->on_restore_request(monotonic_ms());
    if (actions.empty()) {
      restore_answer_due_ = false;
      reply({{"restored", false}, {"error", options_.node + " has decided this attempt already"}});
    }
    execute({actions.begin(), actions.end()});
  } else if (message.contains("resume")) {
    auto actions = participant_->on_resume_request(monotonic_ms());
    execute({actions.begin(), actions.end()});
    reply({{"resumed", participant_->phase() == ParticipantPhase::resumed}});
  } else if (message.contains("discard")) {
    auto actions = participant_->on_discard_request(monotonic_ms());
    execute({actions.begin(), actions.end()});
    reply({{"discarded", participant_->phase() == ParticipantPhase::discarded}});
  } else {
    log("ignoring an unknown message");
  }
}

void Target::serve_messages() {
  while (!finished_) {
    TimeMs deadline = participant_->next_deadline().value_or(monotonic_ms() + 1000);
    if (link_.closed()) {
      // The coordinator is gone: wait for the participant's deadline, then decide alone.
      TimeMs wait = deadline - monotonic_ms();
      if (wait > 0) std::this_thread::sleep_for(std::chrono::milliseconds(std::min<TimeMs>(wait, 1000)));
    } else {
      std::string error;
      auto message = link_.receive(deadline, error);
      if (message) {
        handle(*message);
        continue;
      }
      if (!link_.timed_out()) log("link to the coordinator lost: " + error);
    }
    if (participant_->next_deadline() && monotonic_ms() >= *participant_->next_deadline()) {
      auto actions = participant_->tick(monotonic_ms());
      execute({actions.begin(), actions.end()});
    }
  }
}

int Target::run() {
  if (!accept_hello()) {
    if (claim_.worker_pid != 0) remove_claim();  // ours, written just before the reply failed
    return 1;
  }
  serve_messages();
  link_.close_link();
  if (outcome_ != MigrationOutcome::committed || job_pid_ <= 0) {
    discard_local_copy();
    remove_claim();
    return outcome_ == MigrationOutcome::aborted ? 0 : 1;
  }
  // The job is ours now: the images go (the logs stay until the job's spool goes), the lock
  // is released (decided), and this process stays as the job's shim.
  remove_tree(attempt_dir(), ".log");
  remove_claim();
  close(lock_fd_);
  ShimOptions shim;
  shim.spool = spool_;
  shim.pid_file = options_.pid_dir + "/" + job_.job_id + ".pid";
  shim.node = options_.node;
  shim.attempt = job_.attempt;
  return supervise_job(job_pid_, spool_fd_, shim);
}

}  // namespace

int run_migration_target(const TargetOptions& options) {
  // Stopping the daemon must not end a migration or the job it brings.
  std::signal(SIGTERM, SIG_IGN);
  std::signal(SIGINT, SIG_IGN);
  std::signal(SIGHUP, SIG_IGN);
  std::signal(SIGPIPE, SIG_IGN);
  // The restored init is orphaned when `criu restore -d` exits: it must come to us.
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  Target target(options);
  return target.run();
}

}  // namespace clusterlive
