#include "sys/detached_process.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>

#include "sys/file_io.h"

namespace clusterlive {

bool spawn_detached(const std::vector<std::string>& argv, int fd3, std::string& error) {
  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  // The grandchild reports a failed exec here (close-on-exec: EOF means it runs).
  int report[2];
  if (pipe2(report, O_CLOEXEC) != 0) {
    error = "pipe: " + errno_text(errno);
    return false;
  }
  pid_t child = fork();
  if (child < 0) {
    error = "fork: " + errno_text(errno);
    close(report[0]);
    close(report[1]);
    return false;
  }
  if (child == 0) {
    setsid();
    pid_t grandchild = fork();
    if (grandchild != 0) _exit(grandchild > 0 ? 0 : 1);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    int null_fd = open("/dev/null", O_RDONLY);
    if (null_fd < 0 || dup2(null_fd, 0) < 0) _exit(1);
    if (fd3 >= 0 && dup2(fd3, 3) < 0) _exit(1);  // dup2 clears close-on-exec
    execv(args[0], args.data());
    int saved = errno;
    [[maybe_unused]] ssize_t written = write(report[1], &saved, sizeof saved);
    _exit(127);
  }
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
    error = "could not start " + argv[0] + " (fork failed)";
    return false;
  }
  if (got > 0) {
    error = "cannot run " + argv[0] + ": " + errno_text(exec_errno);
    return false;
  }
  return true;
}

}  // namespace clusterlive
