#include "sys/key_files.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
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

constexpr char kKeyA[] = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
constexpr char kKeyB[] = "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100";
constexpr char kKeyC[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
constexpr char kKeyD[] = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";

constexpr char kBootMedium[] = "run/live/medium/clusterlive/cluster.key";
constexpr char kJoined[] = "var/lib/clusterlive/joined.key";

std::string persistence(const std::string& volume) {
  return "run/live/persistence/" + volume + "/clusterlive/cluster.key";
}

std::string line(const char* key) { return std::string(key) + "\n"; }

TEST(ReadKeyFile, ReadsTextAndReportsAbsence) {
  TempDir dir;
  std::string file = dir.write("k", line(kKeyA));
  ReadResult found = read_key_file(file);
  EXPECT_EQ(found.status, ReadStatus::ok);
  EXPECT_EQ(found.text, line(kKeyA));
  EXPECT_EQ(read_key_file(dir.at("missing")).status, ReadStatus::not_found);
}

TEST(ReadKeyFile, BigFilesAreTooLarge) {
  TempDir dir;
  EXPECT_EQ(read_key_file(dir.write("ok", std::string(kMaxKeyFileBytes, ' '))).status,
            ReadStatus::ok);
  ReadResult big = read_key_file(dir.write("big", std::string(kMaxKeyFileBytes + 1, ' ')));
  EXPECT_EQ(big.status, ReadStatus::too_large);
  EXPECT_NE(big.error.find("too large"), std::string::npos);
}

TEST(WriteKeyFile, CreatesTheDirectoryAndAPrivateFile) {
  TempDir root;
  root.mkdirs("var/lib");
  std::string error;
  ASSERT_TRUE(write_key_file_atomically(root.at(kJoined), line(kKeyA), error)) << error;
  EXPECT_EQ(read_all(root.at(kJoined)), line(kKeyA));
  EXPECT_EQ(mode_of(root.at(kJoined)), 0600u);
  EXPECT_EQ(mode_of(root.at("var/lib/clusterlive")), 0700u);
  EXPECT_FALSE(exists(root.at(kJoined) + ".tmp"));
  // And replaces it.
  ASSERT_TRUE(write_key_file_atomically(root.at(kJoined), line(kKeyB), error)) << error;
  EXPECT_EQ(read_all(root.at(kJoined)), line(kKeyB));
}

TEST(WriteKeyFile, AFullDiskLeavesTheOldKey) {
  TempDir root;
  std::string file = root.write(kJoined, line(kKeyA));
  std::string error;
  auto previous_handler = std::signal(SIGXFSZ, SIG_IGN);
  rlimit previous{};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &previous), 0);
  rlimit small = previous;
  small.rlim_cur = 10;  // the write stops after 10 bytes, as on a full disk
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
  bool written = write_key_file_atomically(file, line(kKeyB), error);
  ::setrlimit(RLIMIT_FSIZE, &previous);
  std::signal(SIGXFSZ, previous_handler);
  EXPECT_FALSE(written);
  EXPECT_NE(error.find(file + ".tmp: "), std::string::npos) << error;
  EXPECT_EQ(read_all(file), line(kKeyA));
  EXPECT_FALSE(exists(file + ".tmp"));
}

TEST(WriteKeyFile, AParentThatIsAFileIsAnError) {
  TempDir root;
  std::string blocker = root.write("var/lib/clusterlive", "a file, not a directory");
  std::string error;
  EXPECT_FALSE(write_key_file_atomically(root.at(kJoined), line(kKeyA), error));
  EXPECT_FALSE(error.empty());
  EXPECT_EQ(read_all(blocker), "a file, not a directory");
}

TEST(WriteKeyFile, AMissingGrandparentIsAnError) {
  TempDir root;  // no var/lib
  std::string error;
  EXPECT_FALSE(write_key_file_atomically(root.at(kJoined), line(kKeyA), error));
  EXPECT_NE(error.find("cannot create directory"), std::string::npos) << error;
}

TEST(FindKeySources, NothingAnywhereMeansRunningAlone) {
  TempDir root;
  KeySources sources = find_key_sources("boot=live quiet", root.path());
  ASSERT_EQ(sources.candidates.size(), 4u);
  ASSERT_EQ(sources.locations.size(), 4u);
  const SecretSource order[] = {SecretSource::kernel_command_line, SecretSource::boot_medium,
                                SecretSource::persistence, SecretSource::joined};
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(sources.candidates[i].source, order[i]);
    EXPECT_EQ(sources.locations[i].source, order[i]);
    EXPECT_FALSE(sources.candidates[i].text);
    EXPECT_FALSE(sources.locations[i].present);
  }
  EXPECT_EQ(sources.locations[0].path, "/proc/cmdline");
  EXPECT_EQ(sources.locations[1].path, "/run/live/medium/clusterlive/cluster.key");
  EXPECT_EQ(sources.locations[2].path, "/run/live/persistence");
  EXPECT_EQ(sources.locations[3].path, "/var/lib/clusterlive/joined.key");
  SecretChoice choice = choose_key(sources);
  EXPECT_FALSE(choice.secret);
  EXPECT_EQ(choice.error, "");
}

