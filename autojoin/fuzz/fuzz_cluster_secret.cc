// libFuzzer target: ClusterSecret::parse, which reads the secret from the
// kernel command line, a key file on the boot medium or `clusterlive join`
// (text a user or another machine typed). Invariants: exactly one of
// secret / error is set, and an accepted secret is the hex text given,
// so formatting and parsing it again gives the same bytes.
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/cluster_secret.h"
#include "fuzz/fuzz_common.h"

using namespace clusterlive;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  SecretParseResult parsed = ClusterSecret::parse(text);
  FUZZ_CHECK(parsed.secret.has_value() == parsed.error.empty());
  if (!parsed.secret) return 0;

  const std::string hex = parsed.secret->to_hex();
  FUZZ_CHECK(hex.size() == ClusterSecret::kSizeBytes * 2);
  // The input is those 64 digits (either case) with only whitespace around them.
  const std::string_view kWhitespace = " \t\r\n\v\f";
  size_t first = text.find_first_not_of(kWhitespace);
  size_t last = text.find_last_not_of(kWhitespace);
  FUZZ_CHECK(first != std::string_view::npos && last - first + 1 == hex.size());
  std::string digits(text.substr(first, hex.size()));
  for (char& c : digits) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  FUZZ_CHECK(digits == hex);

  SecretParseResult again = ClusterSecret::parse(hex);
  FUZZ_CHECK(again.secret && again.secret->bytes() == parsed.secret->bytes());
  FUZZ_CHECK(again.secret->cluster_id().size() == ClusterSecret::kClusterIdHexChars);
  return 0;
}
