#include "core/preflight.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <limits>
#include <set>
#include <utility>

#include "core/decimal.h"

namespace clusterlive {
namespace {

// What the kernel appends to the path of an unlinked file, in maps and in fd links alike.
constexpr std::string_view kDeletedSuffix = " (deleted)";

// Devices that are the same thing on every node and that CRIU reopens by path.
constexpr std::array<std::string_view, 4> kHarmlessDevices = {"/dev/null", "/dev/zero",
                                                              "/dev/random", "/dev/urandom"};

// Anonymous inodes CRIU dumps and restores. inotify is the one the kernel names without
// brackets ("anon_inode:inotify"); the bracketed spelling is accepted in case that changes.
constexpr std::array<std::string_view, 6> kAllowedAnonInodes = {
    "[eventfd]", "[eventpoll]", "[signalfd]", "[timerfd]", "inotify", "[inotify]"};

// Special regions of maps that CRIU recreates (the vdso and vvar pages come from the
// target's kernel). "[anon:NAME]" (prctl PR_SET_VMA_ANON_NAME) is plain anonymous memory.
constexpr std::array<std::string_view, 6> kAllowedRegions = {
    "[heap]", "[stack]", "[vdso]", "[vvar]", "[vvar_vclock]", "[vsyscall]"};
constexpr std::string_view kNamedAnonPrefix = "[anon:";

// A MAP_SHARED|MAP_ANONYMOUS mapping is backed by an unlinked shmem file the kernel calls
// "/dev/zero": CRIU dumps it as shared anonymous memory, not as a file.
constexpr std::string_view kSharedAnonPath = "/dev/zero";

constexpr uint64_t kBytesPerMiB = uint64_t{1} << 20;

bool is_blank(char c) { return c == ' ' || c == '\t'; }

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

std::string_view skip_blanks(std::string_view text) {
  while (!text.empty() && is_blank(text.front())) text.remove_prefix(1);
  return text;
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

// Lower-case hex digits only (the kernel's spelling), no overflow.
template <typename T>
std::optional<T> parse_hex(std::string_view text) {
  if (text.empty()) return std::nullopt;
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return std::nullopt;
  }
  T value{};
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value, 16);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// A decimal int32 with an optional '-'.
std::optional<int32_t> parse_int32(std::string_view text) {
  bool negative = !text.empty() && text.front() == '-';
  if (negative) text.remove_prefix(1);
  auto magnitude = parse_decimal<uint32_t>(text);
  if (!magnitude) return std::nullopt;
  constexpr uint32_t kMaxPositive = std::numeric_limits<int32_t>::max();
  if (!negative) {
    if (*magnitude > kMaxPositive) return std::nullopt;
    return static_cast<int32_t>(*magnitude);
  }
  if (*magnitude > kMaxPositive + 1u) return std::nullopt;
  return static_cast<int32_t>(-static_cast<int64_t>(*magnitude));
}

bool is_perms(std::string_view perms) {
  return perms.size() == 4 && (perms[0] == 'r' || perms[0] == '-') &&
         (perms[1] == 'w' || perms[1] == '-') && (perms[2] == 'x' || perms[2] == '-') &&
         (perms[3] == 'p' || perms[3] == 's');
}

bool is_named_slot(std::string_view slot) {
  return slot == "cwd" || slot == "root" || slot == "exe";
}

bool is_flag_char(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; }

template <size_t N>
bool contains(const std::array<std::string_view, N>& list, std::string_view item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

// Paths and names in refusals come from files a user named: control characters become '?'
// so a crafted name cannot rewrite the terminal or the journal of whoever reads them.
std::string printable(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) c = '?';
  }
  return out;
}

// Strips the kernel's " (deleted)" suffix; true if it was there.
bool strip_deleted(std::string_view& path) {
  if (path.size() <= kDeletedSuffix.size() || !path.ends_with(kDeletedSuffix)) return false;
  path.remove_suffix(kDeletedSuffix.size());
  return true;
}

bool is_terminal_device(std::string_view path) {
  return path.starts_with("/dev/pts/") || path.starts_with("/dev/tty") || path == "/dev/console" ||
         path == "/dev/ptmx";
}

// An absolute path without empty, "." or ".." components. Links read from /proc never hold
// them; refusing them keeps "/cluster/../tmp/x" from passing for a /cluster file.
bool is_plain_absolute(std::string_view path) {
  if (path.empty() || path.front() != '/') return false;
  if (path == "/") return true;
  std::string_view rest = path.substr(1);
  while (true) {
    size_t slash = rest.find('/');
    std::string_view part = rest.substr(0, slash);
    if (part.empty() || part == "." || part == "..") return false;
    if (slash == std::string_view::npos) return true;
    rest.remove_prefix(slash + 1);
  }
}

// A root is absolute and ends with '/', so "/cluster/" does not contain "/clusterfs/x".
bool is_valid_root(std::string_view root) {
  return root.size() >= 2 && root.back() == '/' &&
         is_plain_absolute(root.substr(0, root.size() - 1));
}

// `path` is `root` itself (without its '/') or below it.
bool is_under(std::string_view path, std::string_view root) {
  return path.starts_with(root) || path == root.substr(0, root.size() - 1);
}

enum class Place { kShared, kImage, kOutside };

// Where a path lives, for what has to be compared about it. The spool is shared storage.
Place place_of(std::string_view path, std::string_view spool_root, const PreflightPolicy& policy) {
  if (!is_plain_absolute(path)) return Place::kOutside;
  if (!spool_root.empty() && is_under(path, spool_root)) return Place::kShared;
  for (const auto& root : policy.shared_roots) {
    if (is_under(path, root)) return Place::kShared;
  }
  for (const auto& root : policy.image_roots) {
    if (is_under(path, root)) return Place::kImage;
  }
  return Place::kOutside;
}

// "/cluster" or "/cluster, /scratch": where a user should keep a job's files.
std::string shared_roots_text(const PreflightPolicy& policy) {
  std::string text;
  for (const auto& root : policy.shared_roots) {
    if (!text.empty()) text += ", ";
    text += root.substr(0, root.size() - 1);
  }
  return text;
}

// "a, b, c, d, e and 3 more": at most kMaxFeaturesNamed names.
std::string feature_list_text(const std::vector<std::string>& names) {
  std::string text;
  for (size_t i = 0; i < names.size() && i < kMaxFeaturesNamed; ++i) {
    if (i > 0) text += ", ";
    text += printable(names[i]);
  }
  if (names.size() > kMaxFeaturesNamed) {
    text += " and " + std::to_string(names.size() - kMaxFeaturesNamed) + " more";
  }
  return text;
}

std::string mib_down(uint64_t bytes) { return std::to_string(bytes / kBytesPerMiB) + " MiB"; }

std::string mib_up(uint64_t bytes) {
  return std::to_string(bytes / kBytesPerMiB + (bytes % kBytesPerMiB != 0 ? 1 : 0)) + " MiB";
}

// ceil(bytes * percent / 100), saturated at UINT64_MAX.
uint64_t scaled_up(uint64_t bytes, uint32_t percent) {
  uint64_t whole = bytes / 100;
  uint64_t part = ((bytes % 100) * percent + 99) / 100;  // < 100 * 2^32: no overflow
  constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
  if (percent != 0 && whole > (kMax - part) / percent) return kMax;
  return whole * percent + part;
}

PreflightResult refuse(PreflightCause cause, std::string refusal) {
  PreflightResult result;
  result.cause = cause;
  result.refusal = std::move(refusal);
  return result;
}

// The job's spool directory as a root ("/cluster/jobs/42/"); "" if it has none.
std::string spool_root_of(const JobSnapshot& job) {
  std::string root = job.spool_dir;
  if (!root.empty() && root.back() != '/') root += '/';
  return root;
}

// The phrase for a process using a path through `slot`: "has PATH open", "works in PATH".
std::string use_text(std::string_view slot, std::string_view shown_path) {
  std::string path = printable(shown_path);
  if (slot == "cwd") return "works in " + path;
  if (slot == "exe") return "runs " + path;
  if (slot == "root") return "has its root in " + path;
  return "has " + path + " open";
}

// The local rules, shared by both phases. Fills `files` (sorted, unique) when ok.
PreflightResult scan_job(const JobSnapshot& job, const PreflightPolicy& policy) {
  if (policy.shared_roots.empty()) {
    return refuse(PreflightCause::kBadInput, "no shared root (such as /cluster/) is allowed");
  }
  for (const auto* roots : {&policy.shared_roots, &policy.image_roots}) {
    for (const auto& root : *roots) {
      if (!is_valid_root(root)) {
        return refuse(PreflightCause::kBadInput,
                      "allowed root " + printable(root) + " is not an absolute path ending in '/'");
      }
    }
  }
  const std::string job_name = printable(job.name);
  if (job.processes.empty()) {
    return refuse(PreflightCause::kBadInput, "job " + job_name + " has no processes to move");
  }
  const std::string spool_root = spool_root_of(job);
  if (!spool_root.empty() && !is_valid_root(spool_root)) {
    return refuse(PreflightCause::kBadInput, "job " + job_name +
                                                 " has a spool directory that is not a plain "
                                                 "absolute path: " +
                                                 printable(job.spool_dir));
  }
  const std::string outside = ", outside " + shared_roots_text(policy);

  // Terminals first: the most common reason a job cannot move, and the one a user fixes by
  // starting it differently rather than by moving files.
  for (const auto& process : job.processes) {
    std::string terminal;
    if (process.tty_nr != 0) terminal = tty_name(process.tty_nr);
    for (const auto& fd : process.fds) {
      std::string_view path = fd.target;
      strip_deleted(path);
      if (terminal.empty() && is_terminal_device(path)) terminal = path;
    }
    if (!terminal.empty()) {
      return refuse(PreflightCause::kTerminal,
                    "job " + job_name + " has a terminal (" + printable(terminal) +
                        "): run it with `clusterlive run` without a tty");
    }
  }

  std::set<std::string> files;
  for (const auto& process : job.processes) {
    const std::string pid = "pid " + std::to_string(process.pid) + " ";
    for (const auto& fd : process.fds) {
      std::string_view target = fd.target;
      if (fd.slot == "root") {
        // CRIU restores the root by path; a chroot would silently become "/" elsewhere.
        if (target == "/") continue;
        return refuse(PreflightCause::kUnsupportedFile,
                      pid + use_text(fd.slot, target) + ": chrooted jobs are not migrated");
      }
      // The root directory is on every node (the job's own init works there).
      if (fd.slot == "cwd" && target == "/") continue;
      if (target.starts_with('/')) {
        if (strip_deleted(target)) {
          return refuse(PreflightCause::kDeletedFile,
                        pid + use_text(fd.slot, fd.target) +
                            ": a deleted file cannot be reopened on another node");
        }
        if (contains(kHarmlessDevices, target)) continue;
        if (place_of(target, spool_root, policy) == Place::kOutside) {
          return refuse(PreflightCause::kOutsideRoots, pid + use_text(fd.slot, target) + outside);
        }
        files.emplace(target);
        continue;
      }
      if (target.starts_with("pipe:[")) continue;  // CRIU moves pipes within the job
      if (target.starts_with("socket:[")) {
        return refuse(PreflightCause::kSocket, pid + "has a socket open (" + printable(target) +
                                                   "): sockets are not migrated in v1");
      }
      if (target.starts_with("anon_inode:") &&
          contains(kAllowedAnonInodes, target.substr(std::string_view("anon_inode:").size()))) {
        continue;
      }
      return refuse(PreflightCause::kUnsupportedFile,
                    pid + use_text(fd.slot, target) + ", a kind of file that is not migrated");
    }
    for (const auto& mapping : process.maps) {
      const std::string& path = mapping.path;
      if (path.empty()) continue;  // anonymous memory: pages travel with the dump
      if (path.starts_with('/')) {
        if (mapping.deleted) {
          if (path == kSharedAnonPath && mapping.shared()) continue;
          return refuse(PreflightCause::kDeletedFile,
                        pid + "maps " + printable(path) + std::string(kDeletedSuffix) +
                            ": a deleted file cannot be reopened on another node");
        }
        if (contains(kHarmlessDevices, path)) continue;
        if (place_of(path, spool_root, policy) == Place::kOutside) {
          return refuse(PreflightCause::kOutsideRoots, pid + "maps " + printable(path) + outside);
        }
        files.emplace(path);
        continue;
      }
      if (!mapping.deleted && (contains(kAllowedRegions, path) ||
                               (path.starts_with(kNamedAnonPrefix) && path.ends_with(']')))) {
        continue;
      }
      return refuse(PreflightCause::kUnsupportedFile,
                    pid + "maps " + printable(path) + ", a kind of mapping that is not migrated");
    }
  }

  PreflightResult result;
  result.ok = true;
  result.files_to_check.assign(files.begin(), files.end());
  return result;
}

// The names of `wanted` that `offered` lacks, in `wanted`'s order, less `ignored`.
std::vector<std::string> missing_names(const std::vector<std::string>& wanted,
                                       const std::vector<std::string>& offered,
                                       const std::vector<std::string>& ignored = {}) {
  const std::set<std::string_view> have(offered.begin(), offered.end());
  const std::set<std::string_view> skip(ignored.begin(), ignored.end());
  std::set<std::string_view> seen;
  std::vector<std::string> missing;
  for (const auto& name : wanted) {
    if (have.contains(name) || skip.contains(name) || !seen.insert(name).second) continue;
    missing.push_back(name);
  }
  return missing;
}

}  // namespace