TEST(FindKeySources, EverySourceIsReadInOrder) {
  TempDir root;
  root.write(kBootMedium, line(kKeyB));
  root.write(persistence("sda2"), line(kKeyC));
  root.write(kJoined, line(kKeyD));
  KeySources sources =
      find_key_sources(std::string("boot=live clusterlive.key=") + kKeyA, root.path());
  ASSERT_EQ(sources.candidates.size(), 4u);
  EXPECT_EQ(*sources.candidates[0].text, kKeyA);
  EXPECT_EQ(*sources.candidates[1].text, line(kKeyB));
  EXPECT_EQ(*sources.candidates[2].text, line(kKeyC));
  EXPECT_EQ(*sources.candidates[3].text, line(kKeyD));
  EXPECT_EQ(sources.locations[2].path, "/" + persistence("sda2"));

  SecretChoice choice = choose_key(sources);
  ASSERT_TRUE(choice.secret);
  EXPECT_EQ(choice.secret->to_hex(), kKeyA);
  EXPECT_EQ(choice.source, SecretSource::kernel_command_line);
}

TEST(FindKeySources, FirstFoundWins) {
  TempDir root;
  root.write(kJoined, line(kKeyD));
  EXPECT_EQ(choose_key(find_key_sources("", root.path())).secret->to_hex(), kKeyD);
  root.write(persistence("sdb1"), line(kKeyC));
  EXPECT_EQ(choose_key(find_key_sources("", root.path())).secret->to_hex(), kKeyC);
  root.write(kBootMedium, line(kKeyB));
  SecretChoice choice = choose_key(find_key_sources("", root.path()));
  EXPECT_EQ(choice.secret->to_hex(), kKeyB);
  EXPECT_EQ(choice.source, SecretSource::boot_medium);
}

TEST(FindKeySources, PersistenceVolumesAreTakenInSortedOrder) {
  TempDir root;
  root.mkdirs("run/live/persistence/aaa-no-key");  // a volume without a key is passed over
  root.write(persistence("sdb1"), line(kKeyD));
  root.write(persistence("sda2"), line(kKeyC));
  root.write("run/live/persistence/a-file", "not a volume");
  KeySources sources = find_key_sources("", root.path());
  EXPECT_EQ(*sources.candidates[2].text, line(kKeyC));
  EXPECT_EQ(sources.locations[2].path, "/" + persistence("sda2"));
}

TEST(FindKeySources, APersistencePathThatIsAFileHoldsNoKey) {
  TempDir root;
  root.write("run/live/persistence", "not a directory");
  root.write(kJoined, line(kKeyD));
  KeySources sources = find_key_sources("", root.path());
  EXPECT_FALSE(sources.locations[2].present);
  EXPECT_EQ(choose_key(sources).secret->to_hex(), kKeyD);
}

TEST(FindKeySources, AnUnreadableKeyFileIsAnErrorNotAFallThrough) {
  TempDir root;
  root.mkdirs(kBootMedium);  // present, but a directory: cannot be read as a key
  root.write(kJoined, line(kKeyD));
  KeySources sources = find_key_sources("", root.path());
  EXPECT_TRUE(sources.locations[1].present);
  EXPECT_NE(sources.locations[1].error.find("not a regular file"), std::string::npos);

  SecretChoice choice = choose_key(sources);
  EXPECT_FALSE(choice.secret);
  EXPECT_EQ(choice.source, SecretSource::boot_medium);
  EXPECT_NE(choice.error.find("cannot read the cluster secret from the boot medium"),
            std::string::npos)
      << choice.error;
  EXPECT_NE(choice.error.find("not joining any cluster"), std::string::npos);

  // A caller that hands the candidates straight to choose_secret() cannot fall through either.
  SecretChoice plain = choose_secret(sources.candidates);
  EXPECT_FALSE(plain.secret);
  EXPECT_EQ(plain.source, SecretSource::boot_medium);
  EXPECT_FALSE(plain.error.empty());
}

TEST(FindKeySources, AnOversizedKeyFileIsAnError) {
  TempDir root;
  root.write(persistence("sda2"), std::string(kMaxKeyFileBytes + 1, 'a'));
  root.write(kJoined, line(kKeyD));
  SecretChoice choice = choose_key(find_key_sources("", root.path()));
  EXPECT_FALSE(choice.secret);
  EXPECT_EQ(choice.source, SecretSource::persistence);
  EXPECT_NE(choice.error.find("too large"), std::string::npos) << choice.error;
}

TEST(FindKeySources, AnUnreadableVolumeStopsTheSearchThere) {
  TempDir root;
  root.mkdirs(persistence("sda2"));  // the key path is a directory
  root.write(persistence("sdb1"), line(kKeyC));
  SecretChoice choice = choose_key(find_key_sources("", root.path()));
  EXPECT_FALSE(choice.secret);
  EXPECT_EQ(choice.source, SecretSource::persistence);
}

TEST(FindKeySources, AMalformedWinnerIsAnError) {
  TempDir root;
  root.write(kBootMedium, "not a key\n");
  root.write(kJoined, line(kKeyD));
  SecretChoice choice = choose_key(find_key_sources("", root.path()));
  EXPECT_FALSE(choice.secret);
  EXPECT_EQ(choice.source, SecretSource::boot_medium);
  EXPECT_NE(choice.error.find("is not valid"), std::string::npos) << choice.error;
  // An empty clusterlive.key= on the command line likewise.
  choice = choose_key(find_key_sources("clusterlive.key=", root.path()));
  EXPECT_FALSE(choice.secret);
  EXPECT_EQ(choice.source, SecretSource::kernel_command_line);
}

TEST(ReadKernelCommandLine, ReadsUnderTheRoot) {
  TempDir root;
  std::string error;
  EXPECT_FALSE(read_kernel_command_line(error, root.path()));
  EXPECT_EQ(error, root.at("proc/cmdline") + ": not found");
  root.write("proc/cmdline", "boot=live quiet\n");
  EXPECT_EQ(read_kernel_command_line(error, root.path()), "boot=live quiet\n");
  EXPECT_TRUE(read_kernel_command_line(error));  // this machine's
}

}  // namespace
}  // namespace clusterlive
