#include "sys/proc_stats.h"

#include <unistd.h>

#include <algorithm>
#include <utility>

#include "sys/file_io.h"

namespace clusterlive {
namespace {

// Reads `path` and parses it with `parse`; nullopt with `error` set if either fails.
template <typename Parse>
auto read_and_parse(const std::string& path, Parse parse, std::string& error)
    -> decltype(parse(std::string_view())) {
  ReadResult file = read_file_bounded(path, kMaxProcFileBytes);
  if (file.status == ReadStatus::not_found) {
    error = path + ": not found";
    return std::nullopt;
  }
  if (file.status != ReadStatus::ok) {
    error = file.error;
    return std::nullopt;
  }
  auto parsed = parse(file.text);
  if (!parsed) error = path + ": malformed";
  return parsed;
}

}  // namespace

ProcFsStats::ProcFsStats(std::string root) : root_(std::move(root)) {}

bool ProcFsStats::real_root() const { return root_.empty() || root_ == "/"; }

std::optional<ProcStats> ProcFsStats::read(std::string& error) {
  auto running = read_procs_running(error);
  if (!running) return std::nullopt;
  auto memory = read_meminfo(error);
  if (!memory) return std::nullopt;
  auto cores = read_online_cores(error);
  if (!cores) return std::nullopt;
  return ProcStats{*running, *cores, memory->total_mib, memory->available_mib};
}

std::optional<uint32_t> ProcFsStats::read_procs_running(std::string& error) const {
  return read_and_parse(path_under_root(root_, "/proc/stat"), parse_procs_running, error);
}

std::optional<MemInfo> ProcFsStats::read_meminfo(std::string& error) const {
  return read_and_parse(path_under_root(root_, "/proc/meminfo"), parse_meminfo, error);
}

std::optional<LoadAverage> ProcFsStats::read_loadavg(std::string& error) const {
  return read_and_parse(path_under_root(root_, "/proc/loadavg"), parse_loadavg, error);
}

std::optional<uint16_t> ProcFsStats::read_online_cores(std::string& error) const {
  std::string file_error;
  auto count = read_and_parse(path_under_root(root_, "/sys/devices/system/cpu/online"),
                              parse_cpu_list_count, file_error);
  if (!count && real_root()) {
    long online = ::sysconf(_SC_NPROCESSORS_ONLN);
    if (online > 0) count = static_cast<uint32_t>(std::min<long>(online, UINT32_MAX));
  }
  if (!count) {
    error = file_error;
    return std::nullopt;
  }
  return static_cast<uint16_t>(std::min<uint32_t>(*count, UINT16_MAX));
}

}  // namespace clusterlive
