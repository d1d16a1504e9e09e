#include "jobs/job_shim.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/close_range.h>
#include <poll.h>
#include <pwd.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <thread>

#include "core/job_spool.h"
#include "core/migration.h"
#include "core/proc_parsers.h"
#include "sys/file_io.h"

extern char** environ;

namespace clusterlive {
namespace {

constexpr size_t kMaxEnvBytes = 1024 * 1024;  // the API caps a whole request far lower
constexpr int kEndWriteAttempts = 30;          // recording the end on a full or stalled /cluster
constexpr auto kEndWriteRetry = std::chrono::seconds(2);

// The environment from fd 0: KEY=VALUE entries separated by NUL bytes.
std::vector<std::string> read_environment() {
  std::string text;
  char buffer[4096];
  for (;;) {
    ssize_t got = read(0, buffer, sizeof buffer);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0 || text.size() + static_cast<size_t>(got) > kMaxEnvBytes) break;
    text.append(buffer, static_cast<size_t>(got));
  }
  std::vector<std::string> entries;
  size_t from = 0;
  while (from < text.size()) {
    size_t end = text.find('\0', from);
    if (end == std::string::npos) end = text.size();
    if (end > from && text.find('=', from) < end) entries.push_back(text.substr(from, end - from));
    from = end + 1;
  }
  return entries;
}

// Appends a line to the job's stderr, so a user who ran the job sees why it did not start.
void tell_job_stderr(int fd, const std::string& message) {
  std::string line = "clusterlive: " + message + "\n";
  [[maybe_unused]] ssize_t written = write(fd, line.data(), line.size());
}

// Every signal back to its default action and none blocked: the daemon blocks SIGTERM and
// SIGINT (for its signalfd) and ignores SIGPIPE, and both would survive exec. Through the
// system call, because glibc's sigaction refuses signals 32 and 33 (its own), which a parent
// may still have left ignored.
void reset_signals() {
  struct KernelSigaction {
    void (*handler)(int);
    unsigned long flags;
    void (*restorer)();
    uint64_t mask;
  };
  KernelSigaction default_action{SIG_DFL, 0, nullptr, 0};
  for (int signal = 1; signal <= 64; ++signal) {
    if (signal == SIGKILL || signal == SIGSTOP) continue;
    syscall(SYS_rt_sigaction, signal, &default_action, nullptr, sizeof default_action.mask);
  }
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
}

// In the child, which is PID 1 of the new namespace: become the job. Never returns; on a
// failure, writes "CODE reason" to `report_fd` (close-on-exec, so a successful exec closes
// it silently) and exits with CODE.
[[noreturn]] void become_job(const ShimOptions& options, const std::vector<std::string>& env,
                             int out_fd, int err_fd, int report_fd) {
  auto fail = [&](int code, const std::string& step) {
    std::string text = std::to_string(code) + " " + step + ": " + std::strerror(errno);
    [[maybe_unused]] ssize_t written = write(report_fd, text.data(), text.size());
    _exit(code);
  };
  reset_signals();
  if (setsid() < 0) fail(kCannotExecute, "setsid");
  int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null_fd < 0) fail(kCannotExecute, "open /dev/null");
  if (dup2(null_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0) {
    fail(kCannotExecute, "dup2");
  }
  // The user's own groups and no more: never the daemon's (root's) privileges.
  struct passwd* user = getpwuid(options.uid);
  if (user ? initgroups(user->pw_name, options.gid) != 0 : setgroups(0, nullptr) != 0) {
    fail(kCannotExecute, "setting the groups");
  }
  if (setgid(options.gid) != 0) fail(kCannotExecute, "setgid");
  if (setuid(options.uid) != 0) fail(kCannotExecute, "setuid");
  if (options.uid != 0 && setuid(0) == 0) {
    errno = EPERM;
    fail(kCannotExecute, "dropping root");  // paranoia: root must be gone for good
  }
  if (chdir(options.cwd.c_str()) != 0) fail(kCannotExecute, "cd " + options.cwd);
  std::vector<char*> argv;
  for (const std::string& arg : options.argv) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (const std::string& entry : env) envp.push_back(const_cast<char*>(entry.c_str()));
  envp.push_back(nullptr);
  environ = envp.data();  // execvp looks CMD up in the job's PATH, not the shim's
  execvp(argv[0], argv.data());
  fail(errno == ENOENT ? kCommandNotFound : kCannotExecute, "cannot run " + options.argv[0]);
  _exit(kCannotExecute);  // not reached: fail() exits
}


// The user's command, the job init's only child: signals sent to the init go on to it.
volatile pid_t g_command = 0;

void forward_signal(int signal) {
  if (g_command > 0) kill(g_command, signal);
}

// PID 1 of the job's namespace, as root. CRIU dumps a PID namespace through its init: its
// parasite needs a /proc of that namespace, and mounts one from inside the init, which an
// unprivileged init may not do. So the user's command runs as the init's only child (PID 2,
// as the user) and this init, which holds no file open, only reaps and forwards signals.
// When the command ends, the init writes how it ended to init_end_path (on whichever node
// it runs then) and exits; the shim records that end.
[[noreturn]] void run_job_init(const ShimOptions& options, const std::vector<std::string>& env,
                               int out_fd, int err_fd, int report_fd) {
  setsid();
  auto fail = [&](const std::string& step) {
    std::string text = std::to_string(kCannotExecute) + " " + step + ": " + std::strerror(errno);
    [[maybe_unused]] ssize_t written = write(report_fd, text.data(), text.size());
    _exit(kCannotExecute);
  };
  // The user's job never gets more than the normal policy and priority: not the daemon's
  // real-time one (its unit resets both at fork; this holds whoever started the shim).
  int policy = sched_getscheduler(0);
  struct sched_param normal{};
  if ((policy == SCHED_FIFO || policy == SCHED_RR) &&
      sched_setscheduler(0, SCHED_OTHER, &normal) != 0) {
    fail("setting the normal scheduling policy");
  }
  errno = 0;
  int nice = getpriority(PRIO_PROCESS, 0);
  if (errno == 0 && nice < 0 && setpriority(PRIO_PROCESS, 0, 0) != 0) fail("setting nice 0");
  pid_t command = fork();
  if (command < 0) fail("fork");
  if (command == 0) become_job(options, env, out_fd, err_fd, report_fd);
  g_command = command;
  // Nothing open but /dev/null: every file of the init would have to exist on a target too.
  syscall(SYS_close_range, 0U, ~0U, 0U);
  int null_fd = open("/dev/null", O_RDWR);
  if (null_fd == 0) {
    dup2(0, 1);
    dup2(0, 2);
  }
  [[maybe_unused]] int ignored = chdir("/");
  for (int signal : {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGCONT}) {
    std::signal(signal, forward_signal);
  }
  int status = 0;
  for (;;) {
    pid_t done = waitpid(-1, &status, 0);
    if (done == command) break;
    if (done < 0 && errno != EINTR) _exit(kCannotExecute);  // our command is gone unseen
  }
  JobEnd end = WIFEXITED(status) ? JobEnd{false, WEXITSTATUS(status)}
                                 : JobEnd{true, WTERMSIG(status)};
  std::string text = format_job_end(end);
  std::string path = init_end_path(options.pid_file);
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd >= 0) {
    [[maybe_unused]] ssize_t written = write(fd, text.data(), text.size());
    close(fd);
  }
  // Without the file the init's own exit says it, as a shell would (128 + signal).
  _exit(end.killed ? 128 + end.code : end.code);
}

