// libFuzzer target: decode_hello, the parser of the LAN hello datagrams every node accepts
// from anyone on the LAN (seeds, leases, newcomers) before any tunnel exists.
//
// Input: a mode byte (fuzz_common.h), then the datagram. Raw mode delivers it as it is, as a
// stranger would; signed mode appends the HMAC under the control key, so the structure
// behind the MAC is explored. Invariants: nothing but the record entries leaks out of a hello
// with a bad MAC, limits hold, and an accepted hello re-encodes to the very bytes received.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "core/hello_message.h"
#include "core/node_record.h"
#include "fuzz/fuzz_common.h"

using namespace clusterlive;
using namespace clusterlive::fuzz;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const bool signed_mode = is_signed_mode(data[0]);
  std::span<const uint8_t> rest(data + 1, size - 1);
  std::vector<uint8_t> bytes =
      signed_mode ? append_control_mac(rest) : std::vector<uint8_t>(rest.begin(), rest.end());

  HelloDecodeResult result = decode_hello(bytes, fuzz_control_key());
  if (signed_mode) FUZZ_CHECK(result.status != HelloStatus::bad_mac);
  if (result.status == HelloStatus::bad_mac) {
    FUZZ_CHECK(result.message.hints.empty());
    return 0;
  }
  if (result.status != HelloStatus::ok) {
    FUZZ_CHECK(result.message == HelloMessage{});
    return 0;
  }
  const HelloMessage& message = result.message;
  FUZZ_CHECK(message.record_entries.size() <= kMaxTxtEntries);
  FUZZ_CHECK(message.hints.size() <= kMaxEndpointHints);
  std::vector<uint8_t> encoded = encode_hello(message, fuzz_control_key());
  FUZZ_CHECK(encoded == bytes);
  return 0;
}
