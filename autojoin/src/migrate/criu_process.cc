#include "migrate/criu_process.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <sstream>
#include <string_view>
#include <thread>

#include "migrate/peer_link.h"
#include "sys/file_io.h"

namespace clusterlive {

std::optional<pid_t> start_process(const std::vector<std::string>& argv, int keep_fd,
                                   std::string& error) {
  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  pid_t child = fork();
  if (child < 0) {
    error = "fork: " + errno_text(errno);
    return std::nullopt;
  }
  if (child == 0) {
    int null_fd = open("/dev/null", O_RDWR);
    if (null_fd >= 0) {
      dup2(null_fd, 0);
      dup2(null_fd, 1);
      dup2(null_fd, 2);
    }
    if (keep_fd >= 0) fcntl(keep_fd, F_SETFD, 0);  // survives exec
    execvp(args[0], args.data());
    _exit(127);
  }
  return child;
}

std::optional<int> wait_process(pid_t pid, TimeMs deadline) {
  for (;;) {
    int status = 0;
    pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) return status;
    if (done < 0 && errno != EINTR) return 0;  // not our child any more: nothing to wait for
    if (monotonic_ms() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

void kill_process(pid_t pid) {
  kill(pid, SIGKILL);
  while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
}

std::string describe_status(int status) {
  if (WIFEXITED(status)) return "exit code " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
  return "status " + std::to_string(status);
}

namespace {
// CRIU's words for a page server it cannot reach, followed by "ADDRESS:PORT".
constexpr std::string_view kCriuCannotConnect = "Can't connect to server ";
}  // namespace

std::string criu_log_error(const std::string& log_path) {
  ReadResult log = read_file_bounded(log_path, 64 * 1024 * 1024);
  if (log.status != ReadStatus::ok) return "";
  std::istringstream lines(log.text);
  std::string line;
  std::string last;
  std::string errors;
  while (std::getline(lines, line)) {
    if (line.empty()) continue;
    last = line;
    // CRIU logs a page server it cannot reach (the peer died or the link is cut) without the
    // "Error" mark; its later errors ("Unable to detach from PID") are consequences.
    size_t unreachable = line.find(kCriuCannotConnect);
    if (unreachable != std::string::npos) {
      return "cannot connect to the page server at " +
             line.substr(unreachable + kCriuCannotConnect.size()) +
             " (the target node is down or unreachable)";
    }
    // The first error is the cause; CRIU's later ones are its consequences ("Dumping FAILED").
    if (errors.empty() && line.find("Error (") != std::string::npos) {
      errors = line.substr(line.find("Error ("));
    }
  }
  return errors.empty() ? last : errors;
}

void remove_tree(const std::string& path, const std::string& keep_suffix) {
  DIR* dir = opendir(path.c_str());
  if (!dir) {
    unlink(path.c_str());
    return;
  }
  bool kept = false;
  while (dirent* entry = readdir(dir)) {
    std::string name = entry->d_name;
    if (name == "." || name == "..") continue;
    std::string child = path + "/" + name;
    struct stat st {};
    if (lstat(child.c_str(), &st) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      remove_tree(child, keep_suffix);
      if (rmdir(child.c_str()) != 0) kept = true;
    } else if (!keep_suffix.empty() && name.ends_with(keep_suffix)) {
      kept = true;
    } else {
      unlink(child.c_str());
    }
  }
  closedir(dir);
  if (!kept) rmdir(path.c_str());
}

}  // namespace clusterlive
