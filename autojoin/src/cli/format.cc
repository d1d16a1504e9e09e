#include "cli/format.h"

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <iterator>

namespace clusterlive::cli {
namespace {

constexpr int64_t kMsPerSecond = 1000;
constexpr int64_t kSecondsPerMinute = 60;
constexpr int64_t kSecondsPerHour = 3600;
constexpr int64_t kSecondsPerDay = 86'400;
/// Below this, "ago" durations are shown in tenths of a second, in ms.
constexpr int64_t kTenthsBelowMs = 10'000;
/// Handshakes newer than this count as recent in MeshView, in seconds (WireGuard's rekey).

std::string printf_text(const char* format, int64_t a, int64_t b) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, format, a, b);
  return buffer;
}

std::string or_missing(const std::string& text) {
  return text.empty() ? kMissing : terminal_safe(text);
}

/// A migration phase for a person: "final_dump" as "final dump"; kMissing when empty.
std::string phase_text(const std::string& phase) {
  std::string text = or_missing(phase);
  std::replace(text.begin(), text.end(), '_', ' ');
  return text;
}

template <typename T>
std::string number_or_missing(const std::optional<T>& value) {
  return value ? std::to_string(*value) : kMissing;
}

std::string pad(const std::string& cell, size_t width, bool right) {
  size_t used = display_width(cell);
  std::string spaces(width > used ? width - used : 0, ' ');
  return right ? spaces + cell : cell + spaces;
}

// "/cluster from node-a1 (served here, pinned)" or "none yet: <decision>".
std::string storage_text(const api::StorageView& storage) {
  std::string text;
  if (storage.mounted) {
    text = terminal_safe(storage.mount_point) + " from " + terminal_safe(storage.server);
  } else {
    text = "not mounted";
    if (!storage.decision.empty()) text += " \u2014 " + terminal_safe(storage.decision);
  }
  std::vector<std::string> notes;
  if (storage.serving) notes.push_back("served here");
  if (storage.pinned) notes.push_back("pinned");
  if (storage.mounted && !storage.homes_linked) notes.push_back("homes not linked there yet");
  if (!storage.busy_with.empty()) notes.push_back("busy: " + terminal_safe(storage.busy_with));
  for (size_t i = 0; i < notes.size(); ++i) text += (i == 0 ? " (" : ", ") + notes[i];
  if (!notes.empty()) text += ")";
  return text;
}

std::string criu_text(const api::CriuCheckView& criu) {
  if (!criu.known) return "not checked yet";
  std::string text = criu.ok ? "ok" : "FAILED";
  if (!criu.detail.empty()) text += ": " + terminal_safe(criu.detail);
  return text;
}

std::string mesh_text(const api::MeshView& mesh) {
  std::string state = mesh.up ? "up" : "down";
  return mesh.interface.empty() ? state : terminal_safe(mesh.interface) + ", " + state;
}

std::string mesh_address_text(const api::MeshView& mesh) {
  if (mesh.address.empty()) return kMissing;
  std::string text = terminal_safe(mesh.address);
  if (mesh.listen_port != 0) text += ", port " + std::to_string(mesh.listen_port);
  return text;
}

std::string mesh_peers_text(const api::MeshView& mesh) {
  std::string text = std::to_string(mesh.peers);
  if (mesh.peers > 0) {
    text += ", " + std::to_string(mesh.peers_with_recent_handshake) +
            " with a handshake in the last " + std::to_string(api::kRecentHandshakeSeconds) + " s";
  }
  return text;
}

/// KiB in a MiB.
constexpr double kKibPerMib = 1024.0;

std::string decimal_text(double value) {
  if (!std::isfinite(value)) return kMissing;
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.1f", value);
  return buffer;
}

/// `unix_ms` as local time with strftime's `format`; kMissing when it cannot be shown.
std::string local_time_text(int64_t unix_ms, const char* format) {
  time_t seconds = static_cast<time_t>(unix_ms / kMsPerSecond);
  tm local{};
  if (!localtime_r(&seconds, &local)) return kMissing;
  char buffer[64];
  if (std::strftime(buffer, sizeof buffer, format, &local) == 0) return kMissing;
  return buffer;
}

bool shell_safe(const std::string& word) {
  if (word.empty()) return false;
  for (char c : word) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              std::strchr("@%+=:,./_-", c) != nullptr;
    if (!ok) return false;
  }
  return true;
}

}  // namespace

