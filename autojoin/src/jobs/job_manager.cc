#include "jobs/job_manager.h"

#include <dirent.h>
#include <fcntl.h>
#include <pwd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <deque>
#include <nlohmann/json.hpp>
#include <set>

#include "core/decimal.h"
#include "core/job_spool.h"
#include "core/migration.h"
#include "core/proc_parsers.h"
#include "jobs/job_shim.h"
#include "sys/file_io.h"
#include "sys/wall_clock.h"

namespace clusterlive {
namespace {

// A job with no pid here yet is taken for starting (or arriving by a migration) this long
// after it was started (or its migration was last heard of), in ms; then for lost.
constexpr int64_t kArrivalGraceMs = 10'000;

}  // namespace

namespace {

constexpr size_t kMaxJobFileBytes = 256 * 1024;  // job.json: argv is capped by the API
constexpr size_t kMaxSmallFileBytes = 4096;      // end, location, pid files
constexpr size_t kMaxMovesFileBytes = 1024 * 1024;  // a line per move: ~15000 moves
constexpr int kMaxIdAttempts = 8;                // fresh ids to try when one is taken
constexpr size_t kMaxJobProcesses = 4096;        // processes counted per job

api::JobResult failure(const std::string& code, const std::string& message) {
  api::JobResult result;
  result.error_code = code;
  result.error = message;
  return result;
}

std::string user_name(uid_t uid) {
  struct passwd* entry = getpwuid(uid);
  return entry ? entry->pw_name : std::to_string(uid);
}

std::optional<std::string> read_small(const std::string& path) {
  ReadResult read = read_file_bounded(path, kMaxSmallFileBytes);
  if (read.status != ReadStatus::ok) return std::nullopt;
  return read.text;
}

// Creates `path` empty and owned by the job's user, so the user can read the job's output
// and the shim (root) appends to it.
bool create_output_file(const std::string& path, uid_t uid, gid_t gid, std::string& error) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0 || fchown(fd, uid, gid) != 0) {
    error = path + ": " + errno_text(errno);
    if (fd >= 0) close(fd);
    return false;
  }
  close(fd);
  return true;
}

// The pids of `root` and all its descendants (through /proc/PID/task/TID/children).
std::vector<pid_t> process_tree(pid_t root) {
  std::vector<pid_t> tree;
  std::deque<pid_t> pending{root};
  std::set<pid_t> seen;
  while (!pending.empty() && tree.size() < kMaxJobProcesses) {
    pid_t pid = pending.front();
    pending.pop_front();
    if (!seen.insert(pid).second) continue;
    tree.push_back(pid);
    std::string task_dir = "/proc/" + std::to_string(pid) + "/task";
    DIR* dir = opendir(task_dir.c_str());
    if (!dir) continue;
    while (struct dirent* entry = readdir(dir)) {
      if (entry->d_name[0] == '.') continue;
      ReadResult children =
          read_file_bounded(task_dir + "/" + entry->d_name + "/children", kMaxJobFileBytes);
      std::string_view rest = children.text;
      while (!rest.empty()) {
        size_t space = rest.find(' ');
        if (auto child = parse_decimal<pid_t>(rest.substr(0, space))) pending.push_back(*child);
        rest = space == std::string_view::npos ? "" : rest.substr(space + 1);
      }
    }
    closedir(dir);
  }
  return tree;
}

ProcessStat tree_stat(pid_t root) {
  ProcessStat total;
  for (pid_t pid : process_tree(root)) {
    ReadResult read = read_file_bounded("/proc/" + std::to_string(pid) + "/stat", kMaxSmallFileBytes);
    if (auto stat = parse_process_stat(read.text)) {
      total.cpu_ticks += stat->cpu_ticks;
      total.rss_pages += stat->rss_pages;
    }
  }
  return total;
}

// Empty when root may safely work in `path` (the spool of every job): a real directory, not
// a symlink, owned by root and writable by nobody else; and its parent either the same or
// sticky (so no user can rename it away and put their own in its place). Else why not.
std::string unsafe_spool_root(const std::string& path) {
  struct stat here {}, parent {};
  if (lstat(path.c_str(), &here) != 0) return path + ": " + errno_text(errno);
  if (!S_ISDIR(here.st_mode) || here.st_uid != 0 || (here.st_mode & (S_IWGRP | S_IWOTH))) {
    return path + " must be a directory owned and writable by root only";
  }
  std::string up = path.substr(0, path.rfind('/'));
  if (up.empty()) up = "/";
  if (lstat(up.c_str(), &parent) != 0) return up + ": " + errno_text(errno);
  bool others_write = (parent.st_mode & (S_IWGRP | S_IWOTH)) != 0;
  if (!S_ISDIR(parent.st_mode) || parent.st_uid != 0 || (others_write && !(parent.st_mode & S_ISVTX))) {
    return up + " must be owned by root and, if others may write to it, sticky";
  }
  return "";
}