// Writes NAME in the directory `dir_fd` all or nothing (NAME.tmp, fsync, rename), never
// following a symlink.
bool write_in_dir(int dir_fd, const std::string& name, const std::string& text) {
  std::string temporary = name + ".tmp";
  unlinkat(dir_fd, temporary.c_str(), 0);
  int fd = openat(dir_fd, temporary.c_str(),
                  O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) return false;
  bool ok = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
            fsync(fd) == 0;
  ok = close(fd) == 0 && ok;
  if (!ok || renameat(dir_fd, temporary.c_str(), dir_fd, name.c_str()) != 0) {
    unlinkat(dir_fd, temporary.c_str(), 0);
    return false;
  }
  fsync(dir_fd);
  return true;
}

// Whether this copy may record the job's end: the commit record names this node and the
// attempt that put the copy here. A copy killed after its job moved away must stay silent.
bool may_speak_for_job(int spool_fd, const ShimOptions& options) {
  if (options.node.empty()) return true;
  for (int attempt = 0; attempt < kEndWriteAttempts; ++attempt) {
    int fd = openat(spool_fd, std::string(kCommitRecordName).c_str(),
                    O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) return true;  // no record at all: nobody else speaks
    if (fd >= 0) {
      char text[kMaxCommitRecordBytes + 1];
      ssize_t got = read(fd, text, sizeof text);
      close(fd);
      if (got > 0 && parse_commit_record(std::string_view(text, static_cast<size_t>(got)))) {
        return may_record_end(std::string_view(text, static_cast<size_t>(got)), options.node,
                              options.attempt);
      }
    }
    // Unreadable (a storage node failing over): never guess; ask again.
    std::this_thread::sleep_for(kEndWriteRetry);
  }
  std::cerr << "clusterlive-job: cannot read the job's commit record in " << options.spool
            << "; recording the end anyway\n";
  return true;
}

