#include "storage/storage_manager.h"

#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <sstream>
#include <utility>

#include "sys/file_io.h"

extern char** environ;

namespace clusterlive {

std::string nfs_server_of_mount(const std::string& mountinfo, const std::string& mount_point) {
  // Fields: id parent major:minor root mount-point options [optional...] - type source super.
  std::string server;
  std::istringstream lines(mountinfo);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    std::vector<std::string> words;
    for (std::string word; fields >> word;) words.push_back(word);
    if (words.size() < 5 || words[4] != mount_point) continue;
    size_t dash = 6;
    while (dash < words.size() && words[dash] != "-") ++dash;
    if (dash + 2 >= words.size()) continue;
    const std::string& type = words[dash + 1];
    const std::string& source = words[dash + 2];
    server.clear();  // a later mount on the same point hides the earlier ones
    if (type.rfind("nfs", 0) != 0 || source.empty() || source[0] != '[') continue;
    size_t close = source.find("]:");
    if (close != std::string::npos) server = source.substr(1, close - 1);
  }
  return server;
}

namespace {
// mountinfo of a node with many mounts stays far below this.
constexpr size_t kMaxMountinfoBytes = 1 << 20;
}  // namespace

std::string StorageManager::read_mountinfo() const {
  return read_file_bounded(options_.mountinfo_path, kMaxMountinfoBytes).text;
}

StorageManager::StorageManager(StorageManagerOptions options) : options_(std::move(options)) {
  struct stat exports {};
  serving_ = stat(options_.exports_file.c_str(), &exports) == 0;
  mounted_from_ = nfs_server_of_mount(read_mountinfo(), options_.mount_point);
}

StorageManager::~StorageManager() {
  // A helper still running finishes on its own; only forget it (no zombie: it is reaped by
  // init once we are gone).
}

std::vector<std::string> StorageManager::take_log_lines() {
  std::vector<std::string> taken;
  taken.swap(log_lines_);
  return taken;
}

bool StorageManager::start(const std::vector<std::string>& arguments, TimeMs now) {
  std::vector<std::string> argv = {options_.helper_path};
  argv.insert(argv.end(), arguments.begin(), arguments.end());
  std::string line;
  for (const std::string& word : argv) line += (line.empty() ? "" : " ") + word;
  if (line == failed_line_ && now < retry_at_) return false;

  std::vector<char*> raw;
  for (std::string& word : argv) raw.push_back(word.data());
  raw.push_back(nullptr);
  // The daemon blocks SIGTERM and SIGINT for its signalfd: the helper gets a clean mask.
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attributes, &none);
  // Its own process group, so a helper that hangs is killed with everything it started.
  posix_spawnattr_setpgroup(&attributes, 0);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP);
  pid_t pid = -1;
  int error = posix_spawn(&pid, raw[0], nullptr, &attributes, raw.data(), environ);
  posix_spawnattr_destroy(&attributes);
  if (error != 0) {
    last_error_ = line + ": cannot start: " + std::strerror(error);
    log_lines_.push_back("storage: " + last_error_);
    failed_line_ = line;
    retry_at_ = now + kStorageRetryMs;
    return false;
  }
  running_pid_ = pid;
  running_args_ = arguments;
  running_line_ = line;
  running_since_ = now;
  log_lines_.push_back("storage: " + line);
  return true;
}

void StorageManager::reap(TimeMs now) {
  if (running_pid_ < 0) return;
  int status = 0;
  pid_t done = waitpid(running_pid_, &status, WNOHANG);
  if (done == 0) {
    if (now - running_since_ < kStorageActionTimeoutMs) return;
    kill(-running_pid_, SIGKILL);
    done = waitpid(running_pid_, &status, 0);
  }
  bool ok = done == running_pid_ && WIFEXITED(status) && WEXITSTATUS(status) == 0;
  const std::string& action = running_args_.at(0);
  if (ok) {
    if (action == "standby") standing_by_on_ = running_args_.at(1);
    if (action == "serve") serving_ = true;
    if (action == "unserve") serving_ = false;
    // A new mount (even from the same server again) has its homes linked anew.
    if (action == "mount" || action == "unmount") homes_linked_on_.clear();
    if (action == "mount") mounted_from_ = running_args_.at(1);
    if (action == "link-homes") homes_linked_on_ = mounted_from_;
    if (action == "unmount") mounted_from_.clear();
    last_error_.clear();
    failed_line_.clear();
    log_lines_.push_back("storage: done: " + running_line_);
  } else {
    std::string how = done != running_pid_            ? "was lost"
                      : WIFSIGNALED(status)            ? "was killed (took too long)"
                      : "failed with exit code " + std::to_string(WEXITSTATUS(status));
    last_error_ = running_line_ + " " + how;
    failed_line_ = running_line_;
    retry_at_ = now + kStorageRetryMs;
    log_lines_.push_back("storage: " + last_error_);
    // A mount that failed may have left the old one detached: read what is there now.
    if (action == "mount" || action == "unmount") {
      mounted_from_ = nfs_server_of_mount(read_mountinfo(), options_.mount_point);
    }
  }
  running_pid_ = -1;
  running_args_.clear();
  running_line_.clear();
}

bool StorageManager::claims_serving() const {
  bool unserving = running_pid_ >= 0 && !running_args_.empty() && running_args_[0] == "unserve";
  return serving_ && !unserving;
}

void StorageManager::reconcile(const StorageWanted& wanted, TimeMs now) {
  reap(now);
  if (running_pid_ >= 0) return;
  if (!wanted.serve_address.empty() && standing_by_on_ != wanted.serve_address) {
    start({"standby", wanted.serve_address}, now);
    return;
  }
  if (wanted.serve && !serving_) {
    start({"serve", wanted.serve_address, wanted.serve_prefix}, now);
    return;
  }
  if (!wanted.serve && serving_) {
    start({"unserve"}, now);
    return;
  }
  if (wanted.mount_address.empty()) {
    if (!mounted_from_.empty()) start({"unmount"}, now);
    return;
  }
  if (mounted_from_ != wanted.mount_address) {
    start({"mount", wanted.mount_address, wanted.node_id}, now);
    return;
  }
  if (!homes_linked()) start({"link-homes"}, now);
}

}  // namespace clusterlive
