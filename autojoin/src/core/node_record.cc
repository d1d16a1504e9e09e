#include "core/node_record.h"

#include <sodium.h>

#include <algorithm>
#include <map>
#include <optional>

#include "core/byte_codec.h"
#include "core/decimal.h"
#include "core/hex.h"
#include "core/node_id.h"

namespace clusterlive {
namespace {

constexpr std::string_view kMacDomain = "clusterlive/record/v1";
// Base64 (with padding) of a 32-byte key is always 44 characters.
constexpr size_t kWireguardKeyBase64Chars = 44;
constexpr size_t kMaxCounterDigits = 20;  // UINT64_MAX has 20 digits

bool is_valid_capability(std::string_view name) {
  if (name.empty() || name.size() > kMaxCapabilityLength) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return true;
}

bool are_valid_capabilities(const std::vector<std::string>& capabilities) {
  if (capabilities.size() > kMaxCapabilities) return false;
  for (size_t i = 0; i < capabilities.size(); ++i) {
    if (!is_valid_capability(capabilities[i])) return false;
    for (size_t j = 0; j < i; ++j) {
      if (capabilities[j] == capabilities[i]) return false;
    }
  }
  return true;
}

std::string base64_encode(const WireguardKey& key) {
  ensure_crypto_initialized();
  char text[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_ORIGINAL)] = {};
  sodium_bin2base64(text, sizeof text, key.data(), key.size(), sodium_base64_VARIANT_ORIGINAL);
  return text;
}

std::optional<WireguardKey> base64_decode_key(std::string_view text) {
  if (text.size() != kWireguardKeyBase64Chars) return std::nullopt;
  ensure_crypto_initialized();
  WireguardKey key{};
  size_t decoded_length = 0;
  const char* end = nullptr;
  if (sodium_base642bin(key.data(), key.size(), text.data(), text.size(), nullptr, &decoded_length,
                        &end, sodium_base64_VARIANT_ORIGINAL) != 0) {
    return std::nullopt;
  }
  if (decoded_length != key.size() || end != text.data() + text.size()) return std::nullopt;
  // Reject non-canonical spellings (stray low bits): one key, one text.
  if (base64_encode(key) != text) return std::nullopt;
  return key;
}

std::vector<std::string> split_capabilities(std::string_view text) {
  std::vector<std::string> names;
  if (text.empty()) return names;
  size_t start = 0;
  while (true) {
    size_t comma = text.find(',', start);
    names.emplace_back(text.substr(start, comma == std::string_view::npos ? comma : comma - start));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return names;
}

std::string join_capabilities(const std::vector<std::string>& names) {
  std::string text;
  for (const std::string& name : names) {
    if (!text.empty()) text += ',';
    text += name;
  }
  return text;
}

// Record fields from entries; nullopt when one is missing or badly formed.
std::optional<NodeRecord> parse_fields(const std::map<std::string, std::string>& values,
                                       MacTag& tag) {
  static const char* kRequiredKeys[] = {"cid", "nid", "wg", "addr", "caps", "ctr", "mac"};
  for (const char* key : kRequiredKeys) {
    if (values.find(key) == values.end()) return std::nullopt;
  }
  NodeRecord record;
  record.cluster_id = values.at("cid");
  if (record.cluster_id.size() != 16 || !is_lower_hex(record.cluster_id)) return std::nullopt;
  record.node_id = values.at("nid");
  if (!is_valid_node_id(record.node_id)) return std::nullopt;
  std::optional<WireguardKey> key = base64_decode_key(values.at("wg"));
  if (!key) return std::nullopt;
  record.wireguard_public_key = *key;
  std::optional<Ipv6Address> address = parse_ipv6(values.at("addr"));
  if (!address || format_ipv6(*address) != values.at("addr")) return std::nullopt;
  record.mesh_address = *address;
  record.capabilities = split_capabilities(values.at("caps"));
  if (!are_valid_capabilities(record.capabilities)) return std::nullopt;
  const std::string& counter_text = values.at("ctr");
  std::optional<uint64_t> counter = counter_text.size() > kMaxCounterDigits
                                        ? std::nullopt
                                        : parse_decimal<uint64_t>(counter_text, true);
  if (!counter) return std::nullopt;
  record.counter = *counter;
  const std::string& mac_text = values.at("mac");
  if (mac_text.size() != tag.size() * 2 || !is_lower_hex(mac_text)) return std::nullopt;
  std::optional<std::vector<uint8_t>> mac_bytes = from_hex(mac_text);
  std::copy(mac_bytes->begin(), mac_bytes->end(), tag.begin());
  return record;
}

}  // namespace

std::string_view to_string(RecordStatus status) {
  switch (status) {
    case RecordStatus::ok:
      return "ok";
    case RecordStatus::malformed:
      return "malformed";
    case RecordStatus::oversized:
      return "oversized";
    case RecordStatus::unsupported_version:
      return "unsupported_version";
    case RecordStatus::foreign_cluster:
      return "foreign_cluster";
    case RecordStatus::bad_mac:
      return "bad_mac";
  }
  return "unknown";
}

bool is_publishable(const NodeRecord& record) {
  if (record.cluster_id.size() != 16 || !is_lower_hex(record.cluster_id)) return false;
  if (!is_valid_node_id(record.node_id)) return false;
  if (!are_valid_capabilities(record.capabilities)) return false;
  std::optional<Ipv6Address> expected = mesh_address(record.cluster_id, record.node_id);
  return expected && *expected == record.mesh_address;
}

std::vector<uint8_t> record_mac_input(const NodeRecord& record) {
  ByteWriter writer;
  writer.put_string16(kMacDomain);
  writer.put_u32(kRecordProtocolVersion);
  writer.put_string16(record.cluster_id);
  writer.put_string16(record.node_id);
  writer.put_bytes(record.wireguard_public_key);
  writer.put_bytes(record.mesh_address);
  writer.put_u16(static_cast<uint16_t>(record.capabilities.size()));
  for (const std::string& name : record.capabilities) writer.put_string16(name);
  writer.put_u64(record.counter);
  return writer.release();
}

std::vector<std::string> encode_txt_record(const NodeRecord& record, const MacKey& record_key) {
  if (!is_publishable(record)) return {};
  MacTag tag = compute_mac(record_key, record_mac_input(record));
  std::vector<std::string> entries = {
      "v=" + std::to_string(kRecordProtocolVersion),
      "cid=" + record.cluster_id,
      "nid=" + record.node_id,
      "wg=" + base64_encode(record.wireguard_public_key),
      "addr=" + format_ipv6(record.mesh_address),
      "caps=" + join_capabilities(record.capabilities),
      "ctr=" + std::to_string(record.counter),
      "mac=" + to_hex(tag),
  };
  for (const std::string& entry : entries) {
    if (entry.size() > kMaxTxtEntryBytes) return {};  // only a very long caps list
  }
  return entries;
}

RecordDecodeResult decode_txt_record(const std::vector<std::string>& entries,
                                     std::string_view own_cluster_id, const MacKey& record_key) {
  RecordDecodeResult result;
  if (entries.size() > kMaxTxtEntries) {
    result.status = RecordStatus::oversized;
    return result;
  }
  std::map<std::string, std::string> values;
  for (const std::string& entry : entries) {
    if (entry.size() > kMaxTxtEntryBytes) {
      result.status = RecordStatus::oversized;
      return result;
    }
  }
  for (const std::string& entry : entries) {
    size_t equals = entry.find('=');
    if (equals == std::string::npos || equals == 0) return result;  // malformed
    if (entry.find('\0') != std::string::npos) return result;
    std::string key = entry.substr(0, equals);
    if (!values.emplace(key, entry.substr(equals + 1)).second) return result;  // repeated key
  }
  auto version = values.find("v");
  if (version == values.end()) return result;
  if (version->second != std::to_string(kRecordProtocolVersion)) {
    result.status = RecordStatus::unsupported_version;
    return result;
  }
  // RFC 6763 allows any key; version 1 has exactly these eight (checked
  // in parse_fields), so a ninth is a sender we do not understand.
  if (values.size() != 8) return result;

  MacTag tag{};
  std::optional<NodeRecord> record = parse_fields(values, tag);
  if (!record) return result;
  if (record->cluster_id != own_cluster_id) {
    result.status = RecordStatus::foreign_cluster;
    result.record = *record;
    return result;
  }
  if (!verify_mac(record_key, record_mac_input(*record), tag)) {
    result.status = RecordStatus::bad_mac;
    return result;
  }
  if (!is_publishable(*record)) return result;  // authentic but inconsistent: a buggy peer
  result.status = RecordStatus::ok;
  result.record = std::move(*record);
  return result;
}

}  // namespace clusterlive
