// libFuzzer target: decode_wire_message, the parser of every control
// datagram that reaches clusterlived over the mesh.
//
// Input: a mode byte (fuzz_common.h), then the datagram. Raw mode delivers
// it as it is: only the size, version and MAC checks can be reached, as for
// a stranger. Signed mode appends the HMAC under the control key, as a
// member (or a buggy member) would, so the body parser is explored.
// Invariant on every accepted message: the encoding is canonical, so
// re-encoding gives the very bytes received, which decode to the same
// message.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "core/wire_message.h"
#include "fuzz/fuzz_common.h"

using namespace clusterlive;
using namespace clusterlive::fuzz;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const bool signed_mode = is_signed_mode(data[0]);
  std::span<const uint8_t> rest(data + 1, size - 1);
  std::vector<uint8_t> bytes =
      signed_mode ? append_control_mac(rest) : std::vector<uint8_t>(rest.begin(), rest.end());

  MessageDecodeResult result = decode_wire_message(bytes, fuzz_control_key());
  if (signed_mode) FUZZ_CHECK(result.status != MessageStatus::bad_mac);
  if (result.status != MessageStatus::ok) {
    FUZZ_CHECK(result.message == WireMessage{});  // nothing leaks out of a rejected datagram
    return 0;
  }

  const WireMessage& message = result.message;
  FUZZ_CHECK(message.updates.size() <= kMaxUpdatesPerMessage);
  FUZZ_CHECK(message.loads.size() <= kMaxLoadsPerMessage);
  std::vector<uint8_t> encoded = encode_wire_message(message, fuzz_control_key());
  FUZZ_CHECK(encoded == bytes);
  MessageDecodeResult again = decode_wire_message(encoded, fuzz_control_key());
  FUZZ_CHECK(again.status == MessageStatus::ok);
  FUZZ_CHECK(again.message == message);
  return 0;
}
