#include "cli/secret_input.h"

#include <fcntl.h>
#include <signal.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "api/api_protocol.h"

namespace clusterlive::cli {
namespace {

constexpr std::string_view kWhitespace = " \t\r\n\v\f";
constexpr int kRestoredSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

KeyInput key_error(std::string message) {
  KeyInput input;
  input.error = std::move(message);
  return input;
}

KeyInput key_text(std::string text) {
  KeyInput input;
  input.text = std::move(text);
  return input;
}

std::string too_big(const std::string& source) {
  return source + " is larger than " + std::to_string(kMaxKeyInputBytes) +
         " bytes: not a cluster key";
}

// The terminal state to put back if a signal ends the program while echo is off. Only
// touched by the main thread and the signal handler (async-signal-safe calls only).
int g_terminal_fd = -1;
termios g_saved_terminal{};
struct sigaction g_saved_actions[sizeof kRestoredSignals / sizeof kRestoredSignals[0]];

extern "C" void restore_terminal_and_die(int signal_number) {
  if (g_terminal_fd >= 0) tcsetattr(g_terminal_fd, TCSAFLUSH, &g_saved_terminal);
  ::signal(signal_number, SIG_DFL);
  ::raise(signal_number);
}

}  // namespace

KeyInput::~KeyInput() {
  if (text) api::wipe(*text);
}

KeyInput read_key_stream(std::istream& in, const std::string& source) {
  std::string text;
  char chunk[512];
  while (in.read(chunk, sizeof chunk) || in.gcount() > 0) {
    text.append(chunk, static_cast<size_t>(in.gcount()));
    explicit_bzero(chunk, sizeof chunk);
    if (text.size() > kMaxKeyInputBytes) {
      api::wipe(text);
      return key_error(too_big(source));
    }
  }
  if (in.bad()) {
    api::wipe(text);
    return key_error("cannot read " + source);
  }
  return key_text(std::move(text));
}

KeyInput read_key_file(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return key_error("cannot open " + path + ": " + std::strerror(errno));
  std::string text;
  char chunk[512];
  for (;;) {
    ssize_t n = read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int e = errno;
      close(fd);
      api::wipe(text);
      return key_error("cannot read " + path + ": " + std::strerror(e));
    }
    if (n == 0) break;
    text.append(chunk, static_cast<size_t>(n));
    explicit_bzero(chunk, sizeof chunk);
    if (text.size() > kMaxKeyInputBytes) {
      close(fd);
      api::wipe(text);
      return key_error(too_big(path));
    }
  }
  close(fd);
  return key_text(std::move(text));
}

KeyInput read_key_from_terminal(int fd, std::ostream& prompt) {
  termios saved{};
  if (tcgetattr(fd, &saved) != 0) {
    return key_error(std::string("cannot set up the terminal: ") + std::strerror(errno));
  }
  g_saved_terminal = saved;
  g_terminal_fd = fd;
  struct sigaction action {};
  action.sa_handler = restore_terminal_and_die;
  sigemptyset(&action.sa_mask);
  for (size_t i = 0; i < std::size(kRestoredSignals); ++i) {
    sigaction(kRestoredSignals[i], &action, &g_saved_actions[i]);
  }
  termios quiet = saved;
  quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
  quiet.c_lflag |= ECHONL;  // the Enter still moves to the next line
  tcsetattr(fd, TCSAFLUSH, &quiet);

  prompt << "Cluster key (64 hex digits, not shown): " << std::flush;
  std::string text;
  std::string error;
  for (;;) {
    char c = 0;
    ssize_t n = read(fd, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      error = std::string("cannot read the terminal: ") + std::strerror(errno);
      break;
    }
    if (n == 0 || c == '\n') break;
    text.push_back(c);
    c = 0;
    if (text.size() > kMaxKeyInputBytes) {
      error = too_big("the typed key");
      break;
    }
  }

  tcsetattr(fd, TCSAFLUSH, &saved);
  for (size_t i = 0; i < std::size(kRestoredSignals); ++i) {
    sigaction(kRestoredSignals[i], &g_saved_actions[i], nullptr);
  }
  g_terminal_fd = -1;
  if (!error.empty()) {
    api::wipe(text);
    return key_error(error);
  }
  return key_text(std::move(text));
}

std::optional<std::string> normalize_key(std::string_view raw, const std::string& source,
                                         std::string& error) {
  size_t first = raw.find_first_not_of(kWhitespace);
  if (first == std::string_view::npos) {
    error = source + " is empty: no cluster key in it";
    return std::nullopt;
  }
  size_t last = raw.find_last_not_of(kWhitespace);
  std::string_view key = raw.substr(first, last - first + 1);
  std::string why = api::check_secret_text(key);
  if (!why.empty()) {
    error = source + ": " + why;
    return std::nullopt;
  }
  return std::string(key);
}

}  // namespace clusterlive::cli
