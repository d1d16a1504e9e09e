// clusterlive: the command-line client of clusterlived's local API (see clusterlive(1)).
#include <unistd.h>

#include <cerrno>
#include <iostream>
#include <string>
#include <vector>

#include "cli/cli_app.h"

extern char** environ;

namespace {

/// The working directory, "" when it cannot be told (removed, or a path too long).
std::string current_directory() {
  std::vector<char> buffer(4096);
  for (;;) {
    if (getcwd(buffer.data(), buffer.size())) return buffer.data();
    if (errno != ERANGE || buffer.size() >= (1u << 20)) return "";
    buffer.resize(buffer.size() * 2);
  }
}

}  // namespace

int main(int argc, char** argv) {
  clusterlive::cli::CliIo io{std::cin, std::cout, std::cerr};
  io.in_fd = isatty(STDIN_FILENO) ? STDIN_FILENO : -1;
  io.euid = geteuid();
  for (char** entry = environ; entry && *entry; ++entry) io.environment.emplace_back(*entry);
  io.cwd = current_directory();
  int code = clusterlive::cli::run_cli(argc, argv, io);
  std::cout.flush();
  return code;
}
