// libFuzzer target: decode_txt_record, the parser of mDNS TXT records that
// any host on the LAN can publish. Input: TXT entries separated by '\n'
// (see kEntrySeparator in fuzz_common.h for why).
//
// Each input is decoded twice: as it is (what a stranger can send), then
// signed by the harness (what a member, or a buggy one, can send), so the
// checks after the MAC are explored too. Invariants on every accepted
// record: it is publishable, and re-encoding it gives the same entries
// (the decoder is strict: one spelling per record) that decode to it again.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/fuzz_common.h"

namespace {

using namespace clusterlive;
using namespace clusterlive::fuzz;

void check_decoded(const std::vector<std::string>& entries, const RecordDecodeResult& result) {
  if (result.status == RecordStatus::foreign_cluster) {
    // Claims of another cluster: well formed, never ours.
    FUZZ_CHECK(result.record.cluster_id != fuzz_cluster_id());
    return;
  }
  if (result.status != RecordStatus::ok) {
    FUZZ_CHECK(result.record == NodeRecord{});  // nothing leaks out of a rejected record
    return;
  }
  const NodeRecord& record = result.record;
  FUZZ_CHECK(record.cluster_id == fuzz_cluster_id());
  FUZZ_CHECK(is_publishable(record));

  std::vector<std::string> encoded = encode_txt_record(record, fuzz_record_key());
  FUZZ_CHECK(!encoded.empty());
  // Same entries, maybe in another order (the decoder takes any order).
  std::vector<std::string> sorted_input = entries;
  std::vector<std::string> sorted_encoded = encoded;
  std::sort(sorted_input.begin(), sorted_input.end());
  std::sort(sorted_encoded.begin(), sorted_encoded.end());
  FUZZ_CHECK(sorted_input == sorted_encoded);

  RecordDecodeResult again = decode_txt_record(encoded, fuzz_cluster_id(), fuzz_record_key());
  FUZZ_CHECK(again.status == RecordStatus::ok);
  FUZZ_CHECK(again.record == record);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<std::string> entries =
      split_entries(std::string_view(reinterpret_cast<const char*>(data), size));

  // 1. As received from a stranger.
  check_decoded(entries, decode_txt_record(entries, fuzz_cluster_id(), fuzz_record_key()));

  // 2. Signed with our key (address left as sent, so its check is exercised).
  sign_entries(entries, /*fix_address=*/false);
  RecordDecodeResult signed_result =
      decode_txt_record(entries, fuzz_cluster_id(), fuzz_record_key());
  check_decoded(entries, signed_result);
  // A record we signed ourselves can be rejected for what it says, never for its MAC.
  FUZZ_CHECK(signed_result.status != RecordStatus::bad_mac);
  return 0;
}
