#include "cli/job_commands.h"

#include <poll.h>
#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <set>

#include "api/api_protocol.h"
#include "cli/exit_codes.h"
#include "cli/file_follower.h"
#include "cli/format.h"
#include "cli/migrate_command.h"
#include "sys/wall_clock.h"

namespace clusterlive::cli {
namespace {

using Clock = std::chrono::steady_clock;
using Kind = JobCommand::Kind;

/// Signals counted by InterruptCounter: Ctrl-C, a polite kill, the terminal going away.
constexpr int kInterruptSignals[] = {SIGINT, SIGTERM, SIGHUP};
constexpr size_t kInterruptSignalCount = sizeof kInterruptSignals / sizeof kInterruptSignals[0];

std::atomic<int> g_interrupts{0};
static_assert(std::atomic<int>::is_always_lock_free, "the signal handler needs a lock-free int");
struct sigaction g_saved_actions[kInterruptSignalCount];

void count_interrupt(int) { g_interrupts.fetch_add(1, std::memory_order_relaxed); }

/// Sleeps `ms`, or less when a signal arrives.
void pause_ms(int ms) { poll(nullptr, 0, ms); }

const char* kind_words(Kind kind) {
  switch (kind) {
    case Kind::run:
      return "run";
    case Kind::ps:
      return "ps";
    case Kind::job:
      return "job";
    case Kind::kill:
      return "kill";
    case Kind::wait:
      return "wait";
    case Kind::logs:
      return "logs";
    case Kind::migrate:
      return "migrate";
    case Kind::lock:
      return "lock";
    case Kind::unlock:
      return "unlock";
  }
  return "?";
}

/// run and wait exit with the job's status: their own failures are all kExitRunFailed.
int own_failure(Kind kind, int code) {
  return kind == Kind::run || kind == Kind::wait ? kExitRunFailed : code;
}

int64_t now_unix_ms(const CliIo& io) {
  if (io.now_unix_ms != 0) return io.now_unix_ms;
  return unix_time_ms();
}

/// The exit code for a file that could not be read.
int file_error_exit(int error_number) {
  return error_number == EACCES || error_number == EPERM ? kExitPermissionDenied : kExitFailed;
}

/// True when the job has a spool directory to read its output from (an absolute path).
bool has_spool(const api::JobView& job) { return !job.spool.empty() && job.spool[0] == '/'; }

/// What watching a job is for.
struct Watch {
  bool stream = false;  ///< copy its output as it grows
  /// Set: the first interrupt asks the daemon to kill the job (run in the foreground).
  const InterruptCounter* interrupts = nullptr;
};

struct WatchResult {
  std::optional<api::JobView> job;  ///< the ended job; nullopt: gave up (stderr says why)
  int output_errno = 0;             ///< an output file could not be read (stderr said so)
  bool output_missing = false;      ///< an output file was never found (stderr said so)
};

/// The job's two output files, copied to io.out and io.err as they grow.
class OutputCopier {
 public:
  OutputCopier(const std::string& spool, CliIo& io)
      : io_(io), out_(spool + "/" + api::kJobStdoutFile), err_(spool + "/" + api::kJobStderrFile) {}

  /// Copies what is new, at most `limit` bytes of each file; true when a file had more.
  bool copy(uint64_t limit) {
    bool more = out_.copy_new(io_.out, limit) >= limit;
    more |= err_.copy_new(io_.err, limit) >= limit;
    report(out_);
    report(err_);
    return more;
  }

  /// Copies all that is left, from freshly opened files (see FileFollower::reopen()), and
  /// says if a file was never there.
  void finish(WatchResult& result) {
    out_.reopen();
    err_.reopen();
    copy(UINT64_MAX);
    for (FileFollower* follower : {&out_, &err_}) {
      if (follower->error_number() != 0) result.output_errno = follower->error_number();
      if (!follower->found() && follower->error().empty()) {
        io_.err << "clusterlive: " << terminal_safe(follower->path())
                << " does not exist; the job's output there is not shown\n";
        result.output_missing = true;
      }
    }
  }

 private:
  void report(const FileFollower& follower) {
    if (follower.error().empty() || reported_.count(follower.path())) return;
    reported_.insert(follower.path());
    io_.err << "clusterlive: " << terminal_safe(follower.error())
            << "; the job's output there is not shown\n";
  }

