// What the fuzz targets and their seed generator (make_seeds.cc) share:
// the fixed cluster secret, how raw bytes become TXT entries, how the
// harness signs input as a member holding the key would, and the framing
// of the membership target's input. Header-only so each target is one .cc.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/cluster_secret.h"
#include "core/hex.h"
#include "core/mac.h"
#include "core/mesh_address.h"
#include "core/node_record.h"
#include "core/test_support.h"

namespace clusterlive::fuzz {

/// The unit tests' secret (00 01 .. 1f), so a crash reproduces in a test.
inline const ClusterSecret& fuzz_secret() {
  static const ClusterSecret secret = testing::test_secret();
  return secret;
}
inline const std::string& fuzz_cluster_id() {
  static const std::string id = fuzz_secret().cluster_id();
  return id;
}
inline const MacKey& fuzz_record_key() {
  static const MacKey key = fuzz_secret().record_mac_key();
  return key;
}
inline const MacKey& fuzz_control_key() {
  static const MacKey key = fuzz_secret().control_mac_key();
  return key;
}

/// Aborts the run so libFuzzer saves the input: an invariant was broken.
/// (A trap, not an assert: it must also fire in builds with NDEBUG.)
#define FUZZ_CHECK(condition)           \
  do {                                  \
    if (!(condition)) __builtin_trap(); \
  } while (0)

// --- TXT entries --------------------------------------------------------------

/// TXT entries are separated by '\n' in fuzz input. Chosen over '\0' so
/// seed files are readable text and a '\0' inside an entry (which the
/// decoder must reject) stays reachable; chosen over length prefixes so
/// mutations that insert or delete bytes keep the entries aligned.
/// Entries holding '\n' are thereby unreachable, but the decoder treats
/// '\n' like any other byte that is not allowed in a value.
constexpr char kEntrySeparator = '\n';

/// Splits `text` at every separator ("a\n\nb" gives "a", "", "b").
inline std::vector<std::string> split_entries(std::string_view text) {
  std::vector<std::string> entries;
  if (text.empty()) return entries;
  size_t start = 0;
  while (true) {
    size_t end = text.find(kEntrySeparator, start);
    entries.emplace_back(text.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return entries;
}

/// Inverse of split_entries, for the seed generator.
inline std::string join_entries(const std::vector<std::string>& entries) {
  std::string text;
  for (size_t i = 0; i < entries.size(); ++i) {
    if (i > 0) text += kEntrySeparator;
    text += entries[i];
  }
  return text;
}

/// Replaces the value of every entry "key=..." in place.
inline void replace_entry_value(std::vector<std::string>& entries, std::string_view key,
                                const std::string& value) {
  const std::string prefix = std::string(key) + "=";
  for (std::string& entry : entries) {
    if (entry.starts_with(prefix)) entry = prefix + value;
  }
}

/// The value of the first entry "key=...", or empty.
inline std::string entry_value(const std::vector<std::string>& entries, std::string_view key) {
  const std::string prefix = std::string(key) + "=";
  for (const std::string& entry : entries) {
    if (entry.starts_with(prefix)) return entry.substr(prefix.size());
  }
  return {};
}

/// Signs `entries` as a member holding the key would: the "mac" entry is
/// recomputed over the record's claims and, with `fix_address`, "addr" is
/// recomputed from "cid" and "nid" first. A fuzzer cannot forge a MAC or
/// invert a hash, so without this only the seeds' exact records would get
/// past those checks. Entries whose claims do not parse are left alone.
inline void sign_entries(std::vector<std::string>& entries, bool fix_address) {
  if (fix_address) {
    std::optional<Ipv6Address> address =
        mesh_address(entry_value(entries, "cid"), entry_value(entries, "nid"));
    if (address) replace_entry_value(entries, "addr", format_ipv6(*address));
  }
  // An own cluster id that matches no record makes the decoder return the
  // parsed (unauthenticated) claims of any well-formed record.
  RecordDecodeResult claims = decode_txt_record(entries, "", fuzz_record_key());
  if (claims.status != RecordStatus::foreign_cluster) return;
  MacTag tag = compute_mac(fuzz_record_key(), record_mac_input(claims.record));
  replace_entry_value(entries, "mac", to_hex(tag));
}

// --- Control messages ---------------------------------------------------------

/// `body` followed by its HMAC under the control key: what a member sends.
inline std::vector<uint8_t> append_control_mac(std::span<const uint8_t> body) {
  MacTag tag = compute_mac(fuzz_control_key(), body);
  std::vector<uint8_t> bytes(body.begin(), body.end());
  bytes.insert(bytes.end(), tag.begin(), tag.end());
  return bytes;
}

/// First input byte of fuzz_wire_message and fuzz_membership: odd = the
/// harness holds the key and signs what follows (explores past the MAC
/// check), even = the bytes are delivered as they are (a stranger).
constexpr uint8_t kModeRaw = 0;
constexpr uint8_t kModeSigned = 1;
inline bool is_signed_mode(uint8_t mode_byte) { return (mode_byte & 1) == kModeSigned; }

// --- Membership input framing -------------------------------------------------
//
// After the mode byte, a sequence of operations until the input ends:
//   op byte (taken modulo kOpCount), then
//   kOpDatagram: u16 length (big-endian), that many bytes = one datagram
//                (signed mode: the harness appends the control MAC)
//   kOpRecord:   u16 length, that many bytes = TXT entries split at '\n'
//                (signed mode: the harness fixes "addr" and signs "mac")
//   kOpTick:     u16 milliseconds to advance the fake clock, then tick()
//   kOpLoad:     u16 cores, u32 speed, u32 load x1000, u32 free MiB
// A length running past the end is cut to what is left.

/// Our node id in fuzz_membership; peers' messages must name it.
constexpr std::string_view kFuzzSelfId = "node-000001";
/// Fake clock's start, in milliseconds (not 0: catch "time 0 means unset").
constexpr int64_t kFuzzStartMs = 1'000'000;

enum MembershipOp : uint8_t {
  kOpDatagram = 0,
  kOpRecord = 1,
  kOpTick = 2,
  kOpLoad = 3,
  kOpCount = 4,
};

/// Appends one operation with a length-prefixed payload (seed generator).
inline void append_op(std::vector<uint8_t>& input, MembershipOp op,
                      std::span<const uint8_t> payload) {
  input.push_back(op);
  input.push_back(static_cast<uint8_t>(payload.size() >> 8));
  input.push_back(static_cast<uint8_t>(payload.size() & 0xff));
  input.insert(input.end(), payload.begin(), payload.end());
}

/// Appends a tick that advances the clock by `ms` (seed generator).
inline void append_tick(std::vector<uint8_t>& input, uint16_t ms) {
  input.push_back(kOpTick);
  input.push_back(static_cast<uint8_t>(ms >> 8));
  input.push_back(static_cast<uint8_t>(ms & 0xff));
}

}  // namespace clusterlive::fuzz