// A job name fit for tables and journal lines: control characters become '?'.
std::string printable(std::string text) {
  for (char& c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  return text;
}

// Removes what run() wrote of a job that did not start, so it never shows up in ps.
void remove_spool(const std::string& spool) {
  for (const char* name : {"job.json", "location", "stdout", "stderr"}) {
    unlink((spool + "/" + name).c_str());
  }
  rmdir(spool.c_str());
}

// True when `path` is a directory with another file system mounted on it.
bool is_mount_point(const std::string& path) {
  struct stat here {}, parent {};
  if (stat(path.c_str(), &here) != 0 || !S_ISDIR(here.st_mode)) return false;
  if (stat((path + "/..").c_str(), &parent) != 0) return false;
  return here.st_dev != parent.st_dev || here.st_ino == parent.st_ino;
}

}  // namespace

JobManager::JobManager(JobManagerOptions options, RandomSource& random)
    : options_(std::move(options)), random_(random) {}

api::JobResult JobManager::run(const api::Caller& caller, const api::RunRequest& request) {
  if (request.argv.empty()) return failure("failed", "no command to run");
  if (!options_.shared_root.empty() && !is_mount_point(options_.shared_root)) {
    return failure("failed", "no shared " + options_.shared_root +
                                 " on this node (no storage node reachable): a job started "
                                 "here could never move, so it is not started");
  }
  if (mkdir(options_.jobs_root.c_str(), 0755) != 0 && errno != EEXIST) {
    return failure("failed", options_.jobs_root + ": " + errno_text(errno));
  }
  if (std::string unsafe = unsafe_spool_root(options_.jobs_root); !unsafe.empty()) {
    return failure("failed", "the job spool is not safe: " + unsafe);
  }
  struct passwd* user = getpwuid(caller.uid);
  gid_t gid = user ? user->pw_gid : caller.gid;

  api::JobView job;
  for (int attempt = 0; attempt < kMaxIdAttempts && job.id.empty(); ++attempt) {
    std::string id = make_job_id(random_);
    if (mkdir((options_.jobs_root + "/" + id).c_str(), 0755) == 0) job.id = id;
    else if (errno != EEXIST) return failure("failed", options_.jobs_root + ": " + errno_text(errno));
  }
  if (job.id.empty()) return failure("failed", "no free job id (the spool is crowded)");
  job.spool = options_.jobs_root + "/" + job.id;
  std::string base = request.argv[0].substr(request.argv[0].rfind('/') + 1);
  job.name = printable(request.name.empty() ? base : request.name);
  job.owner_uid = caller.uid;
  job.owner = user_name(caller.uid);
  job.home = options_.node_id;
  job.argv = request.argv;
  job.started_unix_ms = unix_time_ms();

  nlohmann::json meta = {{"id", job.id},       {"name", job.name},
                         {"owner_uid", job.owner_uid}, {"owner", job.owner},
                         {"home", job.home},   {"argv", job.argv},
                         {"cwd", request.cwd}, {"started_unix_ms", job.started_unix_ms}};
  std::string env;
  for (const auto& [key, value] : request.env) env += key + "=" + value + '\0';
  // job.json last: a spool without it is not a job, so a failure half way shows nowhere.
  std::string error;
  if (!create_output_file(job.spool + "/stdout", caller.uid, gid, error) ||
      !create_output_file(job.spool + "/stderr", caller.uid, gid, error) ||
      !write_file_atomically(job.spool + "/location", format_commit_record({options_.node_id, 0}),
                             {0644, false, 0755}, error) ||
      !write_file_atomically(job.spool + "/job.json", meta.dump() + "\n", {0644, false, 0755},
                             error)) {
    remove_spool(job.spool);
    return failure("failed", "cannot write the job's spool: " + error);
  }
  api::JobResult result = start_shim(job, gid, request.cwd, env);
  if (!result.ok) remove_spool(job.spool);
  return result;
}

