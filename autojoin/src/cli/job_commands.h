// The job commands of `clusterlive`: run (detached, or in the foreground streaming the job's
// output and ending with its exit status), ps, job, kill, wait, logs, lock and unlock; migrate is
// in cli/migrate_command. Their pieces are plain functions, tested on their own: splitting a run
// command line, building the run request from the caller's environment, the exit status for an
// ended job.
#pragma once

#include <atomic>
#include <optional>
#include <string>
#include <vector>

#include "api/api_client.h"
#include "api/api_types.h"
#include "cli/cli_app.h"

namespace clusterlive::cli {

/// While a job is followed, how long clusterlived may stay unreachable (restarting, too busy)
/// before clusterlive gives up, in ms.
constexpr int kJobContactGiveUpMs = 60'000;
/// Most bytes of each output file copied per look at a running job, so that a job writing
/// fast cannot keep clusterlive from looking at its status (the rest comes in the next look,
/// which then follows at once).
constexpr uint64_t kStreamBytesPerLook = 4 * 1024 * 1024;
/// Interrupts after which a foreground run stops waiting for the job it asked to kill (the
/// first one asks).
constexpr int kInterruptsToStopWaiting = 3;

/// A `run` command line cut in two: what CLI11 parses (the program name, global options,
/// "run" and its options) and the job's command, which it must not see (its options are the
/// command's own).
struct SplitCommandLine {
  std::vector<std::string> options;
  std::vector<std::string> command;  ///< empty unless the subcommand is run
};

/// Splits `args` (args[0] is the program name) before the job's command: the first word
/// after "run" and its options that does not start with "-", or whatever follows "--"
/// (which is dropped). "--socket" and "--name" take the next word as their value. When the
/// subcommand is not run, everything is `options`.
SplitCommandLine split_run_command(const std::vector<std::string>& args);

/// A run request made from the command line, or why not.
struct BuiltRun {
  std::optional<api::RunRequest> request;
  std::string error;                  ///< when there is no request: for the user
  std::vector<std::string> warnings;  ///< variables left out, for the user
};

/// The request for running `argv` in `cwd` as `name`, with `environment` ("NAME=VALUE"
/// strings): variables of kJobEnvDenylist and variables that are not UTF-8 are left out, with
/// a warning (the API carries text). An argument or directory that is not UTF-8, a request
/// check_arguments() refuses, or one longer than kMaxRequestBytes is an error.
BuiltRun build_run_request(std::vector<std::string> argv, std::string cwd,
                           const std::vector<std::string>& environment, std::string name);

/// Prints why `call` brought no value (an error answer to `words`, the command as typed, or no
/// answer at all); returns the exit code for it.
int report_failed_call(const api::CallResult& call, const std::string& words, bool as_json,
                       CliIo& io);

/// The status run and wait end with for an ended job: its exit code (0..255); kExitSignalBase
/// + the signal that killed it; kExitRunFailed when it was lost or the daemon did not say.
int exit_code_for_job(const api::JobView& job);

/// Counts SIGINT, SIGTERM and SIGHUP from its construction to its destruction, instead of
/// letting them end clusterlive (the previous dispositions come back after). One at a time.
class InterruptCounter {
 public:
  InterruptCounter();
  ~InterruptCounter();
  InterruptCounter(const InterruptCounter&) = delete;
  InterruptCounter& operator=(const InterruptCounter&) = delete;
  /// Signals caught so far.
  int count() const;
};

/// What a job command was asked to do.
struct JobCommand {
  enum class Kind { run, ps, job, kill, wait, logs, migrate, lock, unlock };
  Kind kind = Kind::ps;
  bool as_json = false;
  std::string job_id;             ///< every kind but run and ps
  std::string target;             ///< migrate: a node id, "home" or "best"
  bool no_wait = false;           ///< migrate --no-wait
  std::vector<std::string> argv;  ///< run: the command
  std::string name;               ///< run --name
  bool detach = false;            ///< run -d
  std::string on;                 ///< run --on: a node id or "best" to move the job to at once
  bool follow = false;            ///< logs -f
};

/// Runs a job command against `socket_path`; returns the exit code.
int run_job_command(const JobCommand& command, const std::string& socket_path, CliIo& io);

}  // namespace clusterlive::cli
