#include "core/elf_build_id.h"

#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <vector>

namespace clusterlive {
namespace {

constexpr uint32_t kNtGnuAbiTag = 1;
constexpr uint32_t kNtGnuBuildId = 3;
constexpr uint32_t kNtGnuPropertyType0 = 5;
const std::vector<uint8_t> kSha1Id = {0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0xfe, 0xdc,
                                      0xba, 0x98, 0x76, 0x54, 0x32, 0x10, 0x0f, 0x1e, 0x2d, 0x3c};
const std::string kSha1Hex = "0123456789abcdeffedcba98765432100f1e2d3c";

// Integers written in one byte order, as a hand-built ELF file needs them.
class ByteSink {
 public:
  explicit ByteSink(bool big_endian) : big_endian_(big_endian) {}

  void put(uint64_t value, size_t width) {
    for (size_t i = 0; i < width; ++i) {
      size_t shift = 8 * (big_endian_ ? width - 1 - i : i);
      bytes.push_back(static_cast<uint8_t>(value >> shift));
    }
  }
  void put_bytes(const std::vector<uint8_t>& more) {
    bytes.insert(bytes.end(), more.begin(), more.end());
  }
  void pad_to_multiple(size_t alignment) {
    while (bytes.size() % alignment != 0) bytes.push_back(0);
  }

  std::vector<uint8_t> bytes;

