// The GNU build-id of a file on this node: the I/O edge of core/elf_build_id.h, which reads
// only the ELF header, the program (or section) headers and the notes through pread(2).
#pragma once

#include <string>

namespace clusterlive {

/// The lower-case hex build-id of the regular file at `path` (symlinks followed: mapped
/// libraries are often reached through one). "" if the file is not ELF, has no build-id,
/// or cannot be opened or read; a FIFO or device is never read.
std::string read_file_build_id(const std::string& path);

}  // namespace clusterlive