api::JobResult JobManager::start_shim(const api::JobView& job, gid_t gid, const std::string& cwd,
                                      const std::string& env) {
  std::vector<std::string> args = {options_.shim_path,
                                   "--spool", job.spool,
                                   "--pid-file", options_.runtime_dir + "/" + job.id + ".pid",
                                   "--uid", std::to_string(job.owner_uid),
                                   "--gid", std::to_string(gid),
                                   "--cwd", cwd.empty() ? "/" : cwd,
                                   "--node", options_.node_id,
                                   "--"};
  args.insert(args.end(), job.argv.begin(), job.argv.end());
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);

  // The environment reaches the shim on its stdin, from memory: never through a file on
  // shared storage (it may hold tokens, and root must not read what a user could swap).
  int env_fd = memfd_create("clusterlive-job-env", MFD_CLOEXEC);
  if (env_fd < 0 || write(env_fd, env.data(), env.size()) != static_cast<ssize_t>(env.size()) ||
      lseek(env_fd, 0, SEEK_SET) != 0) {
    if (env_fd >= 0) close(env_fd);
    return failure("failed", "cannot hand the environment over: " + errno_text(errno));
  }
  // The grandchild reports a failed exec of the shim here (close-on-exec: EOF = it runs).
  int report[2];
  if (pipe2(report, O_CLOEXEC) != 0) {
    close(env_fd);
    return failure("failed", "pipe: " + errno_text(errno));
  }

  // Double fork: the shim is adopted by PID 1, so it neither waits on the daemon nor dies
  // with it (the unit's KillMode=process leaves it alone when clusterlived restarts).
  pid_t child = fork();
  if (child < 0) {
    close(env_fd);
    close(report[0]);
    close(report[1]);
    return failure("failed", "fork: " + errno_text(errno));
  }
  if (child == 0) {
    setsid();
    pid_t grandchild = fork();
    if (grandchild != 0) _exit(grandchild > 0 ? 0 : 1);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);  // the daemon blocks SIGTERM for its signalfd
    if (dup2(env_fd, 0) < 0) _exit(1);  // dup2 clears close-on-exec on fd 0
    execv(argv[0], argv.data());
    int saved = errno;
    [[maybe_unused]] ssize_t written = write(report[1], &saved, sizeof saved);
    _exit(127);
  }
  close(env_fd);
  close(report[1]);
  int status = 0;
  while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  int exec_errno = 0;
  ssize_t got;
  while ((got = read(report[0], &exec_errno, sizeof exec_errno)) < 0 && errno == EINTR) {
  }
  close(report[0]);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return failure("failed", "could not start the job's shim (fork failed)");
  }
  if (got > 0) {
    return failure("failed", "cannot run " + options_.shim_path + ": " + errno_text(exec_errno));
  }
  api::JobResult result;
  result.ok = true;
  result.job = job;
  result.job.state = "running";
  result.job.where = options_.node_id;
  return result;
}

std::optional<pid_t> JobManager::local_pid(const std::string& id) {
  // "PID STARTTIME", written by the shim: a pid alone could by now name another process.
  auto text = read_small(options_.runtime_dir + "/" + id + ".pid");
  if (!text || text->empty() || text->back() != '\n') return std::nullopt;
  std::string_view line(*text);
  line.remove_suffix(1);
  size_t space = line.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  auto pid = parse_decimal<pid_t>(line.substr(0, space), true);
  auto started = parse_decimal<uint64_t>(line.substr(space + 1), true);
  if (!pid || !started || *pid <= 1) return std::nullopt;
  ReadResult stat = read_file_bounded("/proc/" + std::to_string(*pid) + "/stat", kMaxSmallFileBytes);
  std::optional<ProcessStat> now = parse_process_stat(stat.text);
  if (!now || now->start_time_ticks != *started) return std::nullopt;
  return pid;
}

