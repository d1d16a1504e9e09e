// Running one CRIU request as a child process of a migration worker, with a deadline, and
// saying why it failed (the tail of its log).
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "core/migration.h"

namespace clusterlive {

/// Starts `argv` (argv[0] looked up in PATH) with stdin, stdout and stderr on /dev/null (CRIU
/// writes its own log). `keep_fd` (if >= 0) stays open in the child under the same number.
/// Returns the pid, or nullopt with `error`.
std::optional<pid_t> start_process(const std::vector<std::string>& argv, int keep_fd,
                                   std::string& error);

/// Waits for the child `pid` until `deadline` (monotonic_ms). Returns its wait status, or
/// nullopt if it still runs at the deadline.
std::optional<int> wait_process(pid_t pid, TimeMs deadline);

/// Kills and reaps the child `pid`.
void kill_process(pid_t pid);

/// "exit code 1" / "killed by signal 9" for a wait status.
std::string describe_status(int status);

/// The cause of a failed CRIU request, from its log, for an abort reason: a page server it
/// could not connect to, or else the first error line ("Error (criu/...): ...": the later
/// ones follow from it); the last line if there is none; "" if the log cannot be read.
std::string criu_log_error(const std::string& log_path);

/// Removes the directory tree `path` (never following symlinks), keeping files whose name
/// ends with `keep_suffix` (e.g. ".log") when it is not empty.
void remove_tree(const std::string& path, const std::string& keep_suffix = "");

}  // namespace clusterlive