std::string terminal_safe(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7f) {
      out.push_back('?');
    } else if (c == 0xc2 && i + 1 < text.size() &&
               static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
               static_cast<unsigned char>(text[i + 1]) <= 0x9f) {
      out.push_back('?');  // U+0080..U+009F, the C1 controls (CSI among them)
      ++i;
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

size_t display_width(std::string_view text) {
  return static_cast<size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xc0) != 0x80;  // not a continuation byte
  }));
}

std::string format_duration(int64_t ms) {
  int64_t s = std::max<int64_t>(0, ms) / kMsPerSecond;
  if (s < kSecondsPerMinute) return std::to_string(s) + "s";
  if (s < kSecondsPerHour) {
    return printf_text("%" PRId64 "m %02" PRId64 "s", s / kSecondsPerMinute, s % kSecondsPerMinute);
  }
  if (s < kSecondsPerDay) {
    return printf_text("%" PRId64 "h %02" PRId64 "m", s / kSecondsPerHour,
                       s % kSecondsPerHour / kSecondsPerMinute);
  }
  return printf_text("%" PRId64 "d %02" PRId64 "h", s / kSecondsPerDay,
                     s % kSecondsPerDay / kSecondsPerHour);
}

std::string format_ago(std::optional<int64_t> ms) {
  if (!ms) return kMissing;
  int64_t value = std::max<int64_t>(0, *ms);
  if (value < kTenthsBelowMs) {
    return printf_text("%" PRId64 ".%" PRId64 "s ago", value / 1000, value % 1000 / 100);
  }
  return format_duration(value) + " ago";
}

std::string format_fields(const std::vector<std::pair<std::string, std::string>>& fields) {
  size_t width = 0;
  for (const auto& [key, value] : fields) width = std::max(width, display_width(key) + 1);
  std::string out;
  for (const auto& [key, value] : fields) {
    out += pad(key + ":", width, false) + " " + value + "\n";
  }
  return out;
}

std::string format_table(const std::vector<std::string>& header,
                         const std::vector<std::vector<std::string>>& rows,
                         const std::vector<bool>& right_aligned) {
  std::vector<size_t> widths(header.size(), 0);
  auto measure = [&widths](const std::vector<std::string>& row) {
    for (size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      widths[i] = std::max(widths[i], display_width(row[i]));
    }
  };
  measure(header);
  for (const auto& row : rows) measure(row);

  auto line = [&](const std::vector<std::string>& row) {
    std::string out;
    for (size_t i = 0; i < widths.size(); ++i) {
      const std::string cell = i < row.size() ? row[i] : "";
      bool right = i < right_aligned.size() && right_aligned[i];
      if (i > 0) out += "  ";
      out += pad(cell, widths[i], right);
    }
    out.erase(out.find_last_not_of(' ') + 1);
    return out + "\n";
  };
  std::string out = line(header);
  for (const auto& row : rows) out += line(row);
  return out;
}

std::string format_status(const api::StatusView& status, bool counters) {
  std::vector<std::pair<std::string, std::string>> fields;
  fields.emplace_back("node", or_missing(status.node));
  if (status.cluster_id) {
    fields.emplace_back("cluster", terminal_safe(*status.cluster_id));
  } else {
    std::string alone = "none \u2014 running alone";
    if (!status.alone_reason.empty()) alone += ": " + terminal_safe(status.alone_reason);
    fields.emplace_back("cluster", alone);
  }
  fields.emplace_back("secret source",
                      status.secret_source ? or_missing(*status.secret_source) : kMissing);
  fields.emplace_back("members", std::to_string(status.members_up) + " up, " +
                                     std::to_string(status.members_suspect) + " suspect, " +
                                     std::to_string(status.members_dead) + " dead");
  fields.emplace_back("foreign nodes", std::to_string(status.foreign_nodes));
  fields.emplace_back("criu check", criu_text(status.criu));
  fields.emplace_back("mesh", mesh_text(status.mesh));
  fields.emplace_back("mesh address", mesh_address_text(status.mesh));
  fields.emplace_back("mesh peers", mesh_peers_text(status.mesh));
  if (!status.mesh.error.empty()) {
    fields.emplace_back("mesh error", terminal_safe(status.mesh.error));
  }
  fields.emplace_back("storage", storage_text(status.storage));
  if (!status.storage.error.empty()) {
    fields.emplace_back("storage error", terminal_safe(status.storage.error));
  }
  fields.emplace_back("uptime", format_duration(status.uptime_ms));
  fields.emplace_back("version", or_missing(status.version));
  if (!counters) return format_fields(fields);

  if (status.counters.empty()) {
    fields.emplace_back("counters", "none");
    return format_fields(fields);
  }
  fields.emplace_back("counters", "");
  std::string out = format_fields(fields);
  out.pop_back();  // "counters:" has no value: no trailing space
  while (!out.empty() && out.back() == ' ') out.pop_back();
  out += "\n";
  std::vector<std::pair<std::string, std::string>> counter_fields;
  for (const auto& [name, value] : status.counters) {
    counter_fields.emplace_back("  " + terminal_safe(name), std::to_string(value));
  }
  return out + format_fields(counter_fields);
}

