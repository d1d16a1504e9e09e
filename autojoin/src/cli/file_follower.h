// Following a file that another process appends to: a job's standard output or error in its
// spool directory, which grows while the job runs, wherever in the cluster it runs. The
// follower remembers how far it has read and returns what was appended since; `run`, `logs`
// and `logs -f` copy those bytes to the terminal.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>

namespace clusterlive::cli {

/// Most bytes one read_more() returns.
constexpr size_t kFollowChunkBytes = 64 * 1024;
/// NUL bytes at the read offset are held back this long, in ms, before they count as output.
/// On NFS a file written on another node can show its new size before all its data: the gap
/// reads as NULs until the writer's client has sent it. Real NULs in a job's output (binary
/// output) are delayed by this much, never lost.
constexpr int64_t kHoleSettleMs = 3'000;

class FileFollower {
 public:
  explicit FileFollower(std::string path, int64_t hole_settle_ms = kHoleSettleMs);
  ~FileFollower();
  FileFollower(const FileFollower&) = delete;
  FileFollower& operator=(const FileFollower&) = delete;

  /// The bytes appended since the last call, at most `max_bytes`; "" when there is nothing
  /// new (NULs at the offset are held back for a while: kHoleSettleMs). A file that does not exist (yet) has nothing new. A file that became shorter than
  /// what was read (truncated) is read again from its start, as `tail -f` does. After an
  /// error other than "does not exist", error() says what went wrong and this returns "".
  std::string read_more(size_t max_bytes = kFollowChunkBytes);

  /// Closes the file; the next read_more() opens it again and goes on where it stopped. On
  /// NFS, opening a file is what makes the client fetch its current size (close-to-open
  /// consistency), so a job's output written on another node is seen in full only after
  /// this: call it once the job has ended, before reading the rest.
  void reopen();

  /// Copies what was appended since the last read to `out`, up to about `limit` bytes (whole
  /// chunks), and flushes it. Returns the bytes copied.
  uint64_t copy_new(std::ostream& out, uint64_t limit = UINT64_MAX);

  const std::string& path() const { return path_; }
  /// True once the file has been opened (it exists and may be read).
  bool found() const { return found_; }
  /// Why the file cannot be read ("cannot read PATH: Permission denied"), "" while it can.
  const std::string& error() const { return error_; }
  /// The errno behind error(), 0 without one.
  int error_number() const { return error_number_; }
  /// Bytes read so far (the offset in the file the next read starts at).
  uint64_t offset() const { return offset_; }

 private:
  /// Opens the file if it is not open; false if it is not there (yet) or cannot be opened.
  bool open_file();
  void fail(int error_number);

  /// What read_more() returns of `bytes`, just read at offset_: up to the first NUL, or the
  /// NULs themselves once they have stayed put for hole_settle_ms_.
  std::string hold_back_holes(std::string bytes);

  std::string path_;
  int64_t hole_settle_ms_;
  std::optional<int64_t> hole_seen_at_ms_;  ///< when NULs were first seen at offset_
  int fd_ = -1;
  bool found_ = false;
  uint64_t offset_ = 0;
  std::string error_;
  int error_number_ = 0;
};

}  // namespace clusterlive::cli
