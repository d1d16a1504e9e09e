// Pre-flight of a migration: may this job move to that node? Decided on the source before
// anything is frozen, so a refusal costs nothing and says why. Pure: the I/O edge reads
// /proc on the source, asks both nodes about the job's files and hands the text and answers
// in; this code parses and decides. A refusal names the cause (pid, path, node, figures) in
// words a user can act on.
//
// Two phases:
//   1. preflight_files_to_check(job): the local rules (terminal, files outside the allowed
//      roots, deleted files, sockets, unknown fds) and, if they pass, the deduplicated paths
//      both nodes must be asked about;
//   2. preflight_decide(job, source, target): the local rules again, then CPU flags, CRIU
//      features, memory and the two nodes' answers about each of those paths.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace clusterlive {

/// Most lines accepted in one /proc/PID/maps (the kernel's default vm.max_map_count is 65530).
constexpr size_t kMaxMappings = 65536;
/// Most entries accepted in one fd table (fds plus cwd, root and exe).
constexpr size_t kMaxFdEntries = 65536;
/// Longest path accepted, in bytes (PATH_MAX, terminating NUL included).
constexpr size_t kMaxPathBytes = 4096;
/// Most flags accepted on one /proc/cpuinfo "flags" line (6.x kernels print about 150).
constexpr size_t kMaxCpuFlags = 1024;
/// Longest CPU flag accepted, in bytes.
constexpr size_t kMaxCpuFlagBytes = 64;
/// Most missing CPU or CRIU features named in one refusal; the rest are counted.
constexpr size_t kMaxFeaturesNamed = 5;

/// One line of /proc/PID/maps.
struct Mapping {
  uint64_t start = 0;   ///< first address
  uint64_t end = 0;     ///< one past the last address
  std::string perms;    ///< 4 characters: [r-][w-][x-][ps], e.g. "r-xp"
  uint64_t offset = 0;  ///< offset into the file, in bytes
  uint32_t dev_major = 0;
  uint32_t dev_minor = 0;
  uint64_t inode = 0;
  /// A file path ("/usr/lib/x86_64-linux-gnu/libc.so.6", without " (deleted)"), a special
  /// region ("[heap]", "[stack]", "[vdso]", "[vvar]", "[anon:name]", ...), another kernel
  /// name ("anon_inode:[perf_event]") or empty for anonymous memory. The kernel writes a
  /// newline in a file name as "\012"; nothing else is escaped.
  std::string path;
  bool deleted = false;  ///< the path carried the kernel's " (deleted)" suffix

  /// True for a MAP_SHARED mapping ('s').
  bool shared() const { return perms.size() == 4 && perms[3] == 's'; }

  bool operator==(const Mapping&) const = default;
};

/// Parses one line of /proc/PID/maps (without its '\n'); nullopt if malformed: bad numbers
/// (hex overflow included), start >= end, bad perms, a missing field or a path longer than
/// kMaxPathBytes.
std::optional<Mapping> parse_maps_line(std::string_view line);

/// Parses a whole /proc/PID/maps; nullopt if any line is malformed or there are more than
/// kMaxMappings lines. Empty text is an empty list (a zombie has no mappings).
std::optional<std::vector<Mapping>> parse_maps(std::string_view maps);

/// One entry of a process's fd table, as the I/O edge writes it.
struct FdEntry {
  /// The decimal fd number, or "cwd", "root" or "exe" for those links of /proc/PID.
  std::string slot;
  /// readlink(2) of /proc/PID/fd/FD (or /proc/PID/cwd, root, exe): "/cluster/home/u/out.txt",
  /// "/tmp/x (deleted)", "pipe:[123]", "socket:[456]", "anon_inode:[eventfd]", "/dev/pts/3".
  std::string target;

  bool operator==(const FdEntry&) const = default;
};

/// Parses the fd table the I/O edge gathers: one "SLOT<TAB>TARGET" line per entry, SLOT a
/// decimal fd (no sign, at most INT32_MAX) or "cwd", "root" or "exe"; TARGET is everything
/// after the first tab, non-empty, at most kMaxPathBytes. nullopt if any line is malformed
/// (an empty line inside included), a slot repeats or there are more than kMaxFdEntries.
std::optional<std::vector<FdEntry>> parse_fd_table(std::string_view table);

/// The tty_nr field (field 7) of /proc/PID/stat: the controlling terminal's device number in
/// the kernel's encoding, 0 for none. The comm field may hold spaces and parentheses, so the
/// fields are counted from the line's LAST ')'. nullopt if the line is malformed up to that
/// field or the number does not fit an int32; later fields are not examined.
std::optional<int32_t> parse_stat_tty_nr(std::string_view stat);

/// The device name of a tty_nr: "/dev/pts/3", "/dev/tty1", "/dev/ttyS0", "/dev/tty",
/// "/dev/console", or "tty device MAJOR:MINOR" for others.
std::string tty_name(int32_t tty_nr);

/// The flags of the first "flags" line of /proc/cpuinfo, in the kernel's order without
/// repeats. nullopt if there is no such line, it is empty, a flag is not [a-z0-9_], longer
/// than kMaxCpuFlagBytes, or there are more than kMaxCpuFlags. (Every CPU of one machine
/// has the same flags; the first line speaks for all.)
std::optional<std::vector<std::string>> parse_cpuinfo_flags(std::string_view cpuinfo);

/// One process of the job, as the I/O edge read it.
struct ProcessSnapshot {
  int32_t pid = 0;  ///< the pid named in refusals (the one `clusterlive ps` shows)
  std::vector<Mapping> maps;
  std::vector<FdEntry> fds;  ///< should include "cwd", "root" and "exe"
  int32_t tty_nr = 0;
};