 private:
  bool big_endian_;
};

struct TestNote {
  std::string name;  // without the NUL, which is added
  uint32_t type = 0;
  std::vector<uint8_t> desc;
};

std::vector<uint8_t> encode_notes(const std::vector<TestNote>& notes, size_t alignment,
                                  bool big_endian) {
  ByteSink sink(big_endian);
  for (const TestNote& note : notes) {
    sink.put(note.name.size() + 1, 4);
    sink.put(note.desc.size(), 4);
    sink.put(note.type, 4);
    sink.put_bytes(std::vector<uint8_t>(note.name.begin(), note.name.end()));
    sink.put(0, 1);
    sink.pad_to_multiple(alignment);
    sink.put_bytes(note.desc);
    sink.pad_to_multiple(alignment);
  }
  return sink.bytes;
}

// A minimal ELF file: the header, then one program header per note run (or none), then the
// note runs, then one section header per note run if `in_sections`.
struct ElfShape {
  bool elf64 = true;
  bool big_endian = false;
  bool in_sections = false;  // notes described by section headers instead of program headers
  std::vector<std::vector<uint8_t>> note_runs;
  uint64_t alignment = 4;  // p_align / sh_addralign of every run
};

std::vector<uint8_t> make_elf(const ElfShape& shape) {
  const size_t header_bytes = shape.elf64 ? 64 : 52;
  const size_t phdr_bytes = shape.elf64 ? 56 : 32;
  const size_t shdr_bytes = shape.elf64 ? 64 : 40;
  const size_t address = shape.elf64 ? 8 : 4;
  const size_t phnum = shape.in_sections ? 0 : shape.note_runs.size();
  const size_t shnum = shape.in_sections ? shape.note_runs.size() : 0;

  std::vector<uint64_t> run_offsets;
  size_t offset = header_bytes + phnum * phdr_bytes;
  for (const auto& run : shape.note_runs) {
    run_offsets.push_back(offset);
    offset += run.size();
  }
  const size_t shoff = shnum > 0 ? offset : 0;

  ByteSink sink(shape.big_endian);
  sink.put_bytes({0x7f, 'E', 'L', 'F', static_cast<uint8_t>(shape.elf64 ? 2 : 1),
                  static_cast<uint8_t>(shape.big_endian ? 2 : 1), 1});
  sink.pad_to_multiple(16);
  sink.put(3, 2);                                   // e_type ET_DYN
  sink.put(62, 2);                                  // e_machine (x86-64; not looked at)
  sink.put(1, 4);                                   // e_version
  sink.put(0, address);                             // e_entry
  sink.put(phnum > 0 ? header_bytes : 0, address);  // e_phoff
  sink.put(shoff, address);                         // e_shoff
  sink.put(0, 4);                                   // e_flags
  sink.put(header_bytes, 2);                        // e_ehsize
  sink.put(phdr_bytes, 2);                          // e_phentsize
  sink.put(phnum, 2);                               // e_phnum
  sink.put(shdr_bytes, 2);                          // e_shentsize
  sink.put(shnum, 2);                               // e_shnum
  sink.put(0, 2);                                   // e_shstrndx
  EXPECT_EQ(sink.bytes.size(), header_bytes);

  for (size_t i = 0; i < phnum; ++i) {
    const uint64_t run_size = shape.note_runs[i].size();
    sink.put(4, 4);                      // p_type PT_NOTE
    if (shape.elf64) sink.put(4, 4);     // p_flags PF_R
    sink.put(run_offsets[i], address);   // p_offset
    sink.put(0, address);                // p_vaddr
    sink.put(0, address);                // p_paddr
    sink.put(run_size, address);         // p_filesz
    sink.put(run_size, address);         // p_memsz
    if (!shape.elf64) sink.put(4, 4);    // p_flags PF_R
    sink.put(shape.alignment, address);  // p_align
  }
  for (const auto& run : shape.note_runs) sink.put_bytes(run);
  for (size_t i = 0; i < shnum; ++i) {
    sink.put(0, 4);                                // sh_name
    sink.put(7, 4);                                // sh_type SHT_NOTE
    sink.put(2, address);                          // sh_flags SHF_ALLOC
    sink.put(0, address);                          // sh_addr
    sink.put(run_offsets[i], address);             // sh_offset
    sink.put(shape.note_runs[i].size(), address);  // sh_size
    sink.put(0, 4);                                // sh_link
    sink.put(0, 4);                                // sh_info
    sink.put(shape.alignment, address);            // sh_addralign
    sink.put(0, address);                          // sh_entsize
  }
  return sink.bytes;
}

std::vector<uint8_t> build_id_note(bool big_endian = false) {
  return encode_notes({{"GNU", kNtGnuBuildId, kSha1Id}}, 4, big_endian);
}

// The usual shape: ELF64 little-endian, one PT_NOTE holding the build-id.
std::vector<uint8_t> plain_elf() { return make_elf({.note_runs = {build_id_note()}}); }

// Overwrites `width` little-endian bytes at `at`.
void patch(std::vector<uint8_t>& bytes, size_t at, uint64_t value, size_t width) {
  for (size_t i = 0; i < width; ++i) bytes.at(at + i) = static_cast<uint8_t>(value >> (8 * i));
}

// Where the ELF64 fields patched below lie.
constexpr size_t kPhoffAt = 32;
constexpr size_t kPhentsizeAt = 54;
constexpr size_t kPhnumAt = 56;
constexpr size_t kFirstPhdrAt = 64;
constexpr size_t kPFileszAt = kFirstPhdrAt + 32;
constexpr size_t kFirstNoteAt = kFirstPhdrAt + 56;

TEST(ElfBuildId, ReadsTheBuildIdOfAnElf64LittleEndianFile) {
  EXPECT_EQ(elf_build_id(plain_elf()), kSha1Hex);
}

TEST(ElfBuildId, SkipsOtherNotesBeforeIt) {
  auto notes =
      encode_notes({{"GNU", kNtGnuAbiTag, {0, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0}},
                    {"Go", kNtGnuBuildId, {0xaa, 0xbb}},  // type 3 of another owner
                    {"GNU", kNtGnuBuildId, kSha1Id}},
                   4, false);
  EXPECT_EQ(elf_build_id(make_elf({.note_runs = {notes}})), kSha1Hex);
}

TEST(ElfBuildId, LooksInEveryNoteSegment) {
  auto abi_tag = encode_notes({{"GNU", kNtGnuAbiTag, {0, 0, 0, 0}}}, 4, false);
  EXPECT_EQ(elf_build_id(make_elf({.note_runs = {abi_tag, build_id_note()}})), kSha1Hex);
}

TEST(ElfBuildId, FollowsTheEightByteAlignmentOfAnElf64NoteSegment) {
  // .note.gnu.property comes in its own 8-aligned segment; a 12-byte descriptor is then
  // padded to 16, not 12.
  auto notes = encode_notes({{"GNU", kNtGnuPropertyType0, std::vector<uint8_t>(12, 0x11)},
                             {"GNU", kNtGnuBuildId, kSha1Id}},
                            8, false);
  EXPECT_EQ(elf_build_id(make_elf({.note_runs = {notes}, .alignment = 8})), kSha1Hex);
}

TEST(ElfBuildId, ReadsElf32AndBigEndianFiles) {
  EXPECT_EQ(elf_build_id(make_elf({.elf64 = false, .note_runs = {build_id_note()}})), kSha1Hex);
  EXPECT_EQ(elf_build_id(make_elf({.big_endian = true, .note_runs = {build_id_note(true)}})),
            kSha1Hex);
  EXPECT_EQ(elf_build_id(
                make_elf({.elf64 = false, .big_endian = true, .note_runs = {build_id_note(true)}})),
            kSha1Hex);
}

TEST(ElfBuildId, FallsBackToNoteSections) {
  EXPECT_EQ(elf_build_id(make_elf({.in_sections = true, .note_runs = {build_id_note()}})),
            kSha1Hex);
  EXPECT_EQ(elf_build_id(make_elf({.elf64 = false,
                                   .big_endian = true,
                                   .in_sections = true,
                                   .note_runs = {build_id_note(true)}})),
            kSha1Hex);
}

TEST(ElfBuildId, KeepsShortAndLongBuildIds) {
  std::vector<uint8_t> xxhash = {0xde, 0xad, 0xbe, 0xef, 0x00, 0x01, 0x02, 0x03};
  auto notes = encode_notes({{"GNU", kNtGnuBuildId, xxhash}}, 4, false);
  EXPECT_EQ(elf_build_id(make_elf({.note_runs = {notes}})), "deadbeef00010203");
  notes = encode_notes({{"GNU", kNtGnuBuildId, std::vector<uint8_t>(kMaxBuildIdBytes, 0xab)}}, 4,
                       false);
  std::string longest;
  for (size_t i = 0; i < kMaxBuildIdBytes; ++i) longest += "ab";
  EXPECT_EQ(elf_build_id(make_elf({.note_runs = {notes}})), longest);
}

TEST(ElfBuildId, RefusesABuildIdOfBadSize) {
  auto empty =
      encode_notes({{"GNU", kNtGnuBuildId, {}}, {"GNU", kNtGnuBuildId, kSha1Id}}, 4, false);
  EXPECT_EQ(elf_build_id(make_elf({.note_runs = {empty}})), "");
  auto too_long = encode_notes(
      {{"GNU", kNtGnuBuildId, std::vector<uint8_t>(kMaxBuildIdBytes + 1, 0xab)}}, 4, false);
  EXPECT_EQ(elf_build_id(make_elf({.note_runs = {too_long}})), "");
}

TEST(ElfBuildId, IsEmptyWithoutABuildIdNote) {
  EXPECT_EQ(elf_build_id(make_elf({})), "");
  auto abi_tag = encode_notes({{"GNU", kNtGnuAbiTag, {0, 0, 0, 0}}}, 4, false);
  EXPECT_EQ(elf_build_id(make_elf({.note_runs = {abi_tag}})), "");
}

TEST(ElfBuildId, IsEmptyForFilesThatAreNotElf) {
  EXPECT_EQ(elf_build_id(std::span<const uint8_t>()), "");
  std::string text = "#!/bin/sh\necho hello, this is not an ELF file at all\n";
  EXPECT_EQ(elf_build_id(std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size())),
            "");
  auto bad_class = plain_elf();
  bad_class[4] = 3;
  EXPECT_EQ(elf_build_id(bad_class), "");
  auto bad_byte_order = plain_elf();
  bad_byte_order[5] = 0;
  EXPECT_EQ(elf_build_id(bad_byte_order), "");
  auto bad_version = plain_elf();
  bad_version[6] = 2;
  EXPECT_EQ(elf_build_id(bad_version), "");
}

TEST(ElfBuildId, IsEmptyForEveryTruncation) {
  // The build-id note ends the file: any shorter prefix lacks part of it.
  for (auto file : {plain_elf(), make_elf({.elf64 = false, .note_runs = {build_id_note()}}),
                    make_elf({.in_sections = true, .note_runs = {build_id_note()}})}) {
    ASSERT_FALSE(elf_build_id(file).empty());
    for (size_t size = 0; size < file.size(); ++size) {
      EXPECT_EQ(elf_build_id(std::span<const uint8_t>(file.data(), size)), "")
          << "a prefix of " << size << " of " << file.size() << " bytes";
    }
  }
}

TEST(ElfBuildId, IsEmptyWhenNoteSizesOverflow) {
  for (uint64_t name_size : {uint64_t{4}, uint64_t{0xffffffff}, uint64_t{0xfffffffc}}) {
    for (uint64_t desc_size : {uint64_t{0xffffffff}, uint64_t{0xfffffff0}, uint64_t{21}}) {
      auto file = plain_elf();
      patch(file, kFirstNoteAt, name_size, 4);
      patch(file, kFirstNoteAt + 4, desc_size, 4);
      EXPECT_EQ(elf_build_id(file), "") << name_size << " " << desc_size;
    }
  }
}

TEST(ElfBuildId, IsEmptyWhenHeaderOffsetsOrSizesLie) {
  auto past_the_end = plain_elf();
  patch(past_the_end, kPhoffAt, past_the_end.size(), 8);
  EXPECT_EQ(elf_build_id(past_the_end), "");

  auto wrapping = plain_elf();
  patch(wrapping, kPhoffAt, std::numeric_limits<uint64_t>::max() - 8, 8);
  EXPECT_EQ(elf_build_id(wrapping), "");

  auto odd_entry_size = plain_elf();
  patch(odd_entry_size, kPhentsizeAt, 57, 2);
  EXPECT_EQ(elf_build_id(odd_entry_size), "");

  auto too_many_headers = plain_elf();
  patch(too_many_headers, kPhnumAt, 0xffff, 2);
  EXPECT_EQ(elf_build_id(too_many_headers), "");

  auto huge_segment = plain_elf();
  patch(huge_segment, kPFileszAt, std::numeric_limits<uint64_t>::max(), 8);
  EXPECT_EQ(elf_build_id(huge_segment), "");

  auto segment_past_the_end = plain_elf();
  patch(segment_past_the_end, kFirstPhdrAt + 8, std::numeric_limits<uint64_t>::max() - 4, 8);
  EXPECT_EQ(elf_build_id(segment_past_the_end), "");
}

TEST(ElfBuildId, WalksPastEmptyNotes) {
  // Zero-sized notes still advance by their 12-byte header.
  std::vector<uint8_t> empty_notes(50 * 12, 0);
  EXPECT_EQ(elf_build_id(make_elf({.note_runs = {empty_notes, build_id_note()}})), kSha1Hex);
}

TEST(ElfBuildId, GivesUpOnceItsNoteBudgetIsSpent) {
  std::vector<uint8_t> empty_notes(kMaxElfNoteBytes * 2, 0);
  EXPECT_EQ(elf_build_id(make_elf({.note_runs = {empty_notes, build_id_note()}})), "");
}

TEST(ElfBuildId, ReadsOnlyHeadersAndNotesOfAHugeFile) {
  // A terabyte file of zeros but for an ELF64 header that claims 65535 program headers of a
  // terabyte-long note segment each.
  auto header = plain_elf();
  header.resize(64);
  patch(header, kPhnumAt, 0xffff, 2);
  const uint64_t kFileBytes = uint64_t{1} << 40;
  uint64_t bytes_read = 0;
  size_t reads = 0;
  auto read = [&](uint64_t offset, size_t size, std::vector<uint8_t>& out) {
    if (offset > kFileBytes || size > kFileBytes - offset) return false;
    ++reads;
    bytes_read += size;
    out.assign(size, 0);
    for (size_t i = 0; i < size; ++i) {
      if (offset + i < header.size()) out[i] = header[offset + i];
      // Every program header is a PT_NOTE at offset 0x1000 of the whole file.
      uint64_t in_table = offset + i - 64;
      if (offset + i >= 64 && in_table < 0xffff * 56) {
        uint64_t field = in_table % 56;
        if (field == 0) out[i] = 4;                    // p_type
        if (field == 9) out[i] = 0x10;                 // p_offset 0x1000
        if (field >= 32 && field < 40) out[i] = 0xff;  // p_filesz
      }
    }
    return true;
  };
  EXPECT_EQ(elf_build_id(read), "");
  EXPECT_LE(bytes_read, 16 + 64 + kMaxElfProgramHeaders * 56 + kMaxElfNoteBytes);
  EXPECT_LE(reads, 4u);  // ident, header, program headers, one note segment
}

}  // namespace
}  // namespace clusterlive
