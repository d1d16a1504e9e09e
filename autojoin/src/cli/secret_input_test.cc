#include "cli/secret_input.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "api/api_test_support.h"

namespace clusterlive::cli {
namespace {

const std::string kKey = "00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF";

TEST(SecretInput, NormalizeStripsWhitespace) {
  std::string error;
  EXPECT_EQ(normalize_key(kKey, "k", error), kKey);
  EXPECT_EQ(normalize_key("  \t" + kKey + "\r\n\n", "k", error), kKey);
}

TEST(SecretInput, NormalizeRejectsNonKeysWithoutQuotingThem) {
  std::string error;
  EXPECT_FALSE(normalize_key("", "key.txt", error));
  EXPECT_EQ(error, "key.txt is empty: no cluster key in it");
  EXPECT_FALSE(normalize_key(" \n ", "key.txt", error));
  EXPECT_FALSE(normalize_key(kKey.substr(0, 63), "key.txt", error));
  EXPECT_EQ(error, "key.txt: the cluster secret must be 64 hex digits, got 63 characters");
  EXPECT_FALSE(normalize_key(kKey.substr(0, 32) + " " + kKey.substr(32, 31), "k", error));
  EXPECT_EQ(error.find(kKey.substr(0, 32)), std::string::npos);
  std::string bad = kKey;
  bad[3] = 'x';
  EXPECT_FALSE(normalize_key(bad, "k", error));
  EXPECT_EQ(error.find(bad), std::string::npos);
  EXPECT_NE(error.find("not a hex digit"), std::string::npos);
}

TEST(SecretInput, ReadsAStream) {
  std::istringstream in(kKey + "\n");
  KeyInput input = read_key_stream(in, "standard input");
  ASSERT_TRUE(input.text) << input.error;
  EXPECT_EQ(*input.text, kKey + "\n");
}

TEST(SecretInput, StreamIsBounded) {
  std::istringstream in(std::string(kMaxKeyInputBytes + 1, '0'));
  KeyInput input = read_key_stream(in, "standard input");
  EXPECT_FALSE(input.text);
  EXPECT_EQ(input.error, "standard input is larger than 4096 bytes: not a cluster key");
  std::istringstream exact(std::string(kMaxKeyInputBytes, ' '));
  EXPECT_TRUE(read_key_stream(exact, "x").text);
}

TEST(SecretInput, ReadsAFile) {
  api::test_support::TempDir dir;
  std::ofstream(dir / "key") << kKey << "\n";
  KeyInput input = read_key_file(dir / "key");
  ASSERT_TRUE(input.text) << input.error;
  EXPECT_EQ(*input.text, kKey + "\n");

  input = read_key_file(dir / "missing");
  EXPECT_FALSE(input.text);
  EXPECT_EQ(input.error, "cannot open " + dir / "missing" + ": No such file or directory");

  input = read_key_file(dir.path());
  EXPECT_FALSE(input.text);
  EXPECT_NE(input.error.find("Is a directory"), std::string::npos) << input.error;

  std::ofstream(dir / "big") << std::string(kMaxKeyInputBytes + 1, 'a');
  input = read_key_file(dir / "big");
  EXPECT_FALSE(input.text);
  EXPECT_NE(input.error.find("larger than 4096 bytes"), std::string::npos);
}

TEST(SecretInput, ReadsAPipe) {
  api::test_support::TempDir dir;
  ASSERT_EQ(mkfifo((dir / "fifo").c_str(), 0600), 0);
  std::thread writer([&] { std::ofstream(dir / "fifo") << kKey; });
  KeyInput input = read_key_file(dir / "fifo");
  writer.join();
  ASSERT_TRUE(input.text) << input.error;
  EXPECT_EQ(*input.text, kKey);
}

}  // namespace
}  // namespace clusterlive::cli
