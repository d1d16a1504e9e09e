// The `clusterlive` command line: parsing (CLI11), requests to clusterlived through the local
// API, and the answers shown for a person or, with --json, for a script. The job commands
// (run, ps, job, kill, wait, logs) are in cli/job_commands, migrate in cli/migrate_command. main()
// only wires the real terminal, environment and working directory to run_cli(); tests drive
// run_cli() with string streams.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <istream>
#include <ostream>
#include <string>
#include <vector>

#include "api/api_client.h"

namespace clusterlive::cli {

/// Time allowed for a request that only reads, connect to answer, in ms.
constexpr int kReadTimeoutMs = 15'000;
/// Time allowed for create and join, which rebuild the node's mesh, in ms.
constexpr int kChangeTimeoutMs = 60'000;
/// Time allowed for run, which sets up the job's spool and namespaces, in ms.
constexpr int kRunTimeoutMs = 60'000;
/// Pause between two looks at a job (its status and its output files) while run streams its
/// output, wait waits, logs -f follows and migrate waits, in ms.
constexpr int kJobPollIntervalMs = 200;

/// Where run_cli() reads and writes, and who runs it.
struct CliIo {
  std::istream& in;   ///< the key for `join` / `join -`, when not a terminal
  std::ostream& out;  ///< results
  std::ostream& err;  ///< errors and hints
  int in_fd = -1;     ///< the terminal to read a typed key from (echo off); -1: none
  uid_t euid = 0;     ///< who runs the command (join asks for root before reading the key)
  /// For run: the caller's environment, "NAME=VALUE" strings (main: environ).
  std::vector<std::string> environment{};
  /// For run: the working directory the job starts in (main: getcwd(); "": cannot tell).
  std::string cwd{};
  /// Pause between looks at a job, in ms (tests shorten it).
  int poll_interval_ms = kJobPollIntervalMs;
  /// For ps: now, in ms since the Unix epoch (tests fix it); 0: the system clock.
  int64_t now_unix_ms = 0;
};

/// Runs `clusterlive` with `argv`; returns the exit code (cli/exit_codes.h).
int run_cli(int argc, const char* const* argv, CliIo& io);

/// The exit code for a call that got no answer.
int exit_code_for(api::CallStatus status);
/// The exit code for an error answer with `code`.
int exit_code_for_error(const std::string& code);

/// Prints an error answer of clusterlived to `command` (words as typed, e.g. "key show"),
/// also as JSON on io.out when `as_json`; returns exit_code_for_error().
int report_error(const api::ApiError& error, const std::string& command, bool as_json, CliIo& io);

/// Prints `value` as indented JSON, and a newline.
void print_json(std::ostream& out, const nlohmann::json& value);

}  // namespace clusterlive::cli