std::string format_nodes(const std::vector<api::NodeView>& nodes) {
  const std::vector<std::string> header = {"NAME",  "STATE", "ADDRESSES", "CORES",
                                           "SPEED", "LOAD",  "MEM(MiB)",  "LAST-HEARD"};
  const std::vector<bool> right = {false, false, false, true, true, true, true, false};
  std::vector<std::vector<std::string>> rows;
  bool any_foreign = false;
  for (const api::NodeView& node : nodes) {
    std::string addresses;
    for (const std::string& address : node.addresses) {
      if (!addresses.empty()) addresses += ",";
      addresses += terminal_safe(address);
    }
    std::string load = kMissing;
    if (node.load) {
      char buffer[32];
      std::snprintf(buffer, sizeof buffer, "%.2f", *node.load);
      load = buffer;
    }
    any_foreign |= node.state == "foreign";
    rows.push_back({or_missing(node.name) + (node.self ? "*" : ""), or_missing(node.state),
                    addresses.empty() ? kMissing : addresses, number_or_missing(node.cores),
                    number_or_missing(node.cpu_speed), load,
                    number_or_missing(node.free_memory_mib), format_ago(node.last_heard_ms_ago)});
  }
  std::string out = format_table(header, rows, right);
  out += "* this node";
  if (any_foreign) out += "; foreign: a node of another cluster, shown, never joined";
  return out + "\n";
}

}  // namespace clusterlive::cli

