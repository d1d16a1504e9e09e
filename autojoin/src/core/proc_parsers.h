// Parsers of the kernel's /proc and /sys text files the daemon samples: how many tasks are
// runnable, how much memory is available, how many cores are online. Pure: the caller reads
// the files (sys/proc_stats) and hands their text in. Every parser is strict about the part
// it needs and returns nullopt when that part is missing or malformed.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace clusterlive {

/// The `procs_running` figure of /proc/stat: tasks runnable right now (running or waiting
/// for a CPU), the reading task included. nullopt if the line is missing or malformed.
std::optional<uint32_t> parse_procs_running(std::string_view proc_stat);

/// Memory figures of /proc/meminfo, in MiB (rounded down; saturated at UINT32_MAX).
struct MemInfo {
  uint32_t total_mib = 0;      ///< MemTotal
  uint32_t available_mib = 0;  ///< MemAvailable: what new work can get without swapping

  bool operator==(const MemInfo&) const = default;
};

/// Parses /proc/meminfo. Needs `MemTotal:` and `MemAvailable:` (Linux >= 3.14), each a
/// decimal number followed by " kB"; nullopt if either is missing or malformed.
std::optional<MemInfo> parse_meminfo(std::string_view meminfo);

/// The figures of /proc/loadavg ("0.52 0.58 0.59 2/1234 56789").
struct LoadAverage {
  uint32_t one_minute_milli = 0;       ///< 1-minute load average x 1000
  uint32_t five_minutes_milli = 0;     ///< 5-minute load average x 1000
  uint32_t fifteen_minutes_milli = 0;  ///< 15-minute load average x 1000
  uint32_t runnable_tasks = 0;         ///< runnable scheduling entities now
  uint32_t total_tasks = 0;            ///< scheduling entities in the system
  uint32_t last_pid = 0;               ///< most recently allocated PID

  bool operator==(const LoadAverage&) const = default;
};

/// Parses /proc/loadavg; nullopt if malformed. Averages take 1 to 3 decimals.
std::optional<LoadAverage> parse_loadavg(std::string_view loadavg);

/// Highest CPU number accepted in a CPU list (Linux's NR_CPUS is at most 8192).
constexpr uint32_t kMaxCpuNumber = 65535;

/// Counts the CPUs of a kernel CPU list such as /sys/devices/system/cpu/online ("0-3,8,10-11"
/// is 7), which is where glibc's sysconf(_SC_NPROCESSORS_ONLN) looks too. nullopt if
/// malformed, empty, a range is reversed or a CPU number exceeds kMaxCpuNumber.
std::optional<uint32_t> parse_cpu_list_count(std::string_view cpu_list);

/// The figures of one process's /proc/PID/stat that a job's row needs.
struct ProcessStat {
  /// utime + stime + cutime + cstime, in clock ticks (sysconf(_SC_CLK_TCK)): the process's
  /// own CPU time and that of its children it has reaped (a build's compilers come and go).
  uint64_t cpu_ticks = 0;
  uint64_t rss_pages = 0;         ///< resident set, in pages
  uint64_t start_time_ticks = 0;  ///< when it started, in clock ticks after boot: with the
                                  ///< pid, names one process even after its pid is reused

  bool operator==(const ProcessStat&) const = default;
};

/// Parses /proc/PID/stat. The command name (field 2) is in parentheses and may itself hold
/// spaces and ')', so fields are counted from the last ')'. nullopt if malformed.
std::optional<ProcessStat> parse_process_stat(std::string_view stat);

/// What the owner check of a restored job needs from /proc/PID/status.
struct ProcessStatus {
  char state = '?';                  ///< "State:" letter: R, S, D, T, Z (zombie), ...
  std::array<uint32_t, 4> uids{};    ///< "Uid:": real, effective, saved, filesystem

  /// A zombie has ended: it runs no code, and a restored one carries the credentials of the
  /// CRIU process that re-created it, not its own.
  bool zombie() const { return state == 'Z'; }
  bool operator==(const ProcessStatus&) const = default;
};

/// Parses /proc/PID/status's "State:" and "Uid:" lines. nullopt if either is missing or
/// malformed.
std::optional<ProcessStatus> parse_process_status(std::string_view status);

}  // namespace clusterlive
