#include "core/elf_build_id.h"

#include <algorithm>
#include <array>
#include <limits>

#include "core/hex.h"

namespace clusterlive {
namespace {

// e_ident: the magic, then the class, the byte order and the version.
constexpr std::array<uint8_t, 4> kElfMagic = {0x7f, 'E', 'L', 'F'};
constexpr size_t kIdentBytes = 16;
constexpr size_t kIdentClassAt = 4;
constexpr size_t kIdentDataAt = 5;
constexpr size_t kIdentVersionAt = 6;
constexpr uint8_t kClass32 = 1;
constexpr uint8_t kClass64 = 2;
constexpr uint8_t kDataLittleEndian = 1;
constexpr uint8_t kDataBigEndian = 2;
constexpr uint8_t kCurrentVersion = 1;

constexpr uint64_t kPtNote = 4;
constexpr uint64_t kShtNote = 7;
constexpr uint64_t kNtGnuBuildId = 3;
constexpr std::array<uint8_t, 4> kGnuNoteName = {'G', 'N', 'U', 0};
// namesz, descsz and type: three 32-bit words in ELF32 and ELF64 alike.
constexpr uint64_t kNoteHeaderBytes = 12;

// Where the fields this parser needs lie (offset, width in bytes), for one ELF class.
struct Field {
  size_t at;
  size_t width;
};
struct ElfLayout {
  size_t header_bytes;
  Field phoff, shoff, phentsize, phnum, shentsize, shnum;
  size_t program_header_bytes;
  Field p_type, p_offset, p_filesz, p_align;
  size_t section_header_bytes;
  Field sh_type, sh_offset, sh_size, sh_addralign;
};

// From the System V gABI (and <elf.h>): Elf32_Ehdr, Elf32_Phdr, Elf32_Shdr.
constexpr ElfLayout kElf32 = {.header_bytes = 52,
                              .phoff = {28, 4},
                              .shoff = {32, 4},
                              .phentsize = {42, 2},
                              .phnum = {44, 2},
                              .shentsize = {46, 2},
                              .shnum = {48, 2},
                              .program_header_bytes = 32,
                              .p_type = {0, 4},
                              .p_offset = {4, 4},
                              .p_filesz = {16, 4},
                              .p_align = {28, 4},
                              .section_header_bytes = 40,
                              .sh_type = {4, 4},
                              .sh_offset = {16, 4},
                              .sh_size = {20, 4},
                              .sh_addralign = {32, 4}};

// Elf64_Ehdr, Elf64_Phdr, Elf64_Shdr.
constexpr ElfLayout kElf64 = {.header_bytes = 64,
                              .phoff = {32, 8},
                              .shoff = {40, 8},
                              .phentsize = {54, 2},
                              .phnum = {56, 2},
                              .shentsize = {58, 2},
                              .shnum = {60, 2},
                              .program_header_bytes = 56,
                              .p_type = {0, 4},
                              .p_offset = {8, 8},
                              .p_filesz = {32, 8},
                              .p_align = {48, 8},
                              .section_header_bytes = 64,
                              .sh_type = {4, 4},
                              .sh_offset = {24, 8},
                              .sh_size = {32, 8},
                              .sh_addralign = {48, 8}};

// Reads unsigned integers in the file's byte order. A field past the end reads as 0, which
// every caller treats as "nothing there"; the callers size their buffers so it never is.
class FieldReader {
 public:
  FieldReader(std::span<const uint8_t> bytes, bool big_endian)
      : bytes_(bytes), big_endian_(big_endian) {}

  uint64_t get(Field field) const {
    if (field.at > bytes_.size() || field.width > bytes_.size() - field.at) return 0;
    uint64_t value = 0;
    for (size_t i = 0; i < field.width; ++i) {
      size_t index = big_endian_ ? field.at + i : field.at + field.width - 1 - i;
      value = (value << 8) | bytes_[index];
    }
    return value;
  }

