#include "cli/file_follower.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "api/api_test_support.h"

namespace clusterlive::cli {
namespace {

using api::test_support::TempDir;

void append(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::app | std::ios::binary) << text;
}

TEST(FileFollower, ReturnsWhatWasAppendedSinceLastTime) {
  TempDir dir;
  FileFollower follower(dir / "stdout");
  EXPECT_EQ(follower.read_more(), "");  // not there yet: nothing new, no error
  EXPECT_FALSE(follower.found());
  EXPECT_EQ(follower.error(), "");

  append(dir / "stdout", "hello\n");
  EXPECT_EQ(follower.read_more(), "hello\n");
  EXPECT_TRUE(follower.found());
  EXPECT_EQ(follower.read_more(), "");
  append(dir / "stdout", "wor");
  append(dir / "stdout", "ld\n");
  EXPECT_EQ(follower.read_more(), "world\n");
  EXPECT_EQ(follower.offset(), 12u);
  EXPECT_EQ(follower.read_more(), "");
}

TEST(FileFollower, ReadsInChunks) {
  TempDir dir;
  append(dir / "out", "0123456789");
  FileFollower follower(dir / "out");
  EXPECT_EQ(follower.read_more(4), "0123");
  EXPECT_EQ(follower.read_more(4), "4567");
  EXPECT_EQ(follower.read_more(4), "89");
  EXPECT_EQ(follower.read_more(4), "");
  EXPECT_EQ(follower.read_more(0), "");
}

TEST(FileFollower, BinaryBytesPassUnchanged) {
  TempDir dir;
  std::string bytes("a\0b\xff\x1b[2J\r\n", 10);
  append(dir / "out", bytes);
  FileFollower follower(dir / "out", 0);  // NULs count at once
  std::string read;
  for (int i = 0; i < 4; ++i) read += follower.read_more();
  EXPECT_EQ(read, bytes);
}

TEST(FileFollower, HoldsBackNulsUntilTheyAreFilledIn) {
  // NFS: the size of a file written on another node can grow before its data arrives.
  TempDir dir;
  append(dir / "out", std::string("one\n\0\0\0\0", 8));
  FileFollower follower(dir / "out", 60'000);
  EXPECT_EQ(follower.read_more(), "one\n");
  EXPECT_EQ(follower.read_more(), "");  // the gap is held back
  std::ofstream(dir / "out", std::ios::binary | std::ios::trunc) << "one\ntwo\n";
  EXPECT_EQ(follower.read_more(), "two\n");
}

TEST(FileFollower, NulsThatStayAreOutputAfterAWhile) {
  TempDir dir;
  append(dir / "out", std::string("\0\0x", 3));
  FileFollower follower(dir / "out", 50);
  EXPECT_EQ(follower.read_more(), "");
  usleep(80'000);
  EXPECT_EQ(follower.read_more(), std::string("\0\0", 2));
  EXPECT_EQ(follower.read_more(), "x");
}

TEST(FileFollower, CopiesToAStream) {
  TempDir dir;
  std::string big(3 * kFollowChunkBytes + 17, 'x');
  append(dir / "out", big);
  FileFollower follower(dir / "out");
  std::ostringstream out;
  EXPECT_EQ(follower.copy_new(out, kFollowChunkBytes), kFollowChunkBytes);  // a bounded round
  EXPECT_EQ(follower.copy_new(out), big.size() - kFollowChunkBytes);
  EXPECT_EQ(out.str(), big);
  EXPECT_EQ(follower.copy_new(out), 0u);
}

TEST(FileFollower, ATruncatedFileIsReadAgainFromItsStart) {
  TempDir dir;
  append(dir / "out", "first run, long line\n");
  FileFollower follower(dir / "out");
  EXPECT_EQ(follower.read_more(), "first run, long line\n");
  std::ofstream(dir / "out", std::ios::trunc) << "second\n";
  EXPECT_EQ(follower.read_more(), "second\n");
  EXPECT_EQ(follower.read_more(), "");
}

TEST(FileFollower, ReopenGoesOnWhereItStopped) {
  TempDir dir;
  append(dir / "out", "one\n");
  FileFollower follower(dir / "out");
  EXPECT_EQ(follower.read_more(), "one\n");
  // The file is replaced by a new one holding the same start and more (as a copy restored
  // from elsewhere would be); only a reopen sees the new file.
  std::ofstream(dir / "out.new") << "one\ntwo\n";
  ASSERT_EQ(rename((dir / "out.new").c_str(), (dir / "out").c_str()), 0);
  EXPECT_EQ(follower.read_more(), "");
  follower.reopen();
  EXPECT_EQ(follower.read_more(), "two\n");
}

TEST(FileFollower, ErrorsOtherThanMissingAreReported) {
  TempDir dir;
  ASSERT_EQ(mkdir((dir / "a-directory").c_str(), 0755), 0);
  FileFollower directory(dir / "a-directory");
  EXPECT_EQ(directory.read_more(), "");
  EXPECT_EQ(directory.error(), "cannot read " + dir / "a-directory" + ": Is a directory");
  EXPECT_EQ(directory.error_number(), EISDIR);
  EXPECT_EQ(directory.read_more(), "");  // and stays failed

  FileFollower below_a_file(dir / "a-directory/../file/x");
  append(dir / "file", "x");
  EXPECT_EQ(below_a_file.read_more(), "");
  EXPECT_EQ(below_a_file.error_number(), ENOTDIR);
}

TEST(FileFollower, UnreadableFileIsPermissionDenied) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to run a child as nobody";
  TempDir dir;
  append(dir / "secret", "private");
  ASSERT_EQ(chmod((dir / "secret").c_str(), 0600), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    if (setgid(65534) != 0 || setuid(65534) != 0) _exit(10);
    FileFollower follower(dir / "secret");
    if (!follower.read_more().empty()) _exit(11);
    _exit(follower.error_number() == EACCES ? 0 : 12);
  }
  int wstatus = 0;
  ASSERT_EQ(waitpid(child, &wstatus, 0), child);
  ASSERT_TRUE(WIFEXITED(wstatus));
  EXPECT_EQ(WEXITSTATUS(wstatus), 0);
}

TEST(FileFollower, AFifoDoesNotBlock) {
  TempDir dir;
  ASSERT_EQ(mkfifo((dir / "fifo").c_str(), 0600), 0);
  FileFollower follower(dir / "fifo");
  EXPECT_EQ(follower.read_more(), "");  // returns at once: no writer
}

}  // namespace
}  // namespace clusterlive::cli
