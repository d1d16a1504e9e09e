// A scratch directory for the adapters' tests, with helpers to lay out fixture files.
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>

namespace clusterlive::testing {

/// A fresh directory under $TMPDIR (or /tmp), removed with everything in it at the end.
class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = std::string(base && *base ? base : "/tmp") + "/clusterlive-sys-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }

  const std::string& path() const { return path_; }

  /// path() + "/" + relative.
  std::string at(const std::string& relative) const { return path_ + "/" + relative; }

  /// Writes `text` to `relative`, creating the directories on the way.
  std::string write(const std::string& relative, const std::string& text) const {
    std::string file = at(relative);
    std::filesystem::create_directories(std::filesystem::path(file).parent_path());
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out) throw std::runtime_error("cannot write " + file);
    return file;
  }

  /// Creates the directory `relative` and its parents.
  std::string mkdirs(const std::string& relative) const {
    std::filesystem::create_directories(at(relative));
    return at(relative);
  }

 private:
  std::string path_;
};

/// The whole contents of `path` ("" if it cannot be read). libstdc++ throws when a read fails
/// after the open, as reading /proc/PID/stat does (ESRCH) when the process just exited.
inline std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  try {
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  } catch (const std::ios_base::failure&) {
    return "";
  }
}

/// True if `path` exists (without following a final symlink).
inline bool exists(const std::string& path) {
  struct stat status {};
  return ::lstat(path.c_str(), &status) == 0;
}

/// Permission bits of `path` (0 if it does not exist).
inline mode_t mode_of(const std::string& path) {
  struct stat status {};
  if (::stat(path.c_str(), &status) != 0) return 0;
  return status.st_mode & 07777;
}

}  // namespace clusterlive::testing