 private:
  std::span<const uint8_t> bytes_;
  bool big_endian_;
};

uint64_t align_up(uint64_t value, uint64_t alignment) {
  return (value + alignment - 1) & ~(alignment - 1);
}

// A run of notes in the file: a PT_NOTE segment or a SHT_NOTE section.
struct NoteRegion {
  uint64_t offset = 0;
  uint64_t size = 0;
  uint64_t alignment = 0;  // p_align or sh_addralign, as the file says
};

// The file as far as this parser reads it: its byte order and class, and the reads left.
class ElfFile {
 public:
  ElfFile(const FileRangeReader& read, bool big_endian, const ElfLayout& layout)
      : read_(read), big_endian_(big_endian), layout_(layout) {}

  bool big_endian() const { return big_endian_; }
  const ElfLayout& layout() const { return layout_; }

  // Reads `count` records of `record_bytes` at `offset` into `out`; false if the range
  // overflows or lies outside the file.
  bool read_records(uint64_t offset, size_t count, size_t record_bytes,
                    std::vector<uint8_t>& out) const {
    size_t bytes = count * record_bytes;  // both capped by the callers: no overflow
    return read_range(offset, bytes, out);
  }

  // Reads the start of a note region: at most what is left of the file's kMaxElfNoteBytes.
  bool read_notes(const NoteRegion& region, std::vector<uint8_t>& out) {
    size_t bytes = static_cast<size_t>(std::min<uint64_t>(region.size, note_bytes_left_));
    if (bytes == 0) return false;
    note_bytes_left_ -= bytes;
    return read_range(region.offset, bytes, out);
  }

  // Counts one more note; false once kMaxElfNotes have been looked at.
  bool take_note() {
    if (notes_left_ == 0) return false;
    --notes_left_;
    return true;
  }

 private:
  bool read_range(uint64_t offset, size_t bytes, std::vector<uint8_t>& out) const {
    if (offset > std::numeric_limits<uint64_t>::max() - bytes) return false;
    out.clear();
    return read_(offset, bytes, out) && out.size() == bytes;
  }