std::optional<Mapping> parse_maps_line(std::string_view line) {
  std::string_view rest = line;
  std::string_view range = next_token(rest);
  std::string_view perms = next_token(rest);
  std::string_view offset = next_token(rest);
  std::string_view dev = next_token(rest);
  std::string_view inode = next_token(rest);
  // The path starts after the kernel's padding and runs to the end of the line: it may
  // hold blanks of its own, even trailing ones.
  std::string_view path = skip_blanks(rest);

  size_t dash = range.find('-');
  size_t colon = dev.find(':');
  if (dash == std::string_view::npos || colon == std::string_view::npos) return std::nullopt;
  Mapping mapping;
  auto start = parse_hex<uint64_t>(range.substr(0, dash));
  auto end = parse_hex<uint64_t>(range.substr(dash + 1));
  auto offset_value = parse_hex<uint64_t>(offset);
  auto major = parse_hex<uint32_t>(dev.substr(0, colon));
  auto minor = parse_hex<uint32_t>(dev.substr(colon + 1));
  auto inode_value = parse_decimal<uint64_t>(inode);
  if (!start || !end || *start >= *end || !is_perms(perms) || !offset_value || !major || !minor ||
      !inode_value) {
    return std::nullopt;
  }
  mapping.deleted = strip_deleted(path);
  if (path.size() > kMaxPathBytes) return std::nullopt;
  mapping.start = *start;
  mapping.end = *end;
  mapping.perms = perms;
  mapping.offset = *offset_value;
  mapping.dev_major = *major;
  mapping.dev_minor = *minor;
  mapping.inode = *inode_value;
  mapping.path = path;
  return mapping;
}

