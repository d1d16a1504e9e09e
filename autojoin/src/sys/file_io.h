// Careful reads and writes of small files, shared by the adapters in src/sys: bounded reads
// (of /proc files, key files, caches) and atomic replacement (temporary file, fsync, rename,
// fsync of the directory). Errors are returned as "path: reason" text, never logged here.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <string>
#include <string_view>

namespace clusterlive {

enum class ReadStatus {
  ok,         ///< `text` holds the whole file
  not_found,  ///< the file does not exist (ENOENT, or ENOTDIR: a parent is not a directory)
  too_large,  ///< the file is bigger than the limit; `text` is empty
  error,      ///< anything else: not a regular file, permission denied, I/O error...
};

/// Outcome of read_file_bounded().
struct ReadResult {
  ReadStatus status = ReadStatus::error;
  std::string text;   ///< the contents when status is ok
  std::string error;  ///< "path: reason" when status is too_large or error
};

/// Reads all of `path` if it is a regular file of at most `max_bytes` bytes. Works for /proc
/// files (whose size reads as 0): the limit is checked on the bytes actually read. A FIFO or
/// device is refused rather than read, so a planted FIFO cannot block the caller.
ReadResult read_file_bounded(const std::string& path, size_t max_bytes);

/// How write_file_atomically() creates the file.
struct AtomicWriteOptions {
  mode_t mode = 0644;          ///< mode of the new file, exactly (the umask is not applied)
  bool create_parent = false;  ///< create the parent directory if it is missing (not its parents)
  mode_t parent_mode = 0700;   ///< mode of a parent directory created here
};

/// Replaces `path` with `text`, all or nothing: writes `path`.tmp (O_CREAT | O_EXCL |
/// O_NOFOLLOW, so a planted file or symlink there is never written through; a stale one
/// left by a crash is removed first), fsyncs it, renames it over `path` and fsyncs the
/// directory. On an error before the rename (e.g. ENOSPC, EROFS, a parent that is a file),
/// `path` is untouched, the temporary file is removed and false is returned with `error`
/// set. If only the final directory fsync fails, the new contents are already in place;
/// false is returned all the same (they may not survive a power cut), and `error` says so.
bool write_file_atomically(const std::string& path, std::string_view text,
                           const AtomicWriteOptions& options, std::string& error);

/// `absolute_path` under `root`: root "" or "/" is the real root, anything else is prefixed
/// ("/tmp/t" + "/run/x" = "/tmp/t/run/x"). Lets tests point the adapters at a fixture tree.
std::string path_under_root(const std::string& root, std::string_view absolute_path);

/// "reason" for an errno value (strerror text).
std::string errno_text(int errno_value);

}  // namespace clusterlive