  const FileRangeReader& read_;
  bool big_endian_;
  const ElfLayout& layout_;
  size_t note_bytes_left_ = kMaxElfNoteBytes;
  size_t notes_left_ = kMaxElfNotes;
};

// What looking in one region found.
struct NoteSearch {
  bool found = false;    // a GNU build-id note was there (then `build_id` is the answer)
  std::string build_id;  // "" for a build-id note of a bad size
};

// Walks the notes of one region. Each note is a 12-byte header, the name and the descriptor,
// the last two padded to the region's alignment: 8 for the 8-aligned notes of ELF64
// (.note.gnu.property), 4 for every other value, as glibc's loader reads them. Stops at the
// first note that does not fit in the bytes read.
NoteSearch find_build_id_note(std::span<const uint8_t> notes, uint64_t region_alignment,
                              ElfFile& file) {
  const uint64_t alignment = region_alignment == 8 ? 8 : 4;
  const FieldReader fields(notes, file.big_endian());
  uint64_t at = 0;  // uint64: namesz and descsz are 32-bit, so the sums below cannot overflow
  while (at + kNoteHeaderBytes <= notes.size() && file.take_note()) {
    uint64_t name_size = fields.get({static_cast<size_t>(at), 4});
    uint64_t desc_size = fields.get({static_cast<size_t>(at + 4), 4});
    uint64_t type = fields.get({static_cast<size_t>(at + 8), 4});
    uint64_t name_at = at + kNoteHeaderBytes;
    uint64_t desc_at = align_up(name_at + name_size, alignment);
    if (desc_at > notes.size() || desc_size > notes.size() - desc_at) break;
    auto name = notes.subspan(static_cast<size_t>(name_at), static_cast<size_t>(name_size));
    if (type == kNtGnuBuildId && std::ranges::equal(name, kGnuNoteName)) {
      NoteSearch result{.found = true, .build_id = ""};
      if (desc_size > 0 && desc_size <= kMaxBuildIdBytes) {
        result.build_id =
            to_hex(notes.subspan(static_cast<size_t>(desc_at), static_cast<size_t>(desc_size)));
      }
      return result;
    }
    at = align_up(desc_at + desc_size, alignment);
  }
  return {};
}

NoteSearch find_build_id_in(const std::vector<NoteRegion>& regions, ElfFile& file) {
  std::vector<uint8_t> notes;
  for (const NoteRegion& region : regions) {
    if (!file.read_notes(region, notes)) continue;
    NoteSearch search = find_build_id_note(notes, region.alignment, file);
    if (search.found) return search;
  }
  return {};
}

// The PT_NOTE segments. None if the program headers are absent or not of the standard size
// (the loader refuses such a file too).
std::vector<NoteRegion> note_segments(const FieldReader& header, const ElfFile& file) {
  const ElfLayout& layout = file.layout();
  std::vector<NoteRegion> regions;
  uint64_t offset = header.get(layout.phoff);
  size_t count =
      static_cast<size_t>(std::min<uint64_t>(header.get(layout.phnum), kMaxElfProgramHeaders));
  if (offset == 0 || count == 0) return regions;
  if (header.get(layout.phentsize) != layout.program_header_bytes) return regions;
  std::vector<uint8_t> table;
  if (!file.read_records(offset, count, layout.program_header_bytes, table)) return regions;
  for (size_t i = 0; i < count; ++i) {
    FieldReader entry(std::span<const uint8_t>(table).subspan(i * layout.program_header_bytes,
                                                              layout.program_header_bytes),
                      file.big_endian());
    if (entry.get(layout.p_type) != kPtNote) continue;
    regions.push_back(
        {entry.get(layout.p_offset), entry.get(layout.p_filesz), entry.get(layout.p_align)});
  }
  return regions;
}

// The SHT_NOTE sections, for files without the note in a segment (object files, some
// stripped or hand-made ones). A section count beyond SHN_LORESERVE (e_shnum 0, the real
// count in section 0) is not followed: such files are not mapped by jobs.
std::vector<NoteRegion> note_sections(const FieldReader& header, const ElfFile& file) {
  const ElfLayout& layout = file.layout();
  std::vector<NoteRegion> regions;
  uint64_t offset = header.get(layout.shoff);
  size_t count =
      static_cast<size_t>(std::min<uint64_t>(header.get(layout.shnum), kMaxElfSectionHeaders));
  if (offset == 0 || count == 0) return regions;
  if (header.get(layout.shentsize) != layout.section_header_bytes) return regions;
  std::vector<uint8_t> table;
  if (!file.read_records(offset, count, layout.section_header_bytes, table)) return regions;
  for (size_t i = 0; i < count; ++i) {
    FieldReader entry(std::span<const uint8_t>(table).subspan(i * layout.section_header_bytes,
                                                              layout.section_header_bytes),
                      file.big_endian());
    if (entry.get(layout.sh_type) != kShtNote) continue;
    regions.push_back(
        {entry.get(layout.sh_offset), entry.get(layout.sh_size), entry.get(layout.sh_addralign)});
  }
  return regions;
}

}  // namespace

std::string elf_build_id(const FileRangeReader& read) {
  std::vector<uint8_t> ident;
  if (!read(0, kIdentBytes, ident) || ident.size() != kIdentBytes) return "";
  if (!std::equal(kElfMagic.begin(), kElfMagic.end(), ident.begin())) return "";
  if (ident[kIdentVersionAt] != kCurrentVersion) return "";
  const uint8_t elf_class = ident[kIdentClassAt];
  const uint8_t data = ident[kIdentDataAt];
  if (elf_class != kClass32 && elf_class != kClass64) return "";
  if (data != kDataLittleEndian && data != kDataBigEndian) return "";

  const ElfLayout& layout = elf_class == kClass64 ? kElf64 : kElf32;
  std::vector<uint8_t> header_bytes;
  if (!read(0, layout.header_bytes, header_bytes) || header_bytes.size() != layout.header_bytes) {
    return "";
  }
  ElfFile file(read, data == kDataBigEndian, layout);
  const FieldReader header(header_bytes, file.big_endian());

  NoteSearch search = find_build_id_in(note_segments(header, file), file);
  if (!search.found) search = find_build_id_in(note_sections(header, file), file);
  return search.build_id;
}

std::string elf_build_id(std::span<const uint8_t> file) {
  return elf_build_id([file](uint64_t offset, size_t size, std::vector<uint8_t>& out) {
    if (offset > file.size() || size > file.size() - offset) return false;
    auto range = file.subspan(static_cast<size_t>(offset), size);
    out.assign(range.begin(), range.end());
    return true;
  });
}

}  // namespace clusterlive
