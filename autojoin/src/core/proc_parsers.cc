#include "core/proc_parsers.h"

#include <charconv>
#include <limits>

#include "core/decimal.h"

namespace clusterlive {
namespace {

bool is_blank(char c) { return c == ' ' || c == '\t'; }

std::string_view trim_blanks(std::string_view text) {
  while (!text.empty() && (is_blank(text.front()) || text.front() == '\n')) text.remove_prefix(1);
  while (!text.empty() && (is_blank(text.back()) || text.back() == '\n')) text.remove_suffix(1);
  return text;
}

// Splits off the next blank-separated token of `rest`.
std::string_view next_token(std::string_view& rest) {
  size_t start = 0;
  while (start < rest.size() && is_blank(rest[start])) ++start;
  size_t end = start;
  while (end < rest.size() && !is_blank(rest[end])) ++end;
  std::string_view token = rest.substr(start, end - start);
  rest.remove_prefix(end);
  return token;
}

// Calls `visit(line)` for each line of `text` (without its '\n') until it returns false.
template <typename Visit>
void for_each_line(std::string_view text, Visit visit) {
  while (!text.empty()) {
    size_t newline = text.find('\n');
    std::string_view line = text.substr(0, newline);
    text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
    if (!visit(line)) return;
  }
}

uint32_t saturate_u32(uint64_t value) {
  return value > std::numeric_limits<uint32_t>::max() ? std::numeric_limits<uint32_t>::max()
                                                      : static_cast<uint32_t>(value);
}

// "0.52" -> 520: an integer part and 1 to 3 decimals.
std::optional<uint32_t> parse_milli(std::string_view text) {
  size_t dot = text.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  std::string_view fraction = text.substr(dot + 1);
  if (fraction.empty() || fraction.size() > 3) return std::nullopt;
  auto whole = parse_decimal<uint32_t>(text.substr(0, dot));
  auto part = parse_decimal<uint32_t>(fraction);
  if (!whole || !part) return std::nullopt;
  uint32_t scale = fraction.size() == 1 ? 100 : fraction.size() == 2 ? 10 : 1;
  uint64_t milli = uint64_t{*whole} * 1000 + uint64_t{*part} * scale;
  if (milli > std::numeric_limits<uint32_t>::max()) return std::nullopt;
  return static_cast<uint32_t>(milli);
}

// The value of a "Name:   123 kB" line of /proc/meminfo, in kB.
std::optional<uint64_t> parse_meminfo_kib(std::string_view value) {
  std::string_view rest = value;
  std::string_view number = next_token(rest);
  std::string_view unit = next_token(rest);
  if (unit != "kB" || !trim_blanks(rest).empty()) return std::nullopt;
  return parse_decimal<uint64_t>(number);
}

}  // namespace

std::optional<uint32_t> parse_procs_running(std::string_view proc_stat) {
  std::optional<uint32_t> result;
  bool seen = false;
  for_each_line(proc_stat, [&](std::string_view line) {
    std::string_view rest = line;
    if (next_token(rest) != "procs_running") return true;
    seen = true;
    std::string_view value = next_token(rest);
    if (trim_blanks(rest).empty()) result = parse_decimal<uint32_t>(value);
    return false;
  });
  return seen ? result : std::nullopt;
}

std::optional<MemInfo> parse_meminfo(std::string_view meminfo) {
  std::optional<uint64_t> total_kib;
  std::optional<uint64_t> available_kib;
  bool malformed = false;
  for_each_line(meminfo, [&](std::string_view line) {
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) return true;
    std::string_view name = line.substr(0, colon);
    std::optional<uint64_t>* target = name == "MemTotal"       ? &total_kib
                                      : name == "MemAvailable" ? &available_kib
                                                               : nullptr;
    if (target == nullptr) return true;
    if (target->has_value()) {  // the kernel never repeats a line: not a real meminfo
      malformed = true;
      return false;
    }
    *target = parse_meminfo_kib(line.substr(colon + 1));
    if (!target->has_value()) malformed = true;
    return !malformed;
  });
  if (malformed || !total_kib || !available_kib) return std::nullopt;
  return MemInfo{saturate_u32(*total_kib / 1024), saturate_u32(*available_kib / 1024)};
}

