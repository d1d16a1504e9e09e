// FdGuard: a file descriptor closed when it goes out of scope (file_io, file_build_id).
#pragma once

#include <unistd.h>

#include <cerrno>

namespace clusterlive {

// Closes an fd when it goes out of scope, or earlier with close_now().
class FdGuard {
 public:
  explicit FdGuard(int fd) : fd_(fd) {}
  FdGuard(const FdGuard&) = delete;
  FdGuard& operator=(const FdGuard&) = delete;
  ~FdGuard() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  /// Closes now and returns close()'s errno (0 if it succeeded).
  int close_now() {
    if (fd_ < 0) return 0;
    int result = ::close(fd_) == 0 ? 0 : errno;
    fd_ = -1;
    return result;
  }

 private:
  int fd_;
};

}  // namespace clusterlive
