// What the tests of clusterlive-migrate's recoveries share: a stand-in for a job's init in a
// PID namespace of its own, and ways to wait for processes.
#pragma once

#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <functional>
#include <string>
#include <thread>

#include "migrate/peer_link.h"  // monotonic_ms
#include "sys/test_temp_dir.h"

namespace clusterlive::testing {

// The process state letter of /proc/PID/stat ('T' stopped, 'S' sleeping); 0 if it is gone.
inline char process_state(pid_t pid) {
  std::string stat = read_all("/proc/" + std::to_string(pid) + "/stat");
  size_t paren = stat.rfind(')');
  return paren == std::string::npos || paren + 2 >= stat.size() ? 0 : stat[paren + 2];
}

// Waits up to 5 s for `done`.
inline bool eventually(const std::function<bool()>& done) {
  TimeMs deadline = monotonic_ms() + 5'000;
  while (!done()) {
    if (monotonic_ms() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

// A pid no process has: a child that has exited and been reaped.
inline pid_t dead_pid() {
  pid_t child = fork();
  if (child == 0) _exit(0);
  waitpid(child, nullptr, 0);
  return child;
}

// A job's init: the first process of a new PID namespace, sleeping until killed. `holder`
// creates the namespace and reaps the init; init is 0 when no namespace can be made here.
struct JobInit {
  pid_t holder = 0;
  pid_t init = 0;

  JobInit() {
    int fds[2];
    if (pipe(fds) != 0) return;
    holder = fork();
    if (holder == 0) {
      close(fds[0]);
      pid_t child = -1;
      if (unshare(CLONE_NEWPID) == 0 || unshare(CLONE_NEWUSER | CLONE_NEWPID) == 0) {
        child = fork();
        if (child == 0) {
          for (;;) pause();
        }
      }
      [[maybe_unused]] ssize_t written = write(fds[1], &child, sizeof child);
      if (child > 0) waitpid(child, nullptr, 0);
      _exit(0);
    }
    close(fds[1]);
    pid_t child = -1;
    if (read(fds[0], &child, sizeof child) == sizeof child && child > 0) init = child;
    close(fds[0]);
  }
  ~JobInit() {
    if (init > 0) kill(init, SIGKILL);
    if (holder > 0) waitpid(holder, nullptr, 0);
  }
};

}  // namespace clusterlive::testing
