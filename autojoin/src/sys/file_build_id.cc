#include "sys/file_build_id.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <limits>
#include <vector>

#include "core/elf_build_id.h"
#include "sys/fd_guard.h"

namespace clusterlive {
namespace {

// Reads exactly `size` bytes at `offset`; false at the end of the file or on an error.
bool pread_exactly(int fd, uint64_t offset, size_t size, std::vector<uint8_t>& out) {
  constexpr uint64_t kMaxOffset = static_cast<uint64_t>(std::numeric_limits<off_t>::max());
  if (offset > kMaxOffset || size > kMaxOffset - offset) return false;
  out.resize(size);
  size_t done = 0;
  while (done < size) {
    ssize_t got = ::pread(fd, out.data() + done, size - done, static_cast<off_t>(offset + done));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;
    done += static_cast<size_t>(got);
  }
  return true;
}

}  // namespace

std::string read_file_build_id(const std::string& path) {
  // O_NONBLOCK: if the path was swapped for a FIFO since the caller looked, opening it must
  // not wait for a writer. It has no effect on the reads of a regular file.
  FdGuard file(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (file.get() < 0) return "";
  struct stat st {};
  if (::fstat(file.get(), &st) != 0 || !S_ISREG(st.st_mode)) return "";
  return elf_build_id([&file](uint64_t offset, size_t size, std::vector<uint8_t>& out) {
    return pread_exactly(file.get(), offset, size, out);
  });
}

}  // namespace clusterlive
