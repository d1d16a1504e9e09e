// Writes the seed corpus of every fuzz target: small valid inputs (a TXT
// record, each control message type, membership conversations, a secret)
// and a few near-misses, so the fuzzer starts from deep inside each parser.
// The output is committed under fuzz/corpus/; rerun after a format change:
//   build-fuzz/fuzz/make_seeds fuzz/corpus   (from autojoin/)
// Built as a normal program (no sanitizers) with CLUSTERLIVE_FUZZ=ON.
#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <span>
#include <string>
#include <vector>

#include "core/hello_message.h"
#include "core/mesh_address.h"
#include "core/node_record.h"
#include "core/wire_message.h"
#include "fuzz/fuzz_common.h"

namespace {

using namespace clusterlive;
using namespace clusterlive::fuzz;

std::filesystem::path g_root;

void write_seed(const std::string& target, const std::string& name,
                std::span<const uint8_t> bytes) {
  std::filesystem::path dir = g_root / target;
  std::filesystem::create_directories(dir);
  std::ofstream out(dir / name, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  if (!out) {
    std::cerr << "make_seeds: cannot write " << (dir / name) << "\n";
    std::exit(1);
  }
}

void write_seed(const std::string& target, const std::string& name, const std::string& text) {
  write_seed(target, name,
             std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}

std::vector<uint8_t> with_mode(uint8_t mode, std::span<const uint8_t> bytes) {
  std::vector<uint8_t> input{mode};
  input.insert(input.end(), bytes.begin(), bytes.end());
  return input;
}

std::span<const uint8_t> as_bytes(const std::string& text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

// A valid record of `node_id` in the fuzz cluster.
NodeRecord record_of(const std::string& node_id, uint64_t counter) {
  NodeRecord record = testing::test_record(fuzz_secret());
  record.node_id = node_id;
  record.mesh_address = *mesh_address(record.cluster_id, node_id);
  record.wireguard_public_key.fill(static_cast<uint8_t>(node_id.back()));
  record.counter = counter;
  return record;
}

WireguardKey key_of(const std::string& node_id) {
  WireguardKey key{};
  key.fill(static_cast<uint8_t>(node_id.back()));
  return key;
}

WireMessage message(MessageType type, const std::string& sender, uint64_t sequence) {
  WireMessage m;
  m.type = type;
  m.sender_id = sender;
  m.recipient_id = std::string(kFuzzSelfId);
  m.sequence = sequence;
  return m;
}

// The messages of a small conversation with us (kFuzzSelfId), one per type.
struct Messages {
  WireMessage ping, ack, ping_req, sync_request, sync;
};

Messages sample_messages() {
  Messages m;
  m.ping = message(MessageType::ping, "node-00000a", 7);
  m.ping.updates = {{"node-00000b", MemberState::up, 5, key_of("node-00000b")},
                    {"node-000001", MemberState::suspect, 1000, {}}};
  m.ping.loads = {{"node-00000a", 3, 4, 2400, 1500, 7000}};

  m.ack = message(MessageType::ack, "node-00000a", 8);
  m.ack.reply_to = 5000;  // our first ping in fuzz_membership
  m.ack.subject_id = "node-00000a";

  m.ping_req = message(MessageType::ping_req, "node-00000a", 9);
  m.ping_req.subject_id = "node-00000c";
  m.ping_req.updates = {{"node-00000b", MemberState::suspect, 5, {}},
                        {"node-00000c", MemberState::dead, 2, {}}};

  m.sync_request = message(MessageType::sync_request, "node-00000c", 1);

  m.sync = message(MessageType::sync, "node-00000a", 10);
  m.sync.reply_to = 4;
  m.sync.updates = {{"node-00000a", MemberState::up, 3, key_of("node-00000a")},
                    {"node-00000c", MemberState::up, 2, key_of("node-00000c")}};
  m.sync.loads = {{"node-00000c", 1, 8, 3000, 250, 16000}};
  return m;
}

std::vector<uint8_t> encoded(const WireMessage& message) {
  std::vector<uint8_t> bytes = encode_wire_message(message, fuzz_control_key());
  if (bytes.empty()) {
    std::cerr << "make_seeds: a sample message does not encode\n";
    std::exit(1);
  }
  return bytes;
}

// The message without its MAC: what signed-mode harnesses take.
std::vector<uint8_t> body(const WireMessage& message) {
  std::vector<uint8_t> bytes = encoded(message);
  bytes.resize(bytes.size() - sizeof(MacTag));
  return bytes;
}

void txt_record_seeds() {
  const std::string target = "fuzz_txt_record";
  const std::vector<std::string> valid =
      encode_txt_record(testing::test_record(fuzz_secret()), fuzz_record_key());
  write_seed(target, "valid", join_entries(valid));

  NodeRecord no_caps = record_of("node-00000a", 0);
  no_caps.capabilities.clear();
  write_seed(target, "valid_no_caps", join_entries(encode_txt_record(no_caps, fuzz_record_key())));

  std::vector<std::string> reordered(valid.rbegin(), valid.rend());
  write_seed(target, "valid_reordered", join_entries(reordered));

  ClusterSecret other = testing::other_secret();
  write_seed(target, "foreign",
             join_entries(encode_txt_record(testing::test_record(other), other.record_mac_key())));

  std::vector<std::string> bad_mac = valid;
  bad_mac.back().back() = bad_mac.back().back() == '0' ? '1' : '0';
  write_seed(target, "near_bad_mac", join_entries(bad_mac));

  std::vector<std::string> v2 = valid;
  replace_entry_value(v2, "v", "2");
  write_seed(target, "near_version_2", join_entries(v2));

  // Authentic but the address is another node's: must be rejected after the MAC.
  NodeRecord wrong_address = testing::test_record(fuzz_secret());
  wrong_address.mesh_address = *mesh_address(wrong_address.cluster_id, "node-3a9f02");
  std::vector<std::string> wrong_entries = valid;
  replace_entry_value(wrong_entries, "addr", format_ipv6(wrong_address.mesh_address));
  replace_entry_value(wrong_entries, "mac",
                      to_hex(compute_mac(fuzz_record_key(), record_mac_input(wrong_address))));
  write_seed(target, "near_wrong_address", join_entries(wrong_entries));

  std::vector<std::string> repeated = valid;
  repeated.push_back("nid=node-3a9f01");
  write_seed(target, "near_repeated_key", join_entries(repeated));

  std::vector<std::string> leading_zero = valid;
  replace_entry_value(leading_zero, "ctr", "01");
  write_seed(target, "near_leading_zero", join_entries(leading_zero));
}

void wire_message_seeds() {
  const std::string target = "fuzz_wire_message";
  const Messages m = sample_messages();
  // Signed mode: the body; the harness appends the MAC.
  write_seed(target, "signed_ping", with_mode(kModeSigned, body(m.ping)));
  write_seed(target, "signed_ack", with_mode(kModeSigned, body(m.ack)));
  write_seed(target, "signed_ping_req", with_mode(kModeSigned, body(m.ping_req)));
  write_seed(target, "signed_sync_request", with_mode(kModeSigned, body(m.sync_request)));
  write_seed(target, "signed_sync", with_mode(kModeSigned, body(m.sync)));
  // Raw mode: whole datagrams, valid and near-misses.
  write_seed(target, "raw_ping", with_mode(kModeRaw, encoded(m.ping)));
  std::vector<uint8_t> tampered = encoded(m.ack);
  tampered[tampered.size() / 2] ^= 0x01;
  write_seed(target, "raw_near_tampered", with_mode(kModeRaw, tampered));
  std::vector<uint8_t> next_version = encoded(m.ack);
  next_version[0] = kWireProtocolVersion + 1;
  write_seed(target, "raw_near_next_version", with_mode(kModeRaw, next_version));
  std::vector<uint8_t> trailing = body(m.sync_request);
  trailing.push_back(0);
  write_seed(target, "signed_near_trailing_byte", with_mode(kModeSigned, trailing));
  std::vector<uint8_t> cut = body(m.ping);
  cut.resize(cut.size() - 5);
  write_seed(target, "signed_near_cut", with_mode(kModeSigned, cut));
}

void hello_seeds() {
  const std::string target = "fuzz_hello";
  HelloMessage hello;
  hello.record_entries = encode_txt_record(record_of("node-00000a", 7), fuzz_record_key());
  hello.hints = {{"node-00000b", *parse_lan_address("10.77.0.12", 51872)},
                 {"node-00000c", *parse_lan_address("fe80::5054:ff:fec1:3", 51872)}};
  std::vector<uint8_t> bytes = encode_hello(hello, fuzz_control_key());
  if (bytes.empty()) {
    std::cerr << "make_seeds: the sample hello does not encode\n";
    std::exit(1);
  }
  write_seed(target, "raw_hello", with_mode(kModeRaw, bytes));
  std::vector<uint8_t> unsigned_body(bytes.begin(), bytes.end() - sizeof(MacTag));
  write_seed(target, "signed_hello", with_mode(kModeSigned, unsigned_body));
  hello.type = HelloType::reply;
  hello.hints.clear();
  std::vector<uint8_t> reply = encode_hello(hello, fuzz_control_key());
  reply.resize(reply.size() - sizeof(MacTag));
  write_seed(target, "signed_reply_no_hints", with_mode(kModeSigned, reply));
  std::vector<uint8_t> tampered = bytes;
  tampered[tampered.size() / 2] ^= 0x01;
  write_seed(target, "raw_near_tampered", with_mode(kModeRaw, tampered));
}

void dnsmasq_leases_seeds() {
  const std::string target = "fuzz_dnsmasq_leases";
  write_seed(
      target, "v4_leases",
      std::string("1763750000 52:54:00:c1:00:01 10.77.0.11 node-c10001 01:52:54:00:c1:00:01\n"
                  "0 52:54:00:c1:00:02 10.77.0.12 * *\n"));
  write_seed(target, "v6_leases",
             std::string("duid 00:01:00:01:2c:3a:1b:2d:52:54:00:12:34:56\n"
                         "1763750000 1234 fd00::11 node-c10001 00:01:00:01:aa:bb\n"
                         "1763750000 T5678 fd00::12 * 00:02:ab\n"));
  write_seed(target, "near_bad_hostname",
             std::string("1763750000 52:54:00:c1:00:03 10.77.0.13 evil\x1b[31m *\n"));
}

void membership_seeds() {
  const std::string target = "fuzz_membership";
  const Messages m = sample_messages();
  const std::string record_a =
      join_entries(encode_txt_record(record_of("node-00000a", 1), fuzz_record_key()));
  const std::string record_c =
      join_entries(encode_txt_record(record_of("node-00000c", 1), fuzz_record_key()));

  // A member appears by mDNS, we probe it, it answers, gossips, asks for our table.
  std::vector<uint8_t> join{kModeSigned};
  append_op(join, kOpRecord, as_bytes(record_a));
  append_op(join, kOpRecord, as_bytes(record_c));
  append_tick(join, 1000);
  append_op(join, kOpDatagram, body(m.ack));
  append_op(join, kOpDatagram, body(m.ping));
  append_tick(join, 300);
  append_op(join, kOpDatagram, body(m.sync_request));
  append_tick(join, 1000);
  write_seed(target, "signed_join", join);

  // Rumours: an indirect probe request, suspicion and death, then time
  // passes until suspects expire and the dead are forgotten.
  std::vector<uint8_t> rumours{kModeSigned};
  append_op(rumours, kOpRecord, as_bytes(record_a));
  append_op(rumours, kOpDatagram, body(m.sync));
  append_op(rumours, kOpDatagram, body(m.ping_req));
  append_op(rumours, kOpDatagram, body(m.ping));
  for (int i = 0; i < 8; ++i) append_tick(rumours, 10'000);
  write_seed(target, "signed_rumours", rumours);

  // Our own load, then a probe round with no answer: ping, ping-req, suspect.
  std::vector<uint8_t> silent{kModeSigned};
  append_op(silent, kOpRecord, as_bytes(record_a));
  append_op(silent, kOpRecord, as_bytes(record_c));
  // cores 4, speed 2400, load 1.000, 8192 MiB free
  silent.push_back(kOpLoad);
  silent.insert(silent.end(), {0, 4, 0, 0, 0x09, 0x60, 0, 0, 0x03, 0xe8, 0, 0, 0x20, 0});
  for (int i = 0; i < 6; ++i) append_tick(silent, 350);
  write_seed(target, "signed_silent_member", silent);

  // Regression: a rumour that we are suspect at the highest incarnation
  // once wrapped ours to 0 (Membership::refute).
  WireMessage extreme = message(MessageType::ping, "node-00000a", 11);
  extreme.updates = {{std::string(kFuzzSelfId), MemberState::suspect, UINT64_MAX, {}}};
  std::vector<uint8_t> wrap{kModeSigned};
  append_op(wrap, kOpDatagram, body(extreme));
  write_seed(target, "signed_regression_incarnation_wrap", wrap);

  // A stranger: whole datagrams and records as they are.
  std::vector<uint8_t> raw{kModeRaw};
  append_op(raw, kOpRecord, as_bytes(record_a));
  append_op(raw, kOpDatagram, encoded(m.ping));
  append_tick(raw, 1000);
  ClusterSecret other = testing::other_secret();
  append_op(raw, kOpRecord,
            as_bytes(join_entries(
                encode_txt_record(testing::test_record(other), other.record_mac_key()))));
  std::vector<uint8_t> tampered = encoded(m.ack);
  tampered[3] ^= 0x01;
  append_op(raw, kOpDatagram, tampered);
  write_seed(target, "raw_stranger", raw);
}

void cluster_secret_seeds() {
  const std::string target = "fuzz_cluster_secret";
  const std::string hex = fuzz_secret().to_hex();
  write_seed(target, "valid_key_file", hex + "\n");
  std::string upper = hex;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  write_seed(target, "valid_upper_spaces", " \t" + upper + " \r\n");
  write_seed(target, "near_63_digits", hex.substr(1));
  write_seed(target, "near_not_hex", hex.substr(0, 63) + "g");
  write_seed(target, "near_inner_space", hex.substr(0, 32) + " " + hex.substr(32));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: make_seeds CORPUS_DIR\n";
    return 2;
  }
  g_root = argv[1];
  txt_record_seeds();
  wire_message_seeds();
  hello_seeds();
  dnsmasq_leases_seeds();
  membership_seeds();
  cluster_secret_seeds();
  return 0;
}
