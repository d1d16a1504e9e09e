// The figures a node samples about itself once a second: runnable tasks, memory, online
// cores. Read from /proc and /sys through the pure parsers of core/proc_parsers; behind a
// small interface so the daemon can be tested with FakeProcStats.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "core/proc_parsers.h"

namespace clusterlive {

/// Largest /proc or /sys file read, in bytes. /proc/stat's "intr" line grows with the
/// number of interrupts and CPUs; a few hundred KiB on big machines.
constexpr size_t kMaxProcFileBytes = 4 * 1024 * 1024;

/// One sample of this node's figures.
struct ProcStats {
  uint32_t procs_running = 0;      ///< runnable tasks now, the daemon's reading thread included
  uint16_t online_cores = 0;       ///< CPUs online (saturated at 65535)
  uint32_t mem_total_mib = 0;      ///< MemTotal
  uint32_t mem_available_mib = 0;  ///< MemAvailable

  bool operator==(const ProcStats&) const = default;
};

/// Where the daemon gets its samples from.
class ProcStatsSource {
 public:
  virtual ~ProcStatsSource() = default;
  /// Takes one sample; nullopt with `error` set ("path: reason") if a figure is unavailable.
  virtual std::optional<ProcStats> read(std::string& error) = 0;
};

/// Reads the real files: <root>/proc/stat, <root>/proc/meminfo and
/// <root>/sys/devices/system/cpu/online.
class ProcFsStats final : public ProcStatsSource {
 public:
  /// `root` "/" (or "") is the real system; a directory holding proc/ and sys/ fixtures
  /// otherwise.
  explicit ProcFsStats(std::string root = "/");

  std::optional<ProcStats> read(std::string& error) override;

  /// procs_running of /proc/stat.
  std::optional<uint32_t> read_procs_running(std::string& error) const;
  /// MemTotal and MemAvailable of /proc/meminfo.
  std::optional<MemInfo> read_meminfo(std::string& error) const;
  /// /proc/loadavg (not part of read(): for status output only).
  std::optional<LoadAverage> read_loadavg(std::string& error) const;
  /// Online CPUs: sys/devices/system/cpu/online under the root, which is what glibc's
  /// sysconf(_SC_NPROCESSORS_ONLN) reads; on the real root, sysconf() itself if that file
  /// is unreadable (sysconf falls back to /proc/stat and never fails).
  std::optional<uint16_t> read_online_cores(std::string& error) const;

 private:
  bool real_root() const;
  std::string root_;
};

/// Hands out a fixed sample (or error) for tests of code that uses a ProcStatsSource.
class FakeProcStats final : public ProcStatsSource {
 public:
  std::optional<ProcStats> read(std::string& error) override {
    ++reads;
    if (!stats) error = fail_with;
    return stats;
  }

  std::optional<ProcStats> stats = ProcStats{1, 4, 16384, 8192};  ///< nullopt: fail
  std::string fail_with = "fake: unavailable";                    ///< the error then
  int reads = 0;                                                  ///< read() calls so far
};

}  // namespace clusterlive