/// The job on the source node.
struct JobSnapshot {
  std::string name;       ///< as users know it, e.g. "42" or "42 (crunch)"
  std::string spool_dir;  ///< e.g. "/cluster/jobs/42/"; files under it are allowed
  std::vector<ProcessSnapshot> processes;
  uint64_t rss_bytes = 0;  ///< resident memory of all the job's processes
};

/// What a node says about one path: stat(2) of it plus its ELF build-id.
struct FileFacts {
  bool exists = false;
  uint64_t size = 0;     ///< st_size of a regular file; 0 for anything else
  std::string build_id;  ///< lower-case hex of the ELF NT_GNU_BUILD_ID note; "" if none

  bool operator==(const FileFacts&) const = default;
};

/// One side of the move.
struct NodeFacts {
  std::string name;  ///< node id, e.g. "node-3a9f01"
  /// parse_cpuinfo_flags() of the node's /proc/cpuinfo.
  std::vector<std::string> cpu_flags;
  /// Source: the CRIU features the dump will rely on. Target: those its CRIU offers (names
  /// as `criu check --feature` spells them).
  std::vector<std::string> criu_features;
  /// Target: memory new work can get without swapping (MemAvailable). Unused for the source.
  uint64_t available_bytes = 0;
  /// The node's answer for each path of preflight_files_to_check().
  std::map<std::string, FileFacts> files;
};

/// Policy of the pre-flight: every constant in one place.
struct PreflightPolicy {
  /// Shared storage, the same files on every node. Each ends with '/'. Their files must exist
  /// on the target with the same build-id; the size is not compared (a job's output grows
  /// while we look, and NFS clients cache attributes).
  std::vector<std::string> shared_roots = {"/cluster/"};
  /// The image's read-only system trees, alike on every node booted from the same image.
  /// Their files must exist on the target with the same size and build-id (a node booted
  /// from another image build, or with a changed /etc file, must not pass).
  std::vector<std::string> image_roots = {"/usr/", "/lib/", "/lib64/", "/bin/", "/sbin/", "/etc/"};
  /// CPU flags that say nothing about the instructions a process may run: topology, timers,
  /// power management, virtualisation, the kernel's own choices and mitigations. A missing
  /// one does not refuse a move; every other flag the source has, the target must have.
  std::vector<std::string> ignored_cpu_flags = {
      // topology
      "ht", "xtopology", "extd_apicid", "cmp_legacy", "topoext",
      // timers and power management
      "constant_tsc", "nonstop_tsc", "tsc_known_freq", "tsc_reliable", "tsc_deadline_timer",
      "tsc_adjust", "arat", "aperfmperf", "epb", "ida", "dtherm", "pln", "pts",
      // running under a hypervisor
      "hypervisor",
      // synthetic flags the kernel sets for itself
      "cpuid", "rep_good", "nopl",
      // speculation mitigations (microcode and kernel state)
      "pti", "ibrs", "ibpb", "stibp", "ssbd", "md_clear", "flush_l1d", "arch_capabilities",
      "ibrs_enhanced", "amd_ssbd", "virt_ssbd"};
  /// The target must have this much of the job's RSS available, in percent (pages copied
  /// during pre-copy, page cache of the images and the job's growth need room too).
  uint32_t memory_headroom_percent = 125;
};

/// Why a move was refused.
enum class PreflightCause {
  kNone,             ///< not refused
  kBadInput,         ///< the snapshot or the facts are incomplete or inconsistent
  kTerminal,         ///< the job has a controlling tty or a terminal open
  kOutsideRoots,     ///< a file outside the shared roots, the image roots and the spool
  kDeletedFile,      ///< a deleted file, open or mapped
  kSocket,           ///< a socket (none are migrated in v1)
  kUnsupportedFile,  ///< another kind of fd or mapping CRIU cannot move
  kFileMissing,      ///< a file is missing (or unreported) on a node
  kFileDiffers,      ///< a file differs between the nodes (size or build-id)
  kCpuFeatures,      ///< the target CPU lacks a flag the source has
  kCriuFeatures,     ///< the target's CRIU lacks a feature the dump uses
  kMemory,           ///< the target has too little memory available
};

/// The outcome of either phase.
struct PreflightResult {
  bool ok = false;
  PreflightCause cause = PreflightCause::kNone;
  std::string refusal;  ///< one sentence naming the cause; empty when ok
  /// Phase 1: the paths both nodes must be asked about, sorted, without repeats. Phase 2:
  /// the same list (what was checked).
  std::vector<std::string> files_to_check;
};

/// Phase 1: applies the rules that need only the source's view of the job. Refuses (naming
/// the first cause found, terminals first) or returns ok with the files both nodes must
/// report on. Allowed without asking anyone: pipes, /dev/null, /dev/zero, /dev/random,
/// /dev/urandom, eventfd, eventpoll, signalfd, timerfd and inotify fds, anonymous and
/// shared-anonymous memory, [heap], [stack], [vdso], [vvar], [vvar_vclock], [vsyscall] and
/// [anon:NAME] regions.
PreflightResult preflight_files_to_check(const JobSnapshot& job,
                                         const PreflightPolicy& policy = {});

/// Phase 2: the whole decision. Repeats phase 1, then checks, in this order: both nodes'
/// CPU flags (the target's must include the source's, less policy.ignored_cpu_flags), CRIU
/// features, the target's available memory against the job's RSS plus headroom, and each
/// path of phase 1 in both nodes' `files` (an unreported path refuses).
PreflightResult preflight_decide(const JobSnapshot& job, const NodeFacts& source,
                                 const NodeFacts& target, const PreflightPolicy& policy = {});

}  // namespace clusterlive
