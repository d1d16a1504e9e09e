#include "core/dnsmasq_leases.h"

#include <arpa/inet.h>

#include <array>
#include <charconv>

#include "core/decimal.h"

namespace clusterlive {
namespace {

// Splits `line` at single spaces into at most `kMaxFields` fields; nullopt if there are more
// or a field is empty (two spaces in a row: dnsmasq never writes that).
constexpr size_t kMaxFields = 5;
struct Fields {
  std::array<std::string_view, kMaxFields> field{};
  size_t count = 0;
};

std::optional<Fields> split_fields(std::string_view line) {
  Fields fields;
  while (true) {
    if (fields.count == kMaxFields) return std::nullopt;
    size_t space = line.find(' ');
    std::string_view field = line.substr(0, space);
    if (field.empty()) return std::nullopt;
    fields.field[fields.count++] = field;
    if (space == std::string_view::npos) return fields;
    line.remove_prefix(space + 1);
  }
}

bool is_hex_digit(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

// "xx:xx:...:xx" (lower-case hex pairs, colon-separated), at least one pair.
bool is_hex_pairs(std::string_view text) {
  if (text.size() % 3 != 2) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    if (i % 3 == 2 ? text[i] != ':' : !is_hex_digit(text[i])) return false;
  }
  return true;
}

// dnsmasq's hardware address: hex pairs, optionally after "<type>-"; a lease without a
// hardware address is written as just "<type>-".
bool is_hardware_address(std::string_view text) {
  if (text.size() >= 3 && text[2] == '-') {
    if (!is_hex_digit(text[0]) || !is_hex_digit(text[1])) return false;
    text.remove_prefix(3);
    if (text.empty()) return true;
  }
  return is_hex_pairs(text);
}

// "[T]<iaid>": the IAID of a DHCPv6 lease, T for a temporary address.
bool is_iaid(std::string_view text) {
  if (!text.empty() && text.front() == 'T') text.remove_prefix(1);
  auto value = parse_decimal<uint64_t>(text);
  return value && *value <= UINT32_MAX;
}

bool is_hostname(std::string_view text) {
  if (text.empty() || text.size() > kMaxLeaseHostnameBytes) return false;
  if (text.front() == '-' || text.front() == '.') return false;
  for (char c : text) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

// Canonical text of an address of `family`, or nullopt if `text` is not one.
std::optional<std::string> canonical_address(int family, std::string_view text) {
  if (text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  char input[INET6_ADDRSTRLEN] = {};
  text.copy(input, text.size());
  unsigned char bytes[16] = {};
  if (inet_pton(family, input, bytes) != 1) return std::nullopt;
  char output[INET6_ADDRSTRLEN] = {};
  if (inet_ntop(family, bytes, output, sizeof output) == nullptr) return std::nullopt;
  return std::string(output);
}

// One lease line; nullopt if malformed.
std::optional<DnsmasqLease> parse_lease(const Fields& fields) {
  if (fields.count != 5) return std::nullopt;
  auto expiry = parse_decimal<uint64_t>(fields.field[0]);
  if (!expiry) return std::nullopt;
  DnsmasqLease lease;
  lease.expiry_unix_s = *expiry;
  if (auto v4 = canonical_address(AF_INET, fields.field[2])) {
    if (!is_hardware_address(fields.field[1])) return std::nullopt;
    lease.address = *v4;
    lease.hardware_address = std::string(fields.field[1]);
  } else if (auto v6 = canonical_address(AF_INET6, fields.field[2])) {
    if (!is_iaid(fields.field[1])) return std::nullopt;
    lease.ipv6 = true;
    lease.address = *v6;
  } else {
    return std::nullopt;
  }
  std::string_view hostname = fields.field[3];
  if (hostname != "*") {
    if (!is_hostname(hostname)) return std::nullopt;
    lease.hostname = std::string(hostname);
  }
  std::string_view client_id = fields.field[4];
  if (client_id != "*" && !is_hex_pairs(client_id)) return std::nullopt;
  return lease;
}

}  // namespace

DnsmasqLeases parse_dnsmasq_leases(std::string_view text) {
  DnsmasqLeases result;
  size_t lines = 0;
  while (!text.empty()) {
    if (lines == kMaxLeaseFileLines) {
      result.truncated = true;
      break;
    }
    ++lines;
    size_t newline = text.find('\n');
    std::string_view line = text.substr(0, newline);
    text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
    if (line.empty()) continue;
    if (line.size() > kMaxLeaseLineBytes) {
      ++result.bad_lines;
      continue;
    }
    std::optional<Fields> fields = split_fields(line);
    if (!fields) {
      ++result.bad_lines;
      continue;
    }
    std::string_view first = fields->field[0];
    if (first == "duid") {
      if (fields->count == 2 && is_hex_pairs(fields->field[1])) {
        result.server_duid = std::string(fields->field[1]);
      } else {
        ++result.bad_lines;
      }
      continue;
    }
    if (first == "agent-info" || first == "vendorclass") continue;
    if (auto lease = parse_lease(*fields)) {
      result.leases.push_back(std::move(*lease));
    } else {
      ++result.bad_lines;
    }
  }
  return result;
}

bool lease_expired(const DnsmasqLease& lease, uint64_t now_unix_s) {
  return lease.expiry_unix_s != 0 && lease.expiry_unix_s <= now_unix_s;
}

}  // namespace clusterlive
