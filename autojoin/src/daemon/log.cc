#include "daemon/log.h"

#include <unistd.h>

namespace clusterlive::log {
namespace {

void write_line(const char* priority, const std::string& message) {
  // One write per line, so lines from a crash-looping daemon never interleave.
  std::string line = std::string(priority) + message + "\n";
  ssize_t ignored = ::write(STDERR_FILENO, line.data(), line.size());
  (void)ignored;
}

}  // namespace

void info(const std::string& message) { write_line("<6>", message); }
void warning(const std::string& message) { write_line("<4>", message); }
void error(const std::string& message) { write_line("<3>", message); }

}  // namespace clusterlive::log