std::optional<std::vector<Mapping>> parse_maps(std::string_view maps) {
  std::vector<Mapping> mappings;
  bool malformed = false;
  for_each_line(maps, [&](std::string_view line) {
    auto mapping = parse_maps_line(line);
    if (!mapping || mappings.size() == kMaxMappings) {
      malformed = true;
      return false;
    }
    mappings.push_back(std::move(*mapping));
    return true;
  });
  if (malformed) return std::nullopt;
  return mappings;
}

std::optional<std::vector<FdEntry>> parse_fd_table(std::string_view table) {
  std::vector<FdEntry> entries;
  std::set<std::string, std::less<>> slots;
  bool malformed = false;
  for_each_line(table, [&](std::string_view line) {
    size_t tab = line.find('\t');
    std::string_view slot = line.substr(0, tab);
    std::string_view target = tab == std::string_view::npos ? "" : line.substr(tab + 1);
    // Canonical decimals only, so "03" cannot pose as a second fd 3.
    auto fd = parse_decimal<uint32_t>(slot, /*canonical=*/true);
    bool slot_ok = is_named_slot(slot) ||
                   (fd && *fd <= static_cast<uint32_t>(std::numeric_limits<int32_t>::max()));
    if (!slot_ok || target.empty() || target.size() > kMaxPathBytes ||
        entries.size() == kMaxFdEntries || !slots.emplace(slot).second) {
      malformed = true;
      return false;
    }
    entries.push_back(FdEntry{std::string(slot), std::string(target)});
    return true;
  });
  if (malformed) return std::nullopt;
  return entries;
}

