#include "sys/file_io.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <string>

#include "sys/test_temp_dir.h"

namespace clusterlive {
namespace {

using testing::exists;
using testing::mode_of;
using testing::read_all;
using testing::TempDir;

// Lowers RLIMIT_FSIZE for the scope: a write past the limit fails with EFBIG, as a full disk
// fails with ENOSPC, in the middle of the file.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    previous_handler_ = std::signal(SIGXFSZ, SIG_IGN);
    ::getrlimit(RLIMIT_FSIZE, &previous_);
    rlimit limit = previous_;
    limit.rlim_cur = bytes;
    ok_ = ::setrlimit(RLIMIT_FSIZE, &limit) == 0;
  }
  ~FileSizeLimit() {
    ::setrlimit(RLIMIT_FSIZE, &previous_);
    std::signal(SIGXFSZ, previous_handler_);
  }
  bool ok() const { return ok_; }

 private:
  rlimit previous_{};
  void (*previous_handler_)(int) = nullptr;
  bool ok_ = false;
};

TEST(ReadFileBounded, ReadsAWholeFile) {
  TempDir dir;
  std::string file = dir.write("a", "hello\n");
  ReadResult result = read_file_bounded(file, 100);
  EXPECT_EQ(result.status, ReadStatus::ok);
  EXPECT_EQ(result.text, "hello\n");
  EXPECT_EQ(result.error, "");
}

TEST(ReadFileBounded, ReadsExactlyTheLimitButNotMore) {
  TempDir dir;
  std::string file = dir.write("a", std::string(5000, 'x'));
  EXPECT_EQ(read_file_bounded(file, 5000).status, ReadStatus::ok);
  ReadResult big = read_file_bounded(file, 4999);
  EXPECT_EQ(big.status, ReadStatus::too_large);
  EXPECT_TRUE(big.text.empty());
  EXPECT_NE(big.error.find("too large"), std::string::npos);
}

TEST(ReadFileBounded, ReadsProcFilesWhoseSizeIsZero) {
  ReadResult result = read_file_bounded("/proc/self/status", 1 << 20);
  EXPECT_EQ(result.status, ReadStatus::ok);
  EXPECT_NE(result.text.find("Pid:"), std::string::npos);
}

TEST(ReadFileBounded, MissingFilesAreNotFound) {
  TempDir dir;
  EXPECT_EQ(read_file_bounded(dir.at("missing"), 10).status, ReadStatus::not_found);
  std::string file = dir.write("file", "x");
  // A parent that is a file (ENOTDIR) means the file is not there either.
  EXPECT_EQ(read_file_bounded(file + "/below", 10).status, ReadStatus::not_found);
}

TEST(ReadFileBounded, DirectoriesAndFifosAreErrors) {
  TempDir dir;
  ReadResult directory = read_file_bounded(dir.mkdirs("d"), 10);
  EXPECT_EQ(directory.status, ReadStatus::error);
  EXPECT_NE(directory.error.find("not a regular file"), std::string::npos);
  ASSERT_EQ(::mkfifo(dir.at("fifo").c_str(), 0600), 0);
  ReadResult fifo = read_file_bounded(dir.at("fifo"), 10);  // must not block
  EXPECT_EQ(fifo.status, ReadStatus::error);
  EXPECT_NE(fifo.error.find(dir.at("fifo")), std::string::npos);
}

TEST(WriteFileAtomically, CreatesAFileWithTheExactMode) {
  TempDir dir;
  mode_t old_umask = ::umask(077);
  std::string error;
  AtomicWriteOptions options;
  options.mode = 0644;
  EXPECT_TRUE(write_file_atomically(dir.at("f"), "one\n", options, error)) << error;
  ::umask(old_umask);
  EXPECT_EQ(read_all(dir.at("f")), "one\n");
  EXPECT_EQ(mode_of(dir.at("f")), 0644u);
  EXPECT_FALSE(exists(dir.at("f.tmp")));
}

TEST(WriteFileAtomically, ReplacesAnExistingFile) {
  TempDir dir;
  std::string file = dir.write("f", "old contents that are longer\n");
  std::string error;
  EXPECT_TRUE(write_file_atomically(file, "new\n", {}, error)) << error;
  EXPECT_EQ(read_all(file), "new\n");
}

TEST(WriteFileAtomically, WritesAnEmptyFile) {
  TempDir dir;
  std::string error;
  EXPECT_TRUE(write_file_atomically(dir.at("f"), "", {}, error)) << error;
  EXPECT_TRUE(exists(dir.at("f")));
  EXPECT_EQ(read_all(dir.at("f")), "");
}