  CliIo& io_;
  FileFollower out_;
  FileFollower err_;
  std::set<std::string> reported_;
};

/// Looks at `job` every io.poll_interval_ms until it has ended, copying its output meanwhile
/// when watch.stream. When clusterlived cannot be reached, keeps trying for
/// kJobContactGiveUpMs. With watch.interrupts, the first interrupt sends kill (once it
/// worked), and the kInterruptsToStopWaiting-th stops waiting.
WatchResult watch_job(api::Client& client, api::JobView job, const Watch& watch, CliIo& io) {
  WatchResult result;
  const std::string id = terminal_safe(job.id);
  std::unique_ptr<OutputCopier> output;
  if (watch.stream && has_spool(job)) {
    output = std::make_unique<OutputCopier>(job.spool, io);
  } else if (watch.stream) {
    io.err << "clusterlive: clusterlived gave no spool directory for job " << id
           << "; its output is not shown\n";
    result.output_missing = true;
  }
  int interrupts_handled = 0;
  bool kill_sent = false;
  bool kill_error_shown = false;
  bool contact_lost = false;
  Clock::time_point contact_lost_at{};
  bool unreachable_told = false;

  for (;;) {
    bool more_output = output && output->copy(kStreamBytesPerLook);
    if (job.ended()) break;
    // Its node may be cut off and come back, with the job still running: keep waiting, and
    // say why nothing happens.
    if (job.state == api::kJobUnreachable && !unreachable_told) {
      unreachable_told = true;
      io.err << "clusterlive: job " << id << "'s node " << terminal_safe(job.where)
             << " is unreachable; waiting for it to come back\n";
    } else if (job.state != api::kJobUnreachable && unreachable_told) {
      unreachable_told = false;
      io.err << "clusterlive: job " << id << " is " << terminal_safe(job.state) << " again\n";
    }

    int interrupts = watch.interrupts ? watch.interrupts->count() : 0;
    if (interrupts > interrupts_handled) {
      interrupts_handled = interrupts;
      if (interrupts >= kInterruptsToStopWaiting) {
        io.err << "clusterlive: stopped waiting for job " << id
               << ", which may still be running (see clusterlive ps; clusterlive wait " << id
               << " waits for it)\n";
        return result;
      }
      if (kill_sent) {
        io.err << "clusterlive: job " << id
               << " was asked to end; waiting for it (interrupt again to stop waiting)\n";
      }
    }
    // Interrupted: ask for the kill until the daemon takes it (a job that is still starting
    // cannot be killed yet), saying once why it did not work.
    if (interrupts_handled > 0 && !kill_sent) {
      api::Reply<api::JobView> killed = client.kill_job(job.id);
      if (killed.value) {
        kill_sent = true;
      } else if (!kill_error_shown) {
        kill_error_shown = true;
        io.err << "clusterlive: could not kill job " << id << " yet: ";
        const api::CallResult& call = killed.call;
        io.err << terminal_safe(call.status == api::CallStatus::answered
                                    ? call.response.error.message
                                    : call.message)
               << "; trying again\n";
      }
    }

    if (!more_output) pause_ms(io.poll_interval_ms);
    api::Reply<api::JobView> reply = client.job(job.id);
    if (reply.value) {
      if (contact_lost) io.err << "clusterlive: clusterlived answers again\n";
      contact_lost = false;
      job = std::move(*reply.value);
      continue;
    }
    const api::CallResult& call = reply.call;
    if (call.status == api::CallStatus::answered) {
      report_error(call.response.error, "job", false, io);
      return result;
    }
    if (call.status != api::CallStatus::not_running &&
        call.status != api::CallStatus::unreachable) {
      io.err << "clusterlive: " << terminal_safe(call.message) << "\n";
      return result;
    }
    if (!contact_lost) {
      contact_lost = true;
      contact_lost_at = Clock::now();
      io.err << "clusterlive: " << terminal_safe(call.message) << "; trying again for "
             << kJobContactGiveUpMs / 1000 << " s\n";
    } else if (Clock::now() - contact_lost_at > std::chrono::milliseconds(kJobContactGiveUpMs)) {
      io.err << "clusterlive: gave up: clusterlived did not come back; job " << id
             << " may still be running\n";
      return result;
    }
  }
  if (output) output->finish(result);
  result.job = std::move(job);
  return result;
}

/// Says how an ended job ended when its status alone does not; returns its exit code.
int job_exit(const api::JobView& job, CliIo& io) {
  const std::string id = terminal_safe(job.id);
  bool told = (job.state == api::kJobExited && job.exit_code) ||
              (job.state == api::kJobKilled && job.signal);
  if (job.state == api::kJobLost) {
    io.err << "clusterlive: job " << id << " was lost: no node runs it any more\n";
  } else if (!told) {
    io.err << "clusterlive: clusterlived did not say how job " << id << " ended ("
           << job_state_text(job) << ")\n";
  }
  return exit_code_for_job(job);
}

// run --on NODE: the job starts here, its home, and moves to NODE at once (a migration needs
// its processes running: their first moments are here). If it cannot move, it runs here and
// the user is told why; the run goes on either way. Progress and the outcome go to stderr
// (stdout is the job's output, or its id).
void move_to_requested_node(const std::string& node, api::Client& client,
                            const api::JobView& started, CliIo& io) {
  // The daemon knows the job's processes once its shim has written their pid: until then
  // the job shows no memory.
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  api::JobView job = started;
  while (!job.ended() && job.rss_kib == 0 && std::chrono::steady_clock::now() < give_up) {
    poll(nullptr, 0, std::min(io.poll_interval_ms, 200));
    api::Reply<api::JobView> reply = client.job(job.id);
    if (!reply.value) break;
    job = std::move(*reply.value);
  }
  if (job.ended()) return;  // nothing left to move: run shows how it ended
  JobCommand migrate;
  migrate.kind = JobCommand::Kind::migrate;
  migrate.job_id = job.id;
  migrate.target = node;
  CliIo to_stderr{io.in, io.err, io.err, io.in_fd, io.euid, {}, io.cwd, io.poll_interval_ms,
                  io.now_unix_ms};
  if (migrate_command(migrate, client, to_stderr) != kExitOk) {
    io.err << "clusterlive: " << terminal_safe(job.id) << " runs on " << terminal_safe(job.where)
           << " instead\n";
  }
}

int run_command(const JobCommand& command, api::Client& client, CliIo& io) {
  if (command.as_json && !command.detach) {
    io.err << "clusterlive: run --json needs --detach (in the foreground, the job's output is "
              "what is printed)\n";
    return kExitRunFailed;
  }
  if (command.argv.empty()) {
    io.err << "clusterlive: run needs a command: clusterlive run [-d] [--name NAME] [--] "
              "COMMAND [ARGS...]\n";
    return kExitRunFailed;
  }
  if (io.cwd.empty()) {
    io.err << "clusterlive: cannot tell the current directory (was it removed?)\n";
    return kExitRunFailed;
  }
  BuiltRun built = build_run_request(command.argv, io.cwd, io.environment, command.name);
  for (const std::string& warning : built.warnings) io.err << "clusterlive: " << warning << "\n";
  if (!built.request) {
    io.err << "clusterlive: " << built.error << "\n";
    return kExitRunFailed;
  }

  // Caught from before the request: an interrupt while the job is being started kills it
  // as soon as its id is known.
  std::optional<InterruptCounter> interrupts;
  if (!command.detach) interrupts.emplace();
  api::Reply<api::JobView> started = client.run_job(*built.request);
  if (!started.value) {
    report_failed_call(started.call, "run", command.as_json, io);
    return kExitRunFailed;
  }
  if (!command.on.empty()) move_to_requested_node(command.on, client, *started.value, io);
  if (command.detach) {
    if (command.as_json) {
      print_json(io.out, started.call.response.result);
    } else {
      io.out << terminal_safe(started.value->id) << "\n";
    }
    return kExitOk;
  }
  WatchResult watched = watch_job(client, *started.value, {true, &*interrupts}, io);
  if (!watched.job) return kExitRunFailed;
  return job_exit(*watched.job, io);
}

int wait_command(const JobCommand& command, api::Client& client, CliIo& io) {
  api::Reply<api::JobView> first = client.job(command.job_id);
  if (!first.value) {
    report_failed_call(first.call, "wait", command.as_json, io);
    return kExitRunFailed;
  }
  WatchResult watched = watch_job(client, *first.value, {}, io);
  if (!watched.job) return kExitRunFailed;
  if (command.as_json) print_json(io.out, api::job_result(*watched.job));
  return job_exit(*watched.job, io);
}

int logs_command(const JobCommand& command, api::Client& client, CliIo& io) {
  api::Reply<api::JobView> reply = client.job(command.job_id);
  if (!reply.value) return report_failed_call(reply.call, "logs", false, io);
  const api::JobView& job = *reply.value;
  if (!has_spool(job)) {
    io.err << "clusterlive: clusterlived gave no spool directory for job " << terminal_safe(job.id)
           << "\n";
    return kExitFailed;
  }
  if (command.follow) {
    WatchResult watched = watch_job(client, job, {true, nullptr}, io);
    if (!watched.job) return kExitFailed;
    if (watched.output_errno != 0) return file_error_exit(watched.output_errno);
    return watched.output_missing ? kExitFailed : kExitOk;
  }
  int code = kExitOk;
  FileFollower out(job.spool + "/" + api::kJobStdoutFile);
  FileFollower err(job.spool + "/" + api::kJobStderrFile);
  out.copy_new(io.out);
  err.copy_new(io.err);
  for (const FileFollower* follower : {&out, &err}) {
    if (!follower->error().empty()) {
      io.err << "clusterlive: " << terminal_safe(follower->error()) << "\n";
      code = file_error_exit(follower->error_number());
    } else if (!follower->found()) {
      io.err << "clusterlive: " << terminal_safe(follower->path()) << " does not exist\n";
      if (code == kExitOk) code = kExitFailed;
    }
  }
  return code;
}

}  // namespace

SplitCommandLine split_run_command(const std::vector<std::string>& args) {
  SplitCommandLine split;
  bool in_run = false;
  size_t i = 1;
  while (i < args.size()) {
    const std::string& arg = args[i];
    if (in_run && arg == "--") {
      split.options.assign(args.begin(), args.begin() + static_cast<ptrdiff_t>(i));
      split.command.assign(args.begin() + static_cast<ptrdiff_t>(i) + 1, args.end());
      return split;
    }
    if (arg == "--") break;  // before the subcommand: CLI11 will refuse it
    if (arg == "--socket" || (in_run && (arg == "--name" || arg == "--on"))) {
      i += 2;
      continue;
    }
    if (arg.size() > 1 && arg[0] == '-') {
      ++i;
      continue;
    }
    if (in_run) {
      split.options.assign(args.begin(), args.begin() + static_cast<ptrdiff_t>(i));
      split.command.assign(args.begin() + static_cast<ptrdiff_t>(i), args.end());
      return split;
    }
    if (arg != "run") break;  // another subcommand: CLI11 has it all
    in_run = true;
    ++i;
  }
  split.options = args;
  return split;
}

BuiltRun build_run_request(std::vector<std::string> argv, std::string cwd,
                           const std::vector<std::string>& environment, std::string name) {
  BuiltRun built;
  for (size_t i = 0; i < argv.size(); ++i) {
    if (!api::is_valid_utf8(argv[i])) {
      built.error = (i == 0 ? std::string("the command") : "argument " + std::to_string(i)) +
                    " is not valid UTF-8; clusterlived takes text only";
      return built;
    }
  }
  if (!api::is_valid_utf8(cwd)) {
    built.error = "the current directory's path is not valid UTF-8; clusterlived takes text only";
    return built;
  }
  if (!api::is_valid_utf8(name)) {
    built.error = "--name is not valid UTF-8";
    return built;
  }
  api::RunRequest run;
  run.argv = std::move(argv);
  run.cwd = std::move(cwd);
  run.name = std::move(name);
  for (const std::string& entry : environment) {
    size_t equals = entry.find('=');
    if (equals == std::string::npos || equals == 0) continue;  // not a variable
    std::string variable = entry.substr(0, equals);
    if (api::is_denied_job_env(variable)) {
      built.warnings.push_back(variable + " is not passed to the job");
      continue;
    }
    if (!api::is_valid_utf8(entry)) {
      built.warnings.push_back("the environment variable " + terminal_safe(variable) +
                               " is not passed to the job: it is not valid UTF-8");
      continue;
    }
    run.env.emplace(std::move(variable), entry.substr(equals + 1));  // the first one wins
  }

  api::Request request = api::run_request(std::move(run));
  if (std::optional<api::ApiError> error = api::check_arguments(request)) {
    // The checks are the daemon's; a problem with the name is told as the option's.
    const std::string name_member = "\"name\"";
    built.error = error->message;
    if (built.error.rfind(name_member, 0) == 0) {
      built.error = "--name" + built.error.substr(name_member.size());
    }
    return built;
  }
  size_t bytes = api::format_request(request).size();
  if (bytes > api::kMaxRequestBytes) {
    built.error = "the command line and the environment make a request of " +
                  std::to_string(bytes) + " bytes; clusterlived takes at most " +
                  std::to_string(api::kMaxRequestBytes) +
                  " (unset large environment variables, or pass fewer arguments)";
    return built;
  }
  built.request = std::move(request.run);
  return built;
}

int report_failed_call(const api::CallResult& call, const std::string& words, bool as_json,
                       CliIo& io) {
  if (call.status == api::CallStatus::answered) {
    return report_error(call.response.error, words, as_json, io);
  }
  io.err << "clusterlive: " << terminal_safe(call.message) << "\n";
  return exit_code_for(call.status);
}

int exit_code_for_job(const api::JobView& job) {
  if (job.state == api::kJobExited && job.exit_code && *job.exit_code >= 0 &&
      *job.exit_code <= 255) {
    return *job.exit_code;
  }
  if (job.state == api::kJobKilled && job.signal && *job.signal > 0 && *job.signal < 128) {
    return kExitSignalBase + *job.signal;
  }
  return kExitRunFailed;
}

InterruptCounter::InterruptCounter() {
  g_interrupts.store(0);
  struct sigaction action {};
  action.sa_handler = count_interrupt;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;  // writes to the terminal go on; poll() still wakes up
  for (size_t i = 0; i < kInterruptSignalCount; ++i) {
    sigaction(kInterruptSignals[i], &action, &g_saved_actions[i]);
  }
}

InterruptCounter::~InterruptCounter() {
  for (size_t i = 0; i < kInterruptSignalCount; ++i) {
    sigaction(kInterruptSignals[i], &g_saved_actions[i], nullptr);
  }
}

int InterruptCounter::count() const { return g_interrupts.load(); }

int run_job_command(const JobCommand& command, const std::string& socket_path, CliIo& io) {
  api::ClientOptions options;
  options.timeout_ms = command.kind == Kind::run       ? kRunTimeoutMs
                       : command.kind == Kind::migrate ? kMigrateTimeoutMs
                                                       : kReadTimeoutMs;
  api::Client client(socket_path, options);
  const std::string words = kind_words(command.kind);
  switch (command.kind) {
    case Kind::run:
      return run_command(command, client, io);
    case Kind::wait:
      return wait_command(command, client, io);
    case Kind::logs:
      return logs_command(command, client, io);
    case Kind::migrate:
      return migrate_command(command, client, io);
    case Kind::ps: {
      api::Reply<std::vector<api::JobView>> reply = client.jobs();
      if (!reply.value) return report_failed_call(reply.call, words, command.as_json, io);
      if (command.as_json) {
        print_json(io.out, reply.call.response.result);
      } else {
        io.out << format_jobs(*reply.value, now_unix_ms(io));
      }
      return kExitOk;
    }
    case Kind::job:
    case Kind::kill: {
      api::Reply<api::JobView> reply =
          command.kind == Kind::job ? client.job(command.job_id) : client.kill_job(command.job_id);
      if (!reply.value) return report_failed_call(reply.call, words, command.as_json, io);
      if (command.as_json) {
        print_json(io.out, reply.call.response.result);
      } else if (command.kind == Kind::job) {
        io.out << format_job(*reply.value);
      }
      return kExitOk;
    }
    case Kind::lock:
    case Kind::unlock: {
      api::Reply<api::JobView> reply =
          client.set_job_locked(command.job_id, command.kind == Kind::lock);
      if (!reply.value) return report_failed_call(reply.call, words, command.as_json, io);
      if (command.as_json) {
        print_json(io.out, reply.call.response.result);
      } else {
        io.out << format_lock_change(*reply.value) << "\n";
      }
      return kExitOk;
    }
  }
  return own_failure(command.kind, kExitFailed);
}

}  // namespace clusterlive::cli
