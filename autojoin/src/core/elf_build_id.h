// The GNU build-id of an ELF file (the NT_GNU_BUILD_ID note the linker writes with
// --build-id), which the pre-flight compares between two nodes to tell whether a mapped
// binary or library is the same build on both. Pure: the caller hands in a function that
// reads a range of the file, so only the ELF header, the program (or section) headers and
// the note segments are ever read, never a whole library. The file may be truncated or
// hostile: every offset and size it gives is checked, and the headers and notes looked at
// are capped.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

namespace clusterlive {

/// Most program headers looked at (an executable or library has about 10 to 15).
constexpr size_t kMaxElfProgramHeaders = 256;
/// Most section headers looked at, when there is no build-id in the program headers
/// (a linked library has about 30 to 40; an object file built with -ffunction-sections has
/// thousands and is not mapped by a job anyway).
constexpr size_t kMaxElfSectionHeaders = 1024;
/// Most bytes of notes read from one file, all note segments and sections together (a
/// build-id note is 36 bytes; the notes of a linked file together take a few hundred).
constexpr size_t kMaxElfNoteBytes = 64 * 1024;
/// Most notes looked at in the whole file.
constexpr size_t kMaxElfNotes = 1024;
/// Longest build-id accepted, in bytes (ld writes 20 for sha1, 16 for md5 or uuid, 8 for
/// xxhash; --build-id=0xHEX may be longer but no sane one is this long).
constexpr size_t kMaxBuildIdBytes = 64;

/// Reads exactly `size` bytes at `offset` of the file into `out` (resized to `size`).
/// Returns false if the file is shorter or cannot be read.
using FileRangeReader =
    std::function<bool(uint64_t offset, size_t size, std::vector<uint8_t>& out)>;

/// The descriptor of the file's first NT_GNU_BUILD_ID note (type 3, name "GNU") as
/// lower-case hex. Looked for in the PT_NOTE program headers, then, if none holds it, in
/// the SHT_NOTE sections. ELF32 and ELF64, either byte order. "" if the file is not ELF,
/// has no such note, or the note or the headers leading to it are malformed or truncated.
std::string elf_build_id(const FileRangeReader& read);

/// elf_build_id() of a file held in memory, e.g. a test's bytes.
std::string elf_build_id(std::span<const uint8_t> file);

}  // namespace clusterlive
