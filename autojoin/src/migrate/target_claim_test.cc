// The claim a target worker leaves beside its job's lock (target_claim.h).
#include "migrate/target_claim.h"

#include <gtest/gtest.h>

namespace clusterlive {
namespace {

TEST(TargetClaim, RoundTrips) {
  TargetClaim claim{3, "node-a", 4242, 1234, 987654};
  std::string text = format_target_claim(claim);
  EXPECT_EQ(text.back(), '\n');
  EXPECT_EQ(parse_target_claim(text), claim);
  TargetClaim unrestored{7, "node-b", 55, 0, 0};
  EXPECT_EQ(parse_target_claim(format_target_claim(unrestored)), unrestored);
}

TEST(TargetClaim, AnEmptyOrMalformedClaimIsNone) {
  EXPECT_FALSE(parse_target_claim(""));
  EXPECT_FALSE(parse_target_claim("{"));
  EXPECT_FALSE(parse_target_claim("[1,2]"));
  EXPECT_FALSE(parse_target_claim(R"({"attempt":3,"source":"node-a"})"));           // no worker
  EXPECT_FALSE(parse_target_claim(R"({"attempt":0,"source":"a","worker_pid":5})"));  // attempt 0
  EXPECT_FALSE(parse_target_claim(R"({"attempt":3,"source":"a","worker_pid":-5})"));
  EXPECT_FALSE(parse_target_claim(R"({"attempt":"3","source":"a","worker_pid":5})"));
  EXPECT_FALSE(
      parse_target_claim(R"({"attempt":3,"source":"a","worker_pid":5,"restored_pid":-1})"));
}

TEST(TargetClaim, LivesBesideTheLock) {
  EXPECT_EQ(target_claim_path("/run/clusterlive/migrations", "j-12"),
            "/run/clusterlive/migrations/j-12.claim");
}

}  // namespace
}  // namespace clusterlive