namespace clusterlive::cli {

std::string job_state_text(const api::JobView& job) {
  if (job.state == api::kJobExited) {
    return "exited " + (job.exit_code ? std::to_string(*job.exit_code) : "?");
  }
  if (job.state == api::kJobKilled) {
    return "killed " + (job.signal ? std::to_string(*job.signal) : "?");
  }
  return or_missing(job.state);
}

std::string format_started(int64_t started_unix_ms, int64_t now_unix_ms) {
  if (started_unix_ms <= 0) return kMissing;
  std::string day = local_time_text(started_unix_ms, "%Y-%m-%d");
  if (day != local_time_text(now_unix_ms, "%Y-%m-%d")) return day;
  return local_time_text(started_unix_ms, "%H:%M:%S");
}

std::string shell_words(const std::vector<std::string>& argv) {
  std::string out;
  for (const std::string& word : argv) {
    if (!out.empty()) out += ' ';
    if (shell_safe(word)) {
      out += word;
      continue;
    }
    out += '\'';
    for (char c : word) {
      if (c == '\'') {
        out += "'\\''";
      } else {
        out += c;
      }
    }
    out += '\'';
  }
  return terminal_safe(out);
}

std::string format_jobs(std::vector<api::JobView> jobs, int64_t now_unix_ms) {
  std::stable_sort(jobs.begin(), jobs.end(), [](const api::JobView& a, const api::JobView& b) {
    if (a.started_unix_ms != b.started_unix_ms) return a.started_unix_ms < b.started_unix_ms;
    return a.id < b.id;
  });
  const std::vector<std::string> header = {"JOB",   "NAME", "OWNER",    "HOME", "WHERE",
                                           "STATE", "CPU%", "RSS(MiB)", "MIG",  "STARTED"};
  const std::vector<bool> right = {false, false, false, false, false,
                                   false, true,  true,  true,  false};
  std::vector<std::vector<std::string>> rows;
  for (const api::JobView& job : jobs) {
    bool ended = job.ended();
    std::string state = job_state_text(job);
    if (job.locked && !ended) state += " (locked)";
    rows.push_back({or_missing(job.id), or_missing(job.name), or_missing(job.owner),
                    or_missing(job.home), ended ? kMissing : or_missing(job.where), state,
                    ended ? kMissing : decimal_text(job.cpu_percent),
                    ended ? kMissing : decimal_text(static_cast<double>(job.rss_kib) / kKibPerMib),
                    std::to_string(job.migrations),
                    format_started(job.started_unix_ms, now_unix_ms)});
  }
  return format_table(header, rows, right);
}

std::string format_lock_change(const api::JobView& job) {
  std::string text = terminal_safe(job.id);
  if (!job.locked) return text + " unlocked";
  if (job.state == api::kJobMigrating) {
    return text + " locked: the move under way ends first, then it stays where it is";
  }
  return text + " locked: it stays on " + terminal_safe(or_missing(job.where));
}

std::string format_job(const api::JobView& job) {
  bool ended = job.ended();
  std::vector<std::pair<std::string, std::string>> fields;
  fields.emplace_back("job", or_missing(job.id));
  fields.emplace_back("name", or_missing(job.name));
  fields.emplace_back("command", job.argv.empty() ? kMissing : shell_words(job.argv));
  fields.emplace_back("state", job_state_text(job));
  fields.emplace_back("owner",
                      or_missing(job.owner) + " (uid " + std::to_string(job.owner_uid) + ")");
  fields.emplace_back("home", or_missing(job.home));
  fields.emplace_back("where", ended ? kMissing : or_missing(job.where));
  fields.emplace_back("cpu", ended ? kMissing : decimal_text(job.cpu_percent) + "% of a core");
  fields.emplace_back("memory", ended
                                    ? kMissing
                                    : decimal_text(static_cast<double>(job.rss_kib) / kKibPerMib) +
                                          " MiB resident");
  fields.emplace_back("migrations", std::to_string(job.migrations));
  fields.emplace_back("locked", job.locked ? "yes: it may not be moved" : "no");
  fields.emplace_back("started", job.started_unix_ms > 0
                                     ? local_time_text(job.started_unix_ms, "%Y-%m-%d %H:%M:%S")
                                     : kMissing);
  fields.emplace_back("spool", or_missing(job.spool));
  if (job.migration) fields.emplace_back("migration", format_migration(*job.migration));
  return format_fields(fields);
}

std::string format_bytes(uint64_t bytes) {
  static constexpr const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB"};
  constexpr double kStep = 1024.0;
  if (bytes < 1024) return std::to_string(bytes) + " B";
  double value = static_cast<double>(bytes) / kStep;
  size_t unit = 0;
  // Switch units at 1023.95, not 1024: "1024.0 KiB" would be printed otherwise.
  while (value >= kStep - 0.05 && unit + 1 < std::size(kUnits)) {
    value /= kStep;
    ++unit;
  }
  return decimal_text(value) + " " + kUnits[unit];
}

std::string format_rate(uint64_t bytes_per_s) { return format_bytes(bytes_per_s) + "/s"; }

std::string format_seconds(int64_t ms) {
  int64_t centiseconds = (std::max<int64_t>(0, ms) + 5) / 10;  // rounded to the nearest
  return printf_text("%" PRId64 ".%02" PRId64 " s", centiseconds / 100, centiseconds % 100);
}

std::string migration_progress_text(const api::MigrationView& migration) {
  std::string text = phase_text(migration.phase);
  if (migration.round > 0) text += " round " + std::to_string(migration.round);
  if (migration.bytes_sent > 0) text += ", " + format_bytes(migration.bytes_sent) + " sent";
  if (migration.rate_bytes_per_s > 0) text += ", " + format_rate(migration.rate_bytes_per_s);
  return text;
}

std::string format_migration(const api::MigrationView& migration) {
  std::string text = "to " + or_missing(migration.target);
  if (migration.attempt > 0) text += " (attempt " + std::to_string(migration.attempt) + ")";
  text += ": ";
  if (!migration.ended()) return text + migration_progress_text(migration) + ", in progress";
  if (migration.outcome == api::kMigrationCommitted) {
    text += "committed";
    if (migration.freeze_ms) text += ", frozen " + format_seconds(*migration.freeze_ms);
    return text + ", " + format_bytes(migration.bytes_sent) + " sent";
  }
  text += or_missing(migration.outcome);
  // Where it stopped helps only when the phase is not just the outcome again.
  if (!migration.phase.empty() && migration.phase != migration.outcome &&
      migration.phase != "aborting") {
    text += " in " + phase_text(migration.phase);
  }
  if (!migration.reason.empty()) text += ": " + terminal_safe(migration.reason);
  return text;
}

}  // namespace clusterlive::cli
