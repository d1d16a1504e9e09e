#include "core/job_spool.h"

#include <gtest/gtest.h>

#include <set>

namespace clusterlive {
namespace {

TEST(JobId, FreshIdsHaveTheShapeAndDiffer) {
  SeededRandom random(42);
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    std::string id = make_job_id(random);
    EXPECT_TRUE(is_job_id(id)) << id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(JobId, OnlyTheExactShapeIsAccepted) {
  EXPECT_TRUE(is_job_id("j-0123abcd"));
  for (const char* bad : {"", "j-", "j-0123abc", "j-0123abcde", "j-0123ABCD", "k-0123abcd",
                          "j-0123abc/", "j-../../et", "j-0123abc\n"}) {
    EXPECT_FALSE(is_job_id(bad)) << bad;
  }
}

TEST(JobEnd, RoundTripsAndGivesTheShellStatus) {
  for (JobEnd end : {JobEnd{false, 0}, JobEnd{false, 3}, JobEnd{false, 255}, JobEnd{true, 9},
                     JobEnd{true, 15}}) {
    EXPECT_EQ(parse_job_end(format_job_end(end)), end);
  }
  EXPECT_EQ(format_job_end({false, 3}), "exited 3\n");
  EXPECT_EQ(format_job_end({true, 9}), "killed 9\n");
  EXPECT_EQ((JobEnd{false, 3}).shell_status(), 3);
  EXPECT_EQ((JobEnd{true, 9}).shell_status(), 137);
}

TEST(JobEnd, RejectsAnythingElse) {
  for (const char* bad : {"", "exited 0", "exited\n", "exited -1\n", "exited 256\n",
                          "killed 0\n", "killed 65\n", "exited 01\n", "exited 3 \n",
                          "stopped 1\n", "exited 3\nexited 4\n"}) {
    EXPECT_FALSE(parse_job_end(bad)) << bad;
  }
}

}  // namespace
}  // namespace clusterlive
