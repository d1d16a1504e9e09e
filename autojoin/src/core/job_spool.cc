#include "core/job_spool.h"

#include <cstdio>

#include "core/decimal.h"
#include "core/node_id.h"

namespace clusterlive {
namespace {

constexpr int kMaxExitCode = 255;
constexpr int kMaxSignal = 64;  // SIGRTMAX on Linux

bool is_lower_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

}  // namespace

std::string make_job_id(RandomSource& random) {
  char text[16];
  std::snprintf(text, sizeof text, "j-%08x", static_cast<unsigned>(random.next_u64() & 0xffffffffu));
  return text;
}

bool is_job_id(std::string_view text) {
  if (text.size() != 2 + kJobIdHexDigits || text.substr(0, 2) != "j-") return false;
  for (char c : text.substr(2)) {
    if (!is_lower_hex(c)) return false;
  }
  return true;
}

std::string format_job_end(const JobEnd& end) {
  return std::string(end.killed ? "killed " : "exited ") + std::to_string(end.code) + "\n";
}

std::optional<JobEnd> parse_job_end(std::string_view text) {
  if (text.empty() || text.back() != '\n') return std::nullopt;
  text.remove_suffix(1);
  JobEnd end;
  std::string_view number;
  if (text.substr(0, 7) == "exited ") {
    number = text.substr(7);
  } else if (text.substr(0, 7) == "killed ") {
    end.killed = true;
    number = text.substr(7);
  } else {
    return std::nullopt;
  }
  std::optional<int> code = parse_decimal<int>(number, true);
  if (!code) return std::nullopt;
  if (end.killed ? (*code < 1 || *code > kMaxSignal) : (*code < 0 || *code > kMaxExitCode)) {
    return std::nullopt;
  }
  end.code = *code;
  return end;
}

}  // namespace clusterlive
