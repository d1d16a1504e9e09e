#include "sys/file_build_id.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "core/elf_build_id.h"
#include "core/hex.h"
#include "sys/test_temp_dir.h"

namespace clusterlive {
namespace {

using testing::read_all;
using testing::TempDir;

// ld's default build-id is a SHA-1: 20 bytes.
constexpr size_t kSha1HexChars = 40;

bool is_sha1_build_id(const std::string& id) {
  return id.size() == kSha1HexChars && is_lower_hex(id);
}

TEST(ReadFileBuildId, ReadsTheBuildIdOfThisTestProgram) {
  std::string id = read_file_build_id("/proc/self/exe");
  if (id.empty()) GTEST_SKIP() << "this test program was linked without a build-id";
  EXPECT_TRUE(is_sha1_build_id(id)) << id;
}

TEST(ReadFileBuildId, ReadsWhatTheParserReadsFromTheWholeFile) {
  const std::string path = "/bin/true";
  if (::access(path.c_str(), R_OK) != 0) GTEST_SKIP() << path << " is missing";
  std::string id = read_file_build_id(path);
  EXPECT_TRUE(is_sha1_build_id(id)) << id;  // Debian links its binaries with --build-id
  std::string whole = read_all(path);
  EXPECT_EQ(elf_build_id(std::span(reinterpret_cast<const uint8_t*>(whole.data()), whole.size())),
            id);
}

TEST(ReadFileBuildId, FollowsSymlinks) {
  std::string id = read_file_build_id("/proc/self/exe");
  if (id.empty()) GTEST_SKIP() << "this test program was linked without a build-id";
  TempDir dir;
  std::filesystem::create_symlink(std::filesystem::read_symlink("/proc/self/exe"), dir.at("link"));
  EXPECT_EQ(read_file_build_id(dir.at("link")), id);
}

TEST(ReadFileBuildId, IsEmptyForFilesWithoutOne) {
  TempDir dir;
  EXPECT_EQ(read_file_build_id(dir.write("text", "#!/bin/sh\nexit 0\n")), "");
  EXPECT_EQ(read_file_build_id(dir.write("empty", "")), "");
  std::string exe = read_all("/proc/self/exe");
  EXPECT_EQ(read_file_build_id(dir.write("truncated", exe.substr(0, 64))), "");
  EXPECT_EQ(read_file_build_id(dir.at("missing")), "");
  EXPECT_EQ(read_file_build_id(dir.mkdirs("directory")), "");
}

TEST(ReadFileBuildId, NeverWaitsOnAFifo) {
  TempDir dir;
  ASSERT_EQ(::mkfifo(dir.at("fifo").c_str(), 0600), 0);
  EXPECT_EQ(read_file_build_id(dir.at("fifo")), "");  // returns at once: no writer needed
}

}  // namespace
}  // namespace clusterlive
