// clusterlive: the command-line client of clusterlived's local API (see clusterlive(1)).
#include <unistd.h>

#include <iostream>

#include "cli/cli_app.h"

int main(int argc, char** argv) {
  clusterlive::cli::CliIo io{std::cin, std::cout, std::cerr};
  io.in_fd = isatty(STDIN_FILENO) ? STDIN_FILENO : -1;
  io.euid = geteuid();
  int code = clusterlive::cli::run_cli(argc, argv, io);
  std::cout.flush();
  return code;
}
