#include "sys/file_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "sys/fd_guard.h"

namespace clusterlive {
namespace {

std::string parent_directory(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

bool write_all(int fd, std::string_view text) {
  while (!text.empty()) {
    ssize_t written = ::write(fd, text.data(), text.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    if (written == 0) {  // not expected from a regular file; do not spin
      errno = EIO;
      return false;
    }
    text.remove_prefix(static_cast<size_t>(written));
  }
  return true;
}

}  // namespace

std::string errno_text(int errno_value) {
  char buffer[256] = {};
  // GNU strerror_r (g++ defines _GNU_SOURCE): returns a pointer, maybe not into `buffer`.
  return strerror_r(errno_value, buffer, sizeof buffer);
}

ReadResult read_file_bounded(const std::string& path, size_t max_bytes) {
  ReadResult result;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) {
    if (errno == ENOENT || errno == ENOTDIR) {
      result.status = ReadStatus::not_found;
    } else {
      result.error = path + ": " + errno_text(errno);
    }
    return result;
  }
  FdGuard guard(fd);
  struct stat status {};
  if (::fstat(fd, &status) != 0) {
    result.error = path + ": " + errno_text(errno);
    return result;
  }
  if (!S_ISREG(status.st_mode)) {
    result.error = path + ": not a regular file";
    return result;
  }
  std::string text;
  char buffer[4096];
  while (true) {
    ssize_t got = ::read(fd, buffer, sizeof buffer);
    if (got < 0) {
      if (errno == EINTR) continue;
      result.error = path + ": " + errno_text(errno);
      return result;
    }
    if (got == 0) break;
    if (text.size() + static_cast<size_t>(got) > max_bytes) {
      result.status = ReadStatus::too_large;
      result.error = path + ": too large (more than " + std::to_string(max_bytes) + " bytes)";
      return result;
    }
    text.append(buffer, static_cast<size_t>(got));
  }
  result.status = ReadStatus::ok;
  result.text = std::move(text);
  return result;
}

bool write_file_atomically(const std::string& path, std::string_view text,
                           const AtomicWriteOptions& options, std::string& error) {
  const std::string parent = parent_directory(path);
  if (options.create_parent) {
    if (::mkdir(parent.c_str(), options.parent_mode) == 0) {
      // mkdir applied the umask; set the mode asked for exactly.
      if (::chmod(parent.c_str(), options.parent_mode) != 0) {
        error = parent + ": " + errno_text(errno);
        return false;
      }
    } else if (errno != EEXIST) {
      error = parent + ": cannot create directory: " + errno_text(errno);
      return false;
    }
  }

  const std::string temporary = path + ".tmp";
  constexpr int kCreateFlags = O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW;
  int fd = ::open(temporary.c_str(), kCreateFlags, options.mode);
  if (fd < 0 && errno == EEXIST) {
    // Left by a crash between create and rename (or a planted symlink: unlink removes the
    // link, never its target). O_EXCL still guarantees we write only a file we created.
    ::unlink(temporary.c_str());
    fd = ::open(temporary.c_str(), kCreateFlags, options.mode);
  }
  if (fd < 0) {
    error = temporary + ": " + errno_text(errno);
    return false;
  }
  FdGuard guard(fd);
  auto fail = [&](const std::string& what, int errno_value) {
    error = what + ": " + errno_text(errno_value);
    guard.close_now();
    ::unlink(temporary.c_str());
    return false;
  };
  if (::fchmod(fd, options.mode) != 0) return fail(temporary, errno);
  if (!write_all(fd, text)) return fail(temporary, errno);
  if (::fsync(fd) != 0) return fail(temporary, errno);
  if (int close_errno = guard.close_now(); close_errno != 0) return fail(temporary, close_errno);
  if (::rename(temporary.c_str(), path.c_str()) != 0) return fail(path, errno);

  // The rename is done: the new contents are in place. Make the rename itself durable.
  int directory = ::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (directory < 0) {
    error = parent + ": written, but the directory cannot be synced: " + errno_text(errno);
    return false;
  }
  FdGuard directory_guard(directory);
  if (::fsync(directory) != 0 && errno != EINVAL) {  // EINVAL: the fs cannot sync directories
    error = parent + ": written, but the directory cannot be synced: " + errno_text(errno);
    return false;
  }
  return true;
}

std::string path_under_root(const std::string& root, std::string_view absolute_path) {
  std::string_view prefix = root;
  while (!prefix.empty() && prefix.back() == '/') prefix.remove_suffix(1);
  return std::string(prefix) + std::string(absolute_path);
}

}  // namespace clusterlive
