// The figures a migration needs after each CRIU request, read from the statistics image CRIU
// leaves in the images directory: `stats-dump` after pre-dump and dump (on the node that
// dumped), `stats-restore` after restore. Read directly, without `crit` (python3-pycriu is not
// on the image): the file is tiny and its format is simple (below). The parser is bounded and
// never throws: a damaged or foreign file gives an error, not a crash.
//
// File format (CRIU 4.1, criu/image.c and images/stats.proto): two little-endian 32-bit magic
// numbers (kServiceMagic: a "service" image; kStatsMagic), then one entry: a little-endian
// 32-bit length and that many bytes of a protobuf StatsEntry message
//   StatsEntry      { optional DumpStatsEntry dump = 1; optional RestoreStatsEntry restore = 2; }
//   DumpStatsEntry  { freezing_time = 1, frozen_time = 2, memdump_time = 3, memwrite_time = 4
//                     (uint32, microseconds); pages_scanned = 5, pages_skipped_parent = 6,
//                     pages_written = 7 (uint64); irmap_resolve = 8 (uint32, microseconds);
//                     pages_lazy = 9, page_pipes = 10, page_pipe_bufs = 11,
//                     shpages_scanned = 12, shpages_skipped_parent = 13, shpages_written = 14 }
//   RestoreStatsEntry { pages_compared = 1, pages_skipped_cow = 2 (uint64); forking_time = 3,
//                     restore_time = 4 (uint32, microseconds); pages_restored = 5 (uint64) }
// Unknown fields (a later CRIU) are skipped.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace clusterlive::criu {

/// First magic number of CRIU's service images (inventory, stats...).
inline constexpr uint32_t kServiceMagic = 0x55105940;
/// Second magic number: a statistics image.
inline constexpr uint32_t kStatsMagic = 0x57093306;
/// The largest statistics file read, in bytes. CRIU 4.1 writes under 100.
inline constexpr size_t kMaxStatsFileBytes = 4096;

/// What a pre-dump or dump reports (DumpStatsEntry). Times in microseconds, counts in pages
/// (4 KiB each on x86-64).
struct DumpStats {
  uint64_t freezing_time_us = 0;  ///< freezing the tree (the cgroup freezer or ptrace seize)
  /// The job stood still: from frozen to unfrozen (a pre-dump), or to the end of the dump (a
  /// dump: then it stays stopped until the caller resumes or kills it).
  uint64_t frozen_time_us = 0;
  uint64_t memdump_time_us = 0;       ///< collecting the pages (into pipes), while frozen
  uint64_t memwrite_time_us = 0;      ///< sending them (to the page server or the image files)
  uint64_t pages_scanned = 0;         ///< private pages looked at
  uint64_t pages_skipped_parent = 0;  ///< unchanged since the parent set: not sent again
  uint64_t pages_written = 0;         ///< sent in this set: the round's dirty set
  uint64_t pages_lazy = 0;            ///< left for lazy restore (0 here: post-copy is not used)
  uint64_t shpages_scanned = 0;       ///< shared memory (MAP_SHARED anonymous, SysV) pages
  uint64_t shpages_skipped_parent = 0;
  uint64_t shpages_written = 0;

  bool operator==(const DumpStats&) const = default;
};

/// What a restore reports (RestoreStatsEntry).
struct RestoreStats {
  uint64_t pages_compared = 0;
  uint64_t pages_skipped_cow = 0;
  uint64_t forking_time_us = 0;  ///< recreating the process tree
  uint64_t restore_time_us = 0;  ///< the whole restore
  uint64_t pages_restored = 0;

  bool operator==(const RestoreStats&) const = default;
};

/// A parsed statistics file: `dump` and/or `restore` when present; `error` non-empty when the
/// file could not be read or is not a valid statistics image (then both are empty).
struct CriuStats {
  std::optional<DumpStats> dump;
  std::optional<RestoreStats> restore;
  std::string error;

  bool ok() const { return error.empty(); }
};

/// Parses the bytes of a `stats-dump` or `stats-restore` file.
CriuStats parse_criu_stats(std::string_view bytes);
/// Reads (at most kMaxStatsFileBytes) and parses a statistics file, e.g.
/// "<attempt>/2/stats-dump". Errors name the path.
CriuStats read_criu_stats(const std::string& path);

/// One line for logs, e.g. "written 1234 pages, skipped 15000 from parent, frozen 12.3 ms".
std::string describe(const DumpStats& stats);
std::string describe(const RestoreStats& stats);

}  // namespace clusterlive::criu