// Records the end in the spool, retrying for a minute (a full disk may be cleaned, a
// storage node may come back); as a last resort beside the pid file, where this node's
// daemon still finds it. The job's status is never silently dropped.
bool record_end(int spool_fd, const ShimOptions& options, const JobEnd& end) {
  for (int attempt = 0; attempt < kEndWriteAttempts; ++attempt) {
    if (write_in_dir(spool_fd, "end", format_job_end(end))) return true;
    if (attempt == 0) {
      std::cerr << "clusterlive-job: cannot record the end of the job in " << options.spool
                << ": " << std::strerror(errno) << "; retrying\n";
    }
    std::this_thread::sleep_for(kEndWriteRetry);
  }
  std::string error;
  if (write_file_atomically(local_end_path(options.pid_file), format_job_end(end),
                            {0644, true, 0755}, error)) {
    return true;
  }
  std::cerr << "clusterlive-job: cannot record the end of the job anywhere: " << error << "\n";
  return false;
}


}  // namespace

std::string init_end_path(const std::string& pid_file) {
  std::string base = pid_file;
  if (base.size() > 4 && base.substr(base.size() - 4) == ".pid") base.resize(base.size() - 4);
  return base + ".exit";
}

std::string local_end_path(const std::string& pid_file) {
  std::string base = pid_file;
  if (base.size() > 4 && base.substr(base.size() - 4) == ".pid") base.resize(base.size() - 4);
  return base + ".end";
}

int run_shim(const ShimOptions& options) {
  if (options.argv.empty()) {
    std::cerr << "clusterlive-job: no command\n";
    return 1;
  }
  // Nothing of the daemon's reaches the job but what we pass on purpose.
  syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC);
  // Stopping the daemon's unit must not end the record of a job's life.
  std::signal(SIGTERM, SIG_IGN);
  std::signal(SIGINT, SIG_IGN);
  std::signal(SIGHUP, SIG_IGN);
  // Orphans of the job (none while its init lives) come to us, not to PID 1.
  prctl(PR_SET_CHILD_SUBREAPER, 1);

  std::vector<std::string> env = read_environment();
  int spool_fd = open_spool(options.spool);
  if (spool_fd < 0) return 1;
  int flags = O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC;
  int out_fd = openat(spool_fd, "stdout", flags);
  int err_fd = openat(spool_fd, "stderr", flags);
  if (out_fd < 0 || err_fd < 0) {
    std::cerr << "clusterlive-job: cannot open the output files in " << options.spool << ": "
              << std::strerror(errno) << "\n";
    return record_end(spool_fd, options, {false, kCannotExecute}) ? 0 : 1;
  }

  int report[2];
  if (pipe2(report, O_CLOEXEC) != 0) {
    tell_job_stderr(err_fd, std::string("pipe: ") + std::strerror(errno));
    return record_end(spool_fd, options, {false, kCannotExecute}) ? 0 : 1;
  }
  // The init reports the command's end beside the pid file, maybe before we write that.
  mkdir(std::filesystem::path(options.pid_file).parent_path().c_str(), 0755);
  // After this, our next child is PID 1 of a fresh PID namespace: the job can be restored
  // on any node with the same PIDs, since no other process lives in its namespace.
  if (unshare(CLONE_NEWPID) != 0) {
    tell_job_stderr(err_fd, std::string("cannot make a PID namespace: ") + std::strerror(errno));
    return record_end(spool_fd, options, {false, kCannotExecute}) ? 0 : 1;
  }
  pid_t job = fork();
  if (job < 0) {
    tell_job_stderr(err_fd, std::string("fork: ") + std::strerror(errno));
    return record_end(spool_fd, options, {false, kCannotExecute}) ? 0 : 1;
  }
  if (job == 0) {
    close(report[0]);
    run_job_init(options, env, out_fd, err_fd, report[1]);
  }
  close(report[1]);
  char reason[512];
  ssize_t got = read(report[0], reason, sizeof reason);
  close(report[0]);
  if (got > 0) {
    std::string text(reason, static_cast<size_t>(got));
    tell_job_stderr(err_fd, text.substr(text.find(' ') + 1));  // without the exit code
  }

  std::string error;
  if (!write_file_atomically(options.pid_file, pid_line(job), {0644, true, 0755}, error)) {
    // The job runs, but this node cannot tell or kill it until it ends; say so.
    std::cerr << "clusterlive-job: " << error << "\n";
  }

  return supervise_job(job, spool_fd, options);
}