std::optional<int32_t> parse_stat_tty_nr(std::string_view stat) {
  if (stat.ends_with('\n')) stat.remove_suffix(1);
  // "PID (COMM) STATE PPID PGRP SESSION TTY_NR ...": COMM is whatever the process named
  // itself, ')' and ' ' included, so it ends at the last ')'.
  size_t open = stat.find(" (");
  size_t close = stat.rfind(')');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open + 2) {
    return std::nullopt;
  }
  if (!parse_decimal<uint32_t>(stat.substr(0, open))) return std::nullopt;
  std::string_view rest = stat.substr(close + 1);
  if (!rest.starts_with(' ')) return std::nullopt;
  std::string_view state = next_token(rest);
  if (state.size() != 1 ||
      !((state[0] >= 'A' && state[0] <= 'Z') || (state[0] >= 'a' && state[0] <= 'z'))) {
    return std::nullopt;
  }
  for (int field = 4; field <= 6; ++field) {  // ppid, pgrp, session
    if (!parse_int32(next_token(rest))) return std::nullopt;
  }
  return parse_int32(next_token(rest));
}

std::string tty_name(int32_t tty_nr) {
  // The kernel's new_encode_dev(): minor low byte, 12 bits of major, then the minor's rest.
  auto dev = static_cast<uint32_t>(tty_nr);
  uint32_t major = (dev >> 8) & 0xfffu;
  uint32_t minor = (dev & 0xffu) | ((dev >> 12) & 0xfff00u);
  if (major == 136) return "/dev/pts/" + std::to_string(minor);  // UNIX98 pty slaves
  if (major == 4 && minor < 64) return "/dev/tty" + std::to_string(minor);
  if (major == 4) return "/dev/ttyS" + std::to_string(minor - 64);
  if (major == 5 && minor == 0) return "/dev/tty";
  if (major == 5 && minor == 1) return "/dev/console";
  return "tty device " + std::to_string(major) + ":" + std::to_string(minor);
}

