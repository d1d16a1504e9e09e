// Getting the cluster key for `clusterlive join`: from a file, a pipe, or typed at a terminal
// with echo off. The key is never printed, and the buffers that held it are wiped.
#pragma once

#include <cstddef>
#include <istream>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

namespace clusterlive::cli {

/// Most bytes read as a key (a key file is 64 hex digits and a newline; some slack for
/// whitespace and CRLF). A bigger input is not a key file.
constexpr size_t kMaxKeyInputBytes = 4096;

/// Outcome of reading a key: the raw text read, or why it could not be read.
struct KeyInput {
  std::optional<std::string> text;
  std::string error;  ///< when `text` is not set
  KeyInput() = default;
  KeyInput(const KeyInput&) = delete;
  KeyInput& operator=(const KeyInput&) = delete;
  KeyInput(KeyInput&&) = default;
  KeyInput& operator=(KeyInput&&) = default;
  ~KeyInput();
};

/// Reads all of `in`, at most kMaxKeyInputBytes. `source` names it in errors.
KeyInput read_key_stream(std::istream& in, const std::string& source);

/// Reads the file at `path` (a regular file or a pipe, e.g. <(...)), at most
/// kMaxKeyInputBytes.
KeyInput read_key_file(const std::string& path);

/// Prompts on `prompt` and reads one line from the terminal `fd` with echo off (restored on
/// return, and if SIGINT, SIGTERM, SIGHUP or SIGQUIT arrives meanwhile).
KeyInput read_key_from_terminal(int fd, std::ostream& prompt);

/// The key in `raw`: surrounding whitespace stripped, then exactly 64 hex digits. nullopt and
/// `error` (prefixed with `source`, never quoting the text) when it is not a key.
std::optional<std::string> normalize_key(std::string_view raw, const std::string& source,
                                         std::string& error);

}  // namespace clusterlive::cli
