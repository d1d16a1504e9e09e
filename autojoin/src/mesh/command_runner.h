// Running the system's network tools (ip, wg): behind an interface so the WireGuard adapter
// can be tested with a fake that records commands instead of changing the host.
#pragma once

#include <string>
#include <vector>

namespace clusterlive {

struct CommandResult {
  int exit_code = -1;  ///< -1: could not be started or was killed by a signal
  std::string output;  ///< stdout
  std::string error;   ///< stderr, or why it could not be started
  bool ok() const { return exit_code == 0; }
};

class CommandRunner {
 public:
  virtual ~CommandRunner() = default;
  /// Runs argv[0] (looked up in PATH) with the arguments and waits for it.
  virtual CommandResult run(const std::vector<std::string>& argv) = 0;
};

/// Runs real processes (fork + exec), capturing stdout and stderr (each at most 1 MiB).
class ProcessRunner final : public CommandRunner {
 public:
  CommandResult run(const std::vector<std::string>& argv) override;
};

/// "ip link add ..." for logs and error messages.
std::string command_line(const std::vector<std::string>& argv);

}  // namespace clusterlive