std::optional<std::vector<std::string>> parse_cpuinfo_flags(std::string_view cpuinfo) {
  std::optional<std::string_view> value;
  for_each_line(cpuinfo, [&](std::string_view line) {
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) return true;
    std::string_view name = line.substr(0, colon);
    while (!name.empty() && is_blank(name.back())) name.remove_suffix(1);
    if (name != "flags") return true;  // "vmx flags" is another line
    value = line.substr(colon + 1);
    return false;
  });
  if (!value) return std::nullopt;
  std::vector<std::string> flags;
  std::set<std::string_view> seen;
  std::string_view rest = *value;
  for (std::string_view flag = next_token(rest); !flag.empty(); flag = next_token(rest)) {
    if (flag.size() > kMaxCpuFlagBytes || !std::all_of(flag.begin(), flag.end(), is_flag_char)) {
      return std::nullopt;
    }
    if (!seen.insert(flag).second) continue;
    if (flags.size() == kMaxCpuFlags) return std::nullopt;
    flags.emplace_back(flag);
  }
  // No flags at all is a broken read, not a CPU without features: an empty source list
  // would let a job go anywhere.
  if (flags.empty()) return std::nullopt;
  return flags;
}

PreflightResult preflight_files_to_check(const JobSnapshot& job, const PreflightPolicy& policy) {
  return scan_job(job, policy);
}