int supervise_job(pid_t job, int spool_fd, const ShimOptions& options) {
  // Reap everything that comes to us; the job's status is the one that counts. The pid
  // file goes before the job's pid is freed, so no one can signal a reused pid through it.
  JobEnd end;
  for (;;) {
    siginfo_t info{};
    if (waitid(P_ALL, 0, &info, WEXITED | WNOWAIT) != 0) {
      if (errno == EINTR) continue;
      break;  // ECHILD: nothing left
    }
    if (info.si_pid == job) {
      unlink(options.pid_file.c_str());
      if (info.si_code == CLD_EXITED) end = {false, info.si_status};
      else end = {true, info.si_status};
      // The init says how the user's command ended; without its word (it was killed, say)
      // the init's own end is the job's.
      std::string init_end = init_end_path(options.pid_file);
      ReadResult said = read_file_bounded(init_end, 256);
      if (said.status == ReadStatus::ok && info.si_code == CLD_EXITED) {
        if (auto parsed = parse_job_end(said.text)) end = *parsed;
      }
      unlink(init_end.c_str());
    }
    waitpid(info.si_pid, nullptr, 0);
  }
  if (!may_speak_for_job(spool_fd, options)) {
    std::cerr << "clusterlive-job: " << options.spool << " runs elsewhere now; this copy ended "
              << "without recording an end\n";
    return 0;
  }
  return record_end(spool_fd, options, end) ? 0 : 1;
}

int supervise_adopted_job(pid_t job, uint64_t start_ticks, int spool_fd,
                          const ShimOptions& options) {
  // Opened first and checked after: a pidfd names one process, so once the start time still
  // matches, a reused pid cannot fool the wait below.
  int pidfd = static_cast<int>(syscall(SYS_pidfd_open, job, 0));
  ReadResult stat = read_file_bounded("/proc/" + std::to_string(job) + "/stat", 4096);
  std::optional<ProcessStat> parsed = parse_process_stat(stat.text);
  if (pidfd >= 0 && parsed && parsed->start_time_ticks == start_ticks) {
    pollfd exited{pidfd, POLLIN, 0};
    while (poll(&exited, 1, -1) < 0 && errno == EINTR) {
    }
  }
  if (pidfd >= 0) close(pidfd);
  unlink(options.pid_file.c_str());
  JobEnd end{true, SIGKILL};
  std::string init_end = init_end_path(options.pid_file);
  ReadResult said = read_file_bounded(init_end, 256);
  if (said.status == ReadStatus::ok) {
    if (auto word = parse_job_end(said.text)) end = *word;
  }
  unlink(init_end.c_str());
  if (!may_speak_for_job(spool_fd, options)) {
    std::cerr << "clusterlive-job: " << options.spool << " runs elsewhere now; this copy ended "
              << "without recording an end\n";
    return 0;
  }
  return record_end(spool_fd, options, end) ? 0 : 1;
}

int open_spool(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  struct stat st {};
  if (fd < 0 || fstat(fd, &st) != 0) {
    std::cerr << "clusterlive-job: " << path << ": " << std::strerror(errno) << "\n";
    if (fd >= 0) close(fd);
    return -1;
  }
  if (st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    std::cerr << "clusterlive-job: " << path << " is not root's alone; refusing to use it\n";
    close(fd);
    return -1;
  }
  return fd;
}

std::string pid_line(pid_t pid) {
  ReadResult stat = read_file_bounded("/proc/" + std::to_string(pid) + "/stat", 4096);
  std::optional<ProcessStat> parsed = parse_process_stat(stat.text);
  return std::to_string(pid) + " " + std::to_string(parsed ? parsed->start_time_ticks : 0) + "\n";
}

}  // namespace clusterlive