namespace {

// A job's migration from a progress file: this node's own (`local`: the migration this node
// coordinates) or the copy in the job's spool (any node's). On the local one, a worker that is
// gone without an outcome leaves the migration undecided, not aborted: the job may be frozen,
// and the daemon starts a recovery (clusterlive-migrate recover) that decides by the commit
// record and writes the outcome. Until then it shows as being recovered.
std::optional<api::MigrationView> read_migration(const std::string& path, bool local) {
  ReadResult text = read_file_bounded(path, kMaxSmallFileBytes);
  if (text.status != ReadStatus::ok) return std::nullopt;
  try {
    nlohmann::json json = nlohmann::json::parse(text.text);
    api::MigrationView view;
    view.target = json.at("target").get<std::string>();
    view.attempt = json.at("attempt").get<uint64_t>();
    view.phase = json.at("phase").get<std::string>();
    view.round = json.at("round").get<uint32_t>();
    view.bytes_sent = json.at("bytes_sent").get<uint64_t>();
    view.rate_bytes_per_s = json.at("rate_bytes_per_s").get<uint64_t>();
    if (json.contains("freeze_ms")) view.freeze_ms = json.at("freeze_ms").get<int64_t>();
    view.outcome = json.at("outcome").get<std::string>();
    view.reason = json.at("reason").get<std::string>();
    view.updated_unix_ms = json.at("updated_unix_ms").get<int64_t>();
    pid_t worker = json.value("worker_pid", 0);
    if (local && !view.ended() && (worker <= 0 || kill(worker, 0) != 0)) {
      view.reason = "recovering: the migration worker died";
    }
    return view;
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

// The newer of two views of a job's migrations: attempts only grow. On a tie, this node's own
// file, whose worker's liveness was checked.
std::optional<api::MigrationView> newer_migration(std::optional<api::MigrationView> local,
                                                  std::optional<api::MigrationView> shared) {
  if (!local) return shared;
  if (!shared || shared->attempt <= local->attempt) return local;
  return shared;
}

// Moves the job made, from the spool's `moves` history (one line per committed move).
uint32_t count_moves(const std::string& spool) {
  ReadResult text = read_file_bounded(spool + "/moves", kMaxMovesFileBytes);
  if (text.status != ReadStatus::ok) return 0;
  return static_cast<uint32_t>(std::count(text.text.begin(), text.text.end(), '\n'));
}

}  // namespace

std::optional<api::JobView> JobManager::load(const std::string& id) {
  if (!is_job_id(id)) return std::nullopt;
  api::JobView job;
  job.id = id;
  job.spool = options_.jobs_root + "/" + id;
  ReadResult meta_text = read_file_bounded(job.spool + "/job.json", kMaxJobFileBytes);
  if (meta_text.status != ReadStatus::ok) return std::nullopt;
  try {
    nlohmann::json meta = nlohmann::json::parse(meta_text.text);
    job.name = meta.at("name").get<std::string>();
    job.owner_uid = meta.at("owner_uid").get<uint32_t>();
    job.owner = meta.at("owner").get<std::string>();
    job.home = meta.at("home").get<std::string>();
    job.argv = meta.at("argv").get<std::vector<std::string>>();
    job.started_unix_ms = meta.at("started_unix_ms").get<int64_t>();
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;  // not a job we can show (a torn or foreign file)
  }
  job.migration =
      newer_migration(read_migration(migration_progress_path(id), true),
                      read_migration(job.spool + "/" + std::string(kSpoolMigrationFile), false));
  job.migrations = count_moves(job.spool);
  job.locked = access((job.spool + "/" + std::string(kJobLockedFile)).c_str(), F_OK) == 0;
  auto end_text = read_small(job.spool + "/end");
  // The shim's last resort when the spool could not take the end (full, read-only).
  if (!end_text) end_text = read_small(local_end_path(options_.runtime_dir + "/" + id + ".pid"));
  if (end_text) {
    if (auto end = parse_job_end(*end_text)) {
      job.state = end->killed ? "killed" : "exited";
      if (end->killed) job.signal = end->code;
      else job.exit_code = end->code;
      return job;
    }
  }
  std::optional<std::string> where;
  if (auto location = read_small(job.spool + "/location")) {
    if (auto record = parse_commit_record(*location)) where = record->node;
  }
  if (!where) {
    job.state = "lost";
    return job;
  }
  job.where = *where;
  job.state = job.migration && !job.migration->ended() ? api::kJobMigrating : api::kJobRunning;
  if (*where != options_.node_id) return job;
  std::optional<pid_t> pid = local_pid(id);
  if (!pid) {
    // Started a moment ago (the shim has not written the pid yet), just moved here (the record
    // names this node from the commit on; the target's worker writes the pid as it resumes
    // the job a moment later), or gone with a reboot.
    int64_t now = unix_time_ms();
    bool starting = now - job.started_unix_ms < kArrivalGraceMs;
    bool arriving = job.migration && job.migration->target == options_.node_id &&
                    now - job.migration->updated_unix_ms < kArrivalGraceMs;
    if (!starting && !arriving) job.state = "lost";
    return job;
  }
  ProcessStat stat = tree_stat(*pid);
  job.rss_kib = stat.rss_pages * static_cast<uint64_t>(sysconf(_SC_PAGESIZE)) / 1024;
  auto sample = cpu_.find(id);
  if (sample != cpu_.end()) job.cpu_percent = sample->second.percent;
  return job;
}

std::vector<api::JobView> JobManager::list() {
  std::vector<api::JobView> jobs;
  DIR* dir = opendir(options_.jobs_root.c_str());
  if (!dir) return jobs;
  while (struct dirent* entry = readdir(dir)) {
    if (!is_job_id(entry->d_name)) continue;
    if (auto job = load(entry->d_name)) jobs.push_back(std::move(*job));
  }
  closedir(dir);
  std::sort(jobs.begin(), jobs.end(), [](const api::JobView& a, const api::JobView& b) {
    return a.started_unix_ms > b.started_unix_ms;
  });
  return jobs;
}

api::JobResult JobManager::get(const std::string& id) {
  std::optional<api::JobView> job = load(id);
  if (!job) return failure("not_found", "no job " + id);
  api::JobResult result;
  result.ok = true;
  result.job = std::move(*job);
  return result;
}

api::JobResult JobManager::kill(const api::Caller& caller, const std::string& id) {
  std::optional<api::JobView> job = load(id);
  if (!job) return failure("not_found", "no job " + id);
  if (!caller.is_root() && caller.uid != job->owner_uid) {
    return failure("permission_denied", "job " + id + " belongs to " + job->owner);
  }
  if (job->ended()) return failure("failed", "job " + id + " has already ended");
  if (job->state == api::kJobMigrating) {
    // Killing the frozen copy would not stop the one being restored on the target.
    return failure("failed", "job " + id + " is being moved; kill it once it has moved");
  }
  if (job->where != options_.node_id) {
    return failure("failed", "job " + id + " runs on " + job->where + "; kill it there");
  }
  std::optional<pid_t> pid = local_pid(id);
  if (!pid) return failure("failed", "job " + id + " is starting; try again in a moment");
  // SIGKILL: the init of a PID namespace ignores signals it has no handler for (SIGTERM
  // included), and its death ends every process of the namespace.
  if (::kill(*pid, SIGKILL) != 0) return failure("failed", "kill: " + errno_text(errno));
  api::JobResult result;
  result.ok = true;
  result.job = std::move(*job);
  return result;
}

api::JobResult JobManager::set_locked(const api::Caller& caller, const std::string& id,
                                      bool locked) {
  std::optional<api::JobView> job = load(id);
  if (!job) return failure("not_found", "no job " + id);
  if (!caller.is_root() && caller.uid != job->owner_uid) {
    return failure("permission_denied", "job " + id + " belongs to " + job->owner);
  }
  if (job->ended()) return failure("failed", "job " + id + " has already ended");
  // Allowed while the job is being moved: a migration under way finishes (the lock is read
  // when a move starts), and the job then stays where it landed.
  const std::string path = job->spool + "/" + std::string(kJobLockedFile);
  if (locked) {
    // O_EXCL: another node may create it at the same moment; either way it is there.
    int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0 && errno != EEXIST) {
      return failure("failed", "lock " + id + ": " + errno_text(errno));
    }
    if (fd >= 0) close(fd);
  } else if (unlink(path.c_str()) != 0 && errno != ENOENT) {
    return failure("failed", "unlock " + id + ": " + errno_text(errno));
  }
  job->locked = locked;
  api::JobResult result;
  result.ok = true;
  result.job = std::move(*job);
  return result;
}

void JobManager::sample(int64_t now_ms) {
  std::set<std::string> running;
  DIR* dir = opendir(options_.runtime_dir.c_str());
  if (dir) {
    while (struct dirent* entry = readdir(dir)) {
      std::string name = entry->d_name;
      if (name.size() < 4 || name.substr(name.size() - 4) != ".pid") continue;
      std::string id = name.substr(0, name.size() - 4);
      if (!is_job_id(id)) continue;
      std::optional<pid_t> pid = local_pid(id);
      if (!pid) continue;
      running.insert(id);
      uint64_t ticks = tree_stat(*pid).cpu_ticks;
      CpuSample& sample = cpu_[id];
      if (sample.at_ms > 0 && now_ms > sample.at_ms && ticks >= sample.ticks) {
        double seconds = static_cast<double>(now_ms - sample.at_ms) / 1000.0;
        double cpu_seconds = static_cast<double>(ticks - sample.ticks) /
                             static_cast<double>(sysconf(_SC_CLK_TCK));
        sample.percent = 100.0 * cpu_seconds / seconds;
      }
      sample.ticks = ticks;
      sample.at_ms = now_ms;
    }
    closedir(dir);
  }
  std::erase_if(cpu_, [&](const auto& entry) { return !running.count(entry.first); });
}

}  // namespace clusterlive
