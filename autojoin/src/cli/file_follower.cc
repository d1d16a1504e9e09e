#include "cli/file_follower.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

namespace clusterlive::cli {

namespace {

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

FileFollower::FileFollower(std::string path, int64_t hole_settle_ms)
    : path_(std::move(path)), hole_settle_ms_(hole_settle_ms) {}

std::string FileFollower::hold_back_holes(std::string bytes) {
  size_t nul = bytes.find('\0');
  if (nul == std::string::npos) {
    hole_seen_at_ms_.reset();
    return bytes;
  }
  if (nul > 0) {
    hole_seen_at_ms_.reset();
    bytes.resize(nul);
    return bytes;
  }
  if (!hole_seen_at_ms_) hole_seen_at_ms_ = now_ms();
  if (now_ms() - *hole_seen_at_ms_ < hole_settle_ms_) {
    reopen();  // the next read asks the server again instead of the cached gap
    return "";
  }
  hole_seen_at_ms_.reset();
  size_t data = bytes.find_first_not_of('\0');
  if (data != std::string::npos) bytes.resize(data);
  return bytes;
}

FileFollower::~FileFollower() { reopen(); }

void FileFollower::reopen() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
}

void FileFollower::fail(int error_number) {
  error_number_ = error_number;
  error_ = "cannot read " + path_ + ": " + std::strerror(error_number);
  reopen();
}

bool FileFollower::open_file() {
  if (fd_ >= 0) return true;
  if (!error_.empty()) return false;
  // O_NONBLOCK: a FIFO put where the file should be cannot make us wait for a writer.
  int fd = open(path_.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) {
    if (errno != ENOENT) fail(errno);
    return false;
  }
  struct stat st {};
  if (fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) {
    int e = S_ISDIR(st.st_mode) ? EISDIR : errno;
    close(fd);
    fail(e);
    return false;
  }
  fd_ = fd;
  found_ = true;
  return true;
}

std::string FileFollower::read_more(size_t max_bytes) {
  if (max_bytes == 0 || !open_file()) return "";
  std::string bytes(max_bytes, '\0');
  for (int attempt = 0; attempt < 2; ++attempt) {
    ssize_t n = pread(fd_, bytes.data(), max_bytes, static_cast<off_t>(offset_));
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return "";
    if (n < 0) {
      fail(errno);
      return "";
    }
    if (n > 0) {
      bytes.resize(static_cast<size_t>(n));
      bytes = hold_back_holes(std::move(bytes));
      offset_ += bytes.size();
      return bytes;
    }
    // Nothing past the offset: nothing new, or the file was truncated below it.
    struct stat st {};
    if (fstat(fd_, &st) != 0 || static_cast<uint64_t>(st.st_size) >= offset_) return "";
    offset_ = 0;
  }
  return "";
}

uint64_t FileFollower::copy_new(std::ostream& out, uint64_t limit) {
  uint64_t copied = 0;
  while (copied < limit) {
    std::string bytes = read_more();
    if (bytes.empty()) break;
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    copied += bytes.size();
  }
  out.flush();
  return copied;
}

}  // namespace clusterlive::cli
