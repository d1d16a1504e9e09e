#include "migrate/job_inspection.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <thread>
#include <cstdlib>
#include <spawn.h>

#include "core/decimal.h"
#include "core/proc_parsers.h"
#include "sys/file_build_id.h"
#include "sys/file_io.h"

extern char** environ;

namespace clusterlive {
namespace {

constexpr size_t kMaxProcFileBytes = 16 * 1024 * 1024;  // maps of a big process

std::string proc_path(pid_t pid, const char* leaf) {
  return "/proc/" + std::to_string(pid) + "/" + leaf;
}

std::optional<std::pair<dev_t, ino_t>> pid_namespace_of(pid_t pid) {
  struct stat st {};
  if (stat(proc_path(pid, "ns/pid").c_str(), &st) != 0) return std::nullopt;
  return std::make_pair(st.st_dev, st.st_ino);
}

std::optional<std::string> link_target(const std::string& path) {
  char target[4096];
  ssize_t size = readlink(path.c_str(), target, sizeof target);
  if (size <= 0 || static_cast<size_t>(size) >= sizeof target) return std::nullopt;
  return std::string(target, static_cast<size_t>(size));
}

// "SLOT<TAB>TARGET" lines of the process's fds, cwd, root and exe (parse_fd_table's input).
std::string fd_table_text(pid_t pid) {
  std::string text;
  for (const char* slot : {"cwd", "root", "exe"}) {
    if (auto target = link_target(proc_path(pid, slot))) text += std::string(slot) + "\t" + *target + "\n";
  }
  DIR* dir = opendir(proc_path(pid, "fd").c_str());
  if (!dir) return text;
  while (dirent* entry = readdir(dir)) {
    if (entry->d_name[0] == '.') continue;
    if (auto target = link_target(proc_path(pid, "fd") + "/" + entry->d_name)) {
      text += std::string(entry->d_name) + "\t" + *target + "\n";
    }
  }
  closedir(dir);
  return text;
}

bool criu_offers(const std::string& feature) {
  pid_t child = 0;
  std::string criu = "criu";
  std::string check = "check";
  std::string flag = "--feature";
  std::string name = feature;
  char* argv[] = {criu.data(), check.data(), flag.data(), name.data(), nullptr};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  int rc = posix_spawnp(&child, "criu", &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return false;
  int status = 0;
  while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

// Every pid under /proc but ours, for the scans below.
std::vector<pid_t> other_processes() {
  std::vector<pid_t> pids;
  DIR* proc = opendir("/proc");
  if (!proc) return pids;
  while (dirent* entry = readdir(proc)) {
    auto pid = parse_decimal<pid_t>(entry->d_name, true);
    if (pid && *pid != getpid()) pids.push_back(*pid);
  }
  closedir(proc);
  return pids;
}

bool names_migration_worker(const std::vector<std::string>& argv) {
  if (argv.empty()) return false;
  const std::string& program = argv.front();
  size_t slash = program.rfind('/');
  return program.substr(slash == std::string::npos ? 0 : slash + 1) == "clusterlive-migrate";
}

}  // namespace

std::vector<std::string> command_line_of(pid_t pid) {
  std::vector<std::string> argv;
  ReadResult text = read_file_bounded(proc_path(pid, "cmdline"), 1024 * 1024);
  if (text.status != ReadStatus::ok) return argv;
  size_t start = 0;
  while (start < text.text.size()) {
    size_t end = text.text.find('\0', start);
    if (end == std::string::npos) end = text.text.size();
    argv.push_back(text.text.substr(start, end - start));
    start = end + 1;
  }
  return argv;
}

bool is_migration_worker(pid_t pid) {
  return pid > 0 && names_migration_worker(command_line_of(pid));
}

std::vector<pid_t> source_workers_of(const std::string& job) {
  std::vector<pid_t> workers;
  for (pid_t pid : other_processes()) {
    std::vector<std::string> argv = command_line_of(pid);
    if (!names_migration_worker(argv) || argv.size() < 2 || argv[1] != "source") continue;
    for (size_t i = 2; i + 1 < argv.size(); ++i) {
      if (argv[i] == "--job" && argv[i + 1] == job) {
        workers.push_back(pid);
        break;
      }
    }
  }
  return workers;
}

std::vector<pid_t> processes_using_directory(const std::string& dir) {
  std::vector<pid_t> users;
  for (pid_t pid : other_processes()) {
    for (const std::string& argument : command_line_of(pid)) {
      if (argument == dir || argument.starts_with(dir + "/")) {
        users.push_back(pid);
        break;
      }
    }
  }
  return users;
}

std::vector<pid_t> processes_of_job(pid_t init) {
  std::vector<pid_t> pids;
  auto ns = pid_namespace_of(init);
  if (!ns) return pids;
  pids.push_back(init);
  DIR* proc = opendir("/proc");
  if (!proc) return pids;
  while (dirent* entry = readdir(proc)) {
    auto pid = parse_decimal<pid_t>(entry->d_name, true);
    if (!pid || *pid == init) continue;
    if (pid_namespace_of(*pid) == ns) pids.push_back(*pid);
  }
  closedir(proc);
  return pids;
}

bool stop_processes_using_directory(const std::string& dir, int64_t timeout_ms) {
  for (pid_t pid : processes_using_directory(dir)) kill(pid, SIGKILL);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (!processes_using_directory(dir).empty()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return true;
}

uint64_t start_time_of(pid_t pid) {
  if (pid <= 0) return 0;
  ReadResult stat = read_file_bounded("/proc/" + std::to_string(pid) + "/stat", 4096);
  if (stat.status != ReadStatus::ok) return 0;
  std::optional<ProcessStat> parsed = parse_process_stat(stat.text);
  return parsed ? parsed->start_time_ticks : 0;
}

size_t signal_job(pid_t init, int signal) {
  size_t signalled = 0;
  for (pid_t pid : processes_of_job(init)) {
    if (kill(pid, signal) == 0) ++signalled;
  }
  return signalled;
}

std::optional<JobSnapshot> snapshot_job(pid_t init, const std::string& name,
                                        const std::string& spool_dir, std::string& error) {
  JobSnapshot job;
  job.name = name;
  job.spool_dir = spool_dir.ends_with('/') ? spool_dir : spool_dir + "/";
  for (pid_t pid : processes_of_job(init)) {
    ProcessSnapshot process;
    process.pid = pid;
    ReadResult maps = read_file_bounded(proc_path(pid, "maps"), kMaxProcFileBytes);
    ReadResult stat = read_file_bounded(proc_path(pid, "stat"), 4096);
    auto parsed_maps = parse_maps(maps.text);
    auto fds = parse_fd_table(fd_table_text(pid));
    auto tty = parse_stat_tty_nr(stat.text);
    auto figures = parse_process_stat(stat.text);
    if (maps.status != ReadStatus::ok || !parsed_maps || !fds || !tty || !figures) {
      if (kill(pid, 0) != 0) continue;  // it ended while we looked
      error = "cannot read process " + std::to_string(pid) + " of the job from /proc";
      return std::nullopt;
    }
    process.maps = std::move(*parsed_maps);
    process.fds = std::move(*fds);
    process.tty_nr = *tty;
    job.rss_bytes += figures->rss_pages * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
    job.processes.push_back(std::move(process));
  }
  if (job.processes.empty()) {
    error = "the job has no processes on this node";
    return std::nullopt;
  }
  return job;
}

NodeFacts gather_node_facts(const std::string& node, const std::vector<std::string>& paths,
                            const std::vector<std::string>& criu_features) {
  NodeFacts facts;
  facts.name = node;
  ReadResult cpuinfo = read_file_bounded("/proc/cpuinfo", kMaxProcFileBytes);
  if (auto flags = parse_cpuinfo_flags(cpuinfo.text)) facts.cpu_flags = std::move(*flags);
  ReadResult meminfo = read_file_bounded("/proc/meminfo", 64 * 1024);
  if (auto memory = parse_meminfo(meminfo.text)) {
    facts.available_bytes = static_cast<uint64_t>(memory->available_mib) * 1024 * 1024;
  }
  for (const std::string& path : paths) {
    FileFacts file;
    struct stat st {};
    if (stat(path.c_str(), &st) == 0) {
      file.exists = true;
      if (S_ISREG(st.st_mode)) {
        file.size = static_cast<uint64_t>(st.st_size);
        // Reads only the ELF headers and notes: a few hundred bytes, even of a huge file.
        file.build_id = read_file_build_id(path);
      }
    }
    facts.files[path] = file;
  }
  for (const std::string& feature : criu_features) {
    if (criu_offers(feature)) facts.criu_features.push_back(feature);
  }
  return facts;
}

nlohmann::json node_facts_to_json(const NodeFacts& facts) {
  nlohmann::json files = nlohmann::json::object();
  for (const auto& [path, file] : facts.files) {
    files[path] = {{"exists", file.exists}, {"size", file.size}, {"build_id", file.build_id}};
  }
  return {{"name", facts.name},
          {"cpu_flags", facts.cpu_flags},
          {"criu_features", facts.criu_features},
          {"available_bytes", facts.available_bytes},
          {"files", files}};
}

std::optional<NodeFacts> node_facts_from_json(const nlohmann::json& json) {
  try {
    NodeFacts facts;
    facts.name = json.at("name").get<std::string>();
    facts.cpu_flags = json.at("cpu_flags").get<std::vector<std::string>>();
    facts.criu_features = json.at("criu_features").get<std::vector<std::string>>();
    facts.available_bytes = json.at("available_bytes").get<uint64_t>();
    for (const auto& [path, file] : json.at("files").items()) {
      facts.files[path] = {file.at("exists").get<bool>(), file.at("size").get<uint64_t>(),
                           file.at("build_id").get<std::string>()};
    }
    return facts;
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

}  // namespace clusterlive