PreflightResult preflight_decide(const JobSnapshot& job, const NodeFacts& source,
                                 const NodeFacts& target, const PreflightPolicy& policy) {
  PreflightResult result = scan_job(job, policy);
  if (!result.ok) return result;
  const std::string source_name = printable(source.name);
  const std::string target_name = printable(target.name);

  for (const NodeFacts* node : {&source, &target}) {
    if (node->cpu_flags.empty()) {
      return refuse(PreflightCause::kBadInput,
                    "the CPU flags of " + printable(node->name) + " are unknown");
    }
  }
  auto missing_flags = missing_names(source.cpu_flags, target.cpu_flags, policy.ignored_cpu_flags);
  if (!missing_flags.empty()) {
    return refuse(PreflightCause::kCpuFeatures,
                  target_name + " lacks CPU features: " + feature_list_text(missing_flags));
  }
  auto missing_criu = missing_names(source.criu_features, target.criu_features);
  if (!missing_criu.empty()) {
    return refuse(PreflightCause::kCriuFeatures,
                  target_name + " lacks CRIU features: " + feature_list_text(missing_criu));
  }

  uint64_t needed = scaled_up(job.rss_bytes, policy.memory_headroom_percent);
  if (target.available_bytes < needed) {
    // Available rounded down and needed rounded up, so the figures never look equal.
    return refuse(PreflightCause::kMemory,
                  target_name + " has " + mib_down(target.available_bytes) +
                      " of memory available, job " + printable(job.name) + " needs " +
                      mib_up(needed) + " (" + std::to_string(policy.memory_headroom_percent) +
                      "% of its " + mib_up(job.rss_bytes) + " resident)");
  }

  const std::string spool_root = spool_root_of(job);
  for (const auto& path : result.files_to_check) {
    const std::string shown = printable(path);
    auto here = source.files.find(path);
    if (here == source.files.end()) {
      return refuse(PreflightCause::kFileMissing, source_name + " did not report on " + shown);
    }
    if (!here->second.exists) {
      return refuse(PreflightCause::kFileMissing,
                    source_name + " no longer has " + shown + " (removed during pre-flight?)");
    }
    auto there = target.files.find(path);
    if (there == target.files.end()) {
      return refuse(PreflightCause::kFileMissing, target_name + " did not report on " + shown);
    }
    if (!there->second.exists) {
      return refuse(PreflightCause::kFileMissing, target_name + " has no " + shown);
    }
    if (place_of(path, spool_root, policy) == Place::kImage &&
        here->second.size != there->second.size) {
      return refuse(PreflightCause::kFileDiffers,
                    target_name + " has a different " + shown + ": " +
                        std::to_string(there->second.size) + " bytes there, " +
                        std::to_string(here->second.size) + " bytes on " + source_name);
    }
    // The target's build-id is not quoted: it is the peer's text, and its length is theirs.
    if (here->second.build_id != there->second.build_id) {
      return refuse(PreflightCause::kFileDiffers,
                    target_name + " has a different " + shown + ": its build-id differs");
    }
  }
  return result;
}

}  // namespace clusterlive
