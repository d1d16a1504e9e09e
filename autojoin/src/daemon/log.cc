#include "daemon/log.h"

#include <unistd.h>

namespace clusterlive::log {
namespace {

void write_line(const char* priority, const std::string& message) {
  // One write per line, so lines from a crash-looping daemon never interleave. Messages
  // quote text from users and peers: a newline in it must not start a forged journal line.
  std::string line = std::string(priority);
  for (char c : message) {
    line += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
  }
  line += "\n";
  ssize_t ignored = ::write(STDERR_FILENO, line.data(), line.size());
  (void)ignored;
}

}  // namespace

void info(const std::string& message) { write_line("<6>", message); }
void warning(const std::string& message) { write_line("<4>", message); }
void error(const std::string& message) { write_line("<3>", message); }

}  // namespace clusterlive::log
