// The `clusterlive` command line: parsing (CLI11), one request to clusterlived through the
// local API, and the answer shown for a person or, with --json, for a script. main() only
// wires the real terminal to run_cli(); tests drive run_cli() with string streams.
#pragma once

#include <sys/types.h>

#include <istream>
#include <ostream>
#include <string>

#include "api/api_client.h"

namespace clusterlive::cli {

/// Time allowed for a request that only reads, connect to answer, in ms.
constexpr int kReadTimeoutMs = 15'000;
/// Time allowed for create and join, which rebuild the node's mesh, in ms.
constexpr int kChangeTimeoutMs = 60'000;

/// Where run_cli() reads and writes, and who runs it.
struct CliIo {
  std::istream& in;   ///< the key for `join` / `join -`, when not a terminal
  std::ostream& out;  ///< results
  std::ostream& err;  ///< errors and hints
  int in_fd = -1;     ///< the terminal to read a typed key from (echo off); -1: none
  uid_t euid = 0;     ///< who runs the command (join asks for root before reading the key)
};

/// Runs `clusterlive` with `argv`; returns the exit code (cli/exit_codes.h).
int run_cli(int argc, const char* const* argv, CliIo& io);

/// The exit code for a call that got no answer.
int exit_code_for(api::CallStatus status);
/// The exit code for an error answer with `code`.
int exit_code_for_error(const std::string& code);

}  // namespace clusterlive::cli