std::optional<LoadAverage> parse_loadavg(std::string_view loadavg) {
  std::string_view rest = trim_blanks(loadavg);
  auto one = parse_milli(next_token(rest));
  auto five = parse_milli(next_token(rest));
  auto fifteen = parse_milli(next_token(rest));
  std::string_view tasks = next_token(rest);
  auto last_pid = parse_decimal<uint32_t>(next_token(rest));
  if (!one || !five || !fifteen || !last_pid || !trim_blanks(rest).empty()) return std::nullopt;
  size_t slash = tasks.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  auto runnable = parse_decimal<uint32_t>(tasks.substr(0, slash));
  auto total = parse_decimal<uint32_t>(tasks.substr(slash + 1));
  if (!runnable || !total) return std::nullopt;
  return LoadAverage{*one, *five, *fifteen, *runnable, *total, *last_pid};
}

std::optional<uint32_t> parse_cpu_list_count(std::string_view cpu_list) {
  std::string_view rest = trim_blanks(cpu_list);
  if (rest.empty()) return std::nullopt;
  uint32_t count = 0;
  std::optional<uint32_t> previous_last;
  while (true) {
    size_t comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    size_t dash = item.find('-');
    auto first = parse_decimal<uint32_t>(item.substr(0, dash));
    auto last =
        dash == std::string_view::npos ? first : parse_decimal<uint32_t>(item.substr(dash + 1));
    // Ascending, non-overlapping ranges, as the kernel writes them: nothing is counted twice.
    if (!first || !last || *first > *last || *last > kMaxCpuNumber) return std::nullopt;
    if (previous_last && *first <= *previous_last) return std::nullopt;
    count += *last - *first + 1;
    previous_last = last;
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return count;
}

std::optional<ProcessStat> parse_process_stat(std::string_view stat) {
  size_t close = stat.rfind(')');
  if (close == std::string_view::npos || stat.find('(') > close) return std::nullopt;
  std::string_view rest = stat.substr(close + 1);
  // Fields after the name, numbered as in proc(5): 3 state ... 14 utime, 15 stime,
  // 16 cutime, 17 cstime, 22 starttime, 24 rss.
  std::optional<uint64_t> times[4], start, rss;
  for (int field = 3; field <= 24; ++field) {
    std::string_view token = next_token(rest);
    if (token.empty()) return std::nullopt;
    if (field >= 14 && field <= 17) times[field - 14] = parse_decimal<uint64_t>(token);
    if (field == 22) start = parse_decimal<uint64_t>(token);
    if (field == 24) rss = parse_decimal<uint64_t>(token);
  }
  if (!start || !rss) return std::nullopt;
  uint64_t cpu = 0;
  for (const std::optional<uint64_t>& time : times) {
    if (!time || *time > UINT64_MAX - cpu) return std::nullopt;
    cpu += *time;
  }
  return ProcessStat{cpu, *rss, *start};
}

std::optional<ProcessStatus> parse_process_status(std::string_view status) {
  ProcessStatus result;
  bool have_state = false, have_uids = true, seen_uids = false;
  for_each_line(status, [&](std::string_view line) {
    if (line.starts_with("State:")) {
      std::string_view rest = line.substr(6);
      std::string_view letter = next_token(rest);
      have_state = letter.size() == 1;
      if (have_state) result.state = letter[0];
    } else if (line.starts_with("Uid:")) {
      seen_uids = true;
      std::string_view rest = line.substr(4);
      for (uint32_t& uid : result.uids) {
        auto value = parse_decimal<uint32_t>(next_token(rest));
        if (!value) have_uids = false;
        else uid = *value;
      }
    }
    return true;
  });
  if (!have_state || !seen_uids || !have_uids) return std::nullopt;
  return result;
}

}  // namespace clusterlive
