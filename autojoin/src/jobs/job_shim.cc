#include "jobs/job_shim.h"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <iostream>

#include "core/job_spool.h"
#include "sys/file_io.h"

extern char** environ;

namespace clusterlive {
namespace {

constexpr size_t kMaxEnvBytes = 1024 * 1024;  // the env file; the API caps requests far lower

// The environment file: KEY=VALUE entries separated by NUL bytes.
std::vector<std::string> read_environment(const std::string& path, std::string& error) {
  ReadResult read = read_file_bounded(path, kMaxEnvBytes);
  if (read.status == ReadStatus::not_found) return {};
  if (read.status != ReadStatus::ok) {
    error = read.error;
    return {};
  }
  std::vector<std::string> entries;
  size_t from = 0;
  while (from < read.text.size()) {
    size_t end = read.text.find('\0', from);
    if (end == std::string::npos) end = read.text.size();
    if (end > from && read.text.find('=', from) < end) entries.push_back(read.text.substr(from, end - from));
    from = end + 1;
  }
  return entries;
}

// Appends a line to the job's stderr, so a user who ran the job sees why it did not start.
void tell_job_stderr(int fd, const std::string& message) {
  std::string line = "clusterlive: " + message + "\n";
  [[maybe_unused]] ssize_t written = write(fd, line.data(), line.size());
}

// In the child, which is PID 1 of the new namespace: become the job. Never returns; on a
// failure, writes errno to `report_fd` (close-on-exec, so a successful exec closes it
// silently) and exits 127.
[[noreturn]] void become_job(const ShimOptions& options, const std::vector<std::string>& env,
                             int out_fd, int err_fd, int report_fd) {
  auto fail = [&](const char* step) {
    int saved = errno;
    std::string text = std::string(step) + ": " + std::strerror(saved);
    [[maybe_unused]] ssize_t written = write(report_fd, text.data(), text.size());
    _exit(127);
  };
  if (setsid() < 0) fail("setsid");
  int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null_fd < 0) fail("open /dev/null");
  if (dup2(null_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0) fail("dup2");
  // The user's own groups and no more: never the daemon's (root's) privileges.
  struct passwd* user = getpwuid(options.uid);
  if (user ? initgroups(user->pw_name, options.gid) != 0 : setgroups(0, nullptr) != 0) {
    fail("setting the groups");
  }
  if (setgid(options.gid) != 0) fail("setgid");
  if (setuid(options.uid) != 0) fail("setuid");
  if (options.uid != 0 && setuid(0) == 0) {
    errno = EPERM;
    fail("dropping root");  // paranoia: root must be gone for good
  }
  if (chdir(options.cwd.c_str()) != 0) fail(("cd " + options.cwd).c_str());
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  std::vector<char*> argv;
  for (const std::string& arg : options.argv) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (const std::string& entry : env) envp.push_back(const_cast<char*>(entry.c_str()));
  envp.push_back(nullptr);
  environ = envp.data();  // execvp looks CMD up in the job's PATH, not the shim's
  execvp(argv[0], argv.data());
  fail(("cannot run " + options.argv[0]).c_str());
  _exit(127);  // not reached: fail() exits
}

bool record_end(const ShimOptions& options, const JobEnd& end) {
  std::string error;
  if (!write_file_atomically(options.spool + "/end", format_job_end(end), {0644, false, 0700},
                             error)) {
    std::cerr << "clusterlive-job: cannot record the end of the job: " << error << "\n";
    return false;
  }
  return true;
}

}  // namespace

int run_shim(const ShimOptions& options) {
  if (options.argv.empty()) {
    std::cerr << "clusterlive-job: no command\n";
    return 1;
  }
  // Orphans of the job (none while its init lives) come to us, not to PID 1.
  prctl(PR_SET_CHILD_SUBREAPER, 1);

  int flags = O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW;
  int out_fd = open((options.spool + "/stdout").c_str(), flags);
  int err_fd = open((options.spool + "/stderr").c_str(), flags);
  if (out_fd < 0 || err_fd < 0) {
    std::cerr << "clusterlive-job: cannot open the output files in " << options.spool << ": "
              << std::strerror(errno) << "\n";
    return 1;
  }
  std::string env_error;
  std::vector<std::string> env = read_environment(options.spool + "/env", env_error);
  if (!env_error.empty()) {
    tell_job_stderr(err_fd, "cannot read the job's environment: " + env_error);
    return record_end(options, {false, 127}) ? 0 : 1;
  }

  int report[2];
  if (pipe2(report, O_CLOEXEC) != 0) {
    std::cerr << "clusterlive-job: pipe: " << std::strerror(errno) << "\n";
    return 1;
  }
  // After this, our next child is PID 1 of a fresh PID namespace: the job can be restored
  // on any node with the same PIDs, since no other process lives in its namespace.
  if (unshare(CLONE_NEWPID) != 0) {
    tell_job_stderr(err_fd, std::string("cannot make a PID namespace: ") + std::strerror(errno));
    return record_end(options, {false, 127}) ? 0 : 1;
  }
  pid_t job = fork();
  if (job < 0) {
    tell_job_stderr(err_fd, std::string("fork: ") + std::strerror(errno));
    return record_end(options, {false, 127}) ? 0 : 1;
  }
  if (job == 0) {
    close(report[0]);
    become_job(options, env, out_fd, err_fd, report[1]);
  }
  close(report[1]);
  char reason[512];
  ssize_t got = read(report[0], reason, sizeof reason);
  close(report[0]);
  if (got > 0) tell_job_stderr(err_fd, std::string(reason, static_cast<size_t>(got)));

  std::string error;
  if (!write_file_atomically(options.pid_file, std::to_string(job) + "\n", {0644, true, 0755},
                             error)) {
    std::cerr << "clusterlive-job: " << error << "\n";  // the daemon then sees it as running
  }

  // Reap everything that comes to us; the job's status is the one that counts.
  JobEnd end;
  for (;;) {
    int status = 0;
    pid_t pid = waitpid(-1, &status, 0);
    if (pid < 0) {
      if (errno == EINTR) continue;
      break;  // ECHILD: nothing left
    }
    if (pid != job) continue;
    if (WIFEXITED(status)) end = {false, WEXITSTATUS(status)};
    if (WIFSIGNALED(status)) end = {true, WTERMSIG(status)};
  }
  bool recorded = record_end(options, end);
  unlink(options.pid_file.c_str());
  return recorded ? 0 : 1;
}

}  // namespace clusterlive