TEST(WriteFileAtomically, RemovesAStaleTemporaryFile) {
  TempDir dir;
  dir.write("f.tmp", "left by a crash");
  std::string error;
  EXPECT_TRUE(write_file_atomically(dir.at("f"), "new\n", {}, error)) << error;
  EXPECT_EQ(read_all(dir.at("f")), "new\n");
  EXPECT_FALSE(exists(dir.at("f.tmp")));
}

TEST(WriteFileAtomically, NeverWritesThroughASymlinkAtTheTemporaryPath) {
  TempDir dir;
  std::string victim = dir.write("victim", "precious\n");
  ASSERT_EQ(::symlink(victim.c_str(), dir.at("f.tmp").c_str()), 0);
  std::string error;
  EXPECT_TRUE(write_file_atomically(dir.at("f"), "new\n", {}, error)) << error;
  EXPECT_EQ(read_all(victim), "precious\n");
  EXPECT_EQ(read_all(dir.at("f")), "new\n");
}

TEST(WriteFileAtomically, AFullDiskLeavesTheOldFileAndNoTemporary) {
  TempDir dir;
  std::string file = dir.write("f", "old\n");
  std::string error;
  {
    FileSizeLimit limit(16);
    ASSERT_TRUE(limit.ok());
    EXPECT_FALSE(write_file_atomically(file, std::string(100, 'n'), {}, error));
  }
  EXPECT_NE(error.find(file + ".tmp: "), std::string::npos) << error;
  EXPECT_EQ(read_all(file), "old\n");
  EXPECT_FALSE(exists(file + ".tmp"));
}

TEST(WriteFileAtomically, AParentThatIsAFileIsAnError) {
  TempDir dir;
  std::string not_a_directory = dir.write("plain", "x");
  std::string error;
  EXPECT_FALSE(write_file_atomically(not_a_directory + "/f", "new\n", {}, error));
  EXPECT_NE(error.find("Not a directory"), std::string::npos) << error;
  EXPECT_EQ(read_all(not_a_directory), "x");
}

TEST(WriteFileAtomically, AnUnremovableTemporaryPathLeavesTheOldFile) {
  TempDir dir;
  std::string file = dir.write("f", "old\n");
  dir.write("f.tmp/inside", "a directory where the temporary file would go");
  std::string error;
  EXPECT_FALSE(write_file_atomically(file, "new\n", {}, error));
  EXPECT_FALSE(error.empty());
  EXPECT_EQ(read_all(file), "old\n");
}

TEST(WriteFileAtomically, AFailedRenameRemovesTheTemporaryFile) {
  TempDir dir;
  dir.write("f/inside", "a non-empty directory cannot be replaced by a file");
  std::string error;
  EXPECT_FALSE(write_file_atomically(dir.at("f"), "new\n", {}, error));
  EXPECT_NE(error.find(dir.at("f") + ": "), std::string::npos) << error;
  EXPECT_FALSE(exists(dir.at("f.tmp")));
  EXPECT_EQ(read_all(dir.at("f/inside")), "a non-empty directory cannot be replaced by a file");
}

TEST(WriteFileAtomically, CreatesTheParentOnlyWhenAsked) {
  TempDir dir;
  std::string error;
  EXPECT_FALSE(write_file_atomically(dir.at("sub/f"), "x", {}, error));
  AtomicWriteOptions options;
  options.create_parent = true;
  options.parent_mode = 0700;
  mode_t old_umask = ::umask(022);
  EXPECT_TRUE(write_file_atomically(dir.at("sub/f"), "x", options, error)) << error;
  ::umask(old_umask);
  EXPECT_EQ(mode_of(dir.at("sub")), 0700u);
  // An existing parent is fine, and its mode is left alone.
  ASSERT_EQ(::chmod(dir.at("sub").c_str(), 0755), 0);
  EXPECT_TRUE(write_file_atomically(dir.at("sub/f"), "y", options, error)) << error;
  EXPECT_EQ(mode_of(dir.at("sub")), 0755u);
  // Only the last directory is created.
  EXPECT_FALSE(write_file_atomically(dir.at("a/b/f"), "x", options, error));
}

TEST(PathUnderRoot, PrefixesTheRoot) {
  EXPECT_EQ(path_under_root("/", "/proc/stat"), "/proc/stat");
  EXPECT_EQ(path_under_root("", "/proc/stat"), "/proc/stat");
  EXPECT_EQ(path_under_root("/tmp/t", "/proc/stat"), "/tmp/t/proc/stat");
  EXPECT_EQ(path_under_root("/tmp/t/", "/proc/stat"), "/tmp/t/proc/stat");
}

}  // namespace
}  // namespace clusterlive
