// libFuzzer target: one Membership fed a sequence of datagrams, TXT records,
// clock ticks and load updates chosen by the fuzzer (framing in
// fuzz_common.h). The mode byte says whether the harness signs what it
// delivers (a member, or a buggy member: explores the protocol past the MAC)
// or delivers it raw (a stranger on the mesh or the LAN).
//
// Invariants checked after every operation: tables stay within their
// limits and consistent, our incarnation never goes down, and every
// datagram we would send is one a peer accepts.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/membership.h"
#include "core/membership_constants.h"
#include "core/node_id.h"
#include "core/random_source.h"
#include "core/wire_message.h"
#include "fuzz/fuzz_common.h"

namespace {

using namespace clusterlive;
using namespace clusterlive::fuzz;

/// Reads the fuzzer's bytes front to back; past the end, reads give zeros
/// and lengths are cut, so every input is a valid operation sequence.
class InputReader {
 public:
  explicit InputReader(std::span<const uint8_t> input) : input_(input) {}
  bool done() const { return position_ >= input_.size(); }
  uint8_t u8() { return done() ? 0 : input_[position_++]; }
  // Big-endian. Two statements: the operands of | are not sequenced.
  uint16_t u16() {
    uint16_t high = u8();
    return static_cast<uint16_t>(high << 8 | u8());
  }
  uint32_t u32() {
    uint32_t high = u16();
    return high << 16 | u16();
  }
  std::span<const uint8_t> bytes(size_t count) {
    count = std::min(count, input_.size() - std::min(position_, input_.size()));
    std::span<const uint8_t> taken = input_.subspan(position_, count);
    position_ += count;
    return taken;
  }

 private:
  std::span<const uint8_t> input_;
  size_t position_ = 0;
};

void check_invariants(Membership& membership, uint64_t& last_incarnation) {
  std::vector<MemberInfo> members = membership.members();
  FUZZ_CHECK(members.size() <= kMaxMembers);
  FUZZ_CHECK(membership.count_in_state(MemberState::up) +
                 membership.count_in_state(MemberState::suspect) +
                 membership.count_in_state(MemberState::dead) ==
             members.size());
  for (const MemberInfo& info : members) {
    FUZZ_CHECK(info.node_id != kFuzzSelfId);  // we are never our own member
    FUZZ_CHECK(is_valid_node_id(info.node_id));
  }
  FUZZ_CHECK(membership.foreign_nodes().size() <= kMaxForeignNodes);
  // Loads are kept for live members only, plus our own.
  FUZZ_CHECK(membership.load_vectors().size() <= members.size() + 1);
  // Only we raise our incarnation, and only upwards (else a rumour could
  // make us unable to refute it).
  FUZZ_CHECK(membership.incarnation() >= last_incarnation);
  last_incarnation = membership.incarnation();

  for (const OutgoingDatagram& datagram : membership.take_outgoing()) {
    FUZZ_CHECK(datagram.to_node_id != kFuzzSelfId);
    FUZZ_CHECK(datagram.bytes.size() <= kMaxMessageBytes);
    MessageDecodeResult decoded = decode_wire_message(datagram.bytes, fuzz_control_key());
    FUZZ_CHECK(decoded.status == MessageStatus::ok);
    FUZZ_CHECK(decoded.message.sender_id == kFuzzSelfId);
    FUZZ_CHECK(decoded.message.recipient_id == datagram.to_node_id);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  InputReader input(std::span<const uint8_t>(data, size));
  const bool signed_mode = is_signed_mode(input.u8());

  SeededRandom random(1);  // fixed: the same input must take the same path
  MembershipConfig config;
  config.self_id = std::string(kFuzzSelfId);
  config.self_wireguard_key.fill(0x11);
  config.initial_incarnation = 1000;
  config.initial_sequence = 5000;
  TimeMs now = kFuzzStartMs;
  Membership membership(fuzz_secret(), config, random, now);
  uint64_t last_incarnation = membership.incarnation();

  while (!input.done()) {
    switch (input.u8() % kOpCount) {
      case kOpDatagram: {
        std::span<const uint8_t> bytes = input.bytes(input.u16());
        if (signed_mode) {
          membership.on_datagram(append_control_mac(bytes), now);
        } else {
          membership.on_datagram(bytes, now);
        }
        break;
      }
      case kOpRecord: {
        std::span<const uint8_t> bytes = input.bytes(input.u16());
        std::vector<std::string> entries = split_entries(
            std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
        if (signed_mode) sign_entries(entries, /*fix_address=*/true);
        membership.on_txt_record(entries, now);
        break;
      }
      case kOpTick:
        now += input.u16();
        membership.tick(now);
        break;
      case kOpLoad: {
        uint16_t cores = input.u16();
        uint32_t speed = input.u32();
        uint32_t load = input.u32();
        uint32_t free_mib = input.u32();
        membership.set_local_load(cores, speed, load, free_mib);
        break;
      }
    }
    check_invariants(membership, last_incarnation);
  }
  return 0;
}
