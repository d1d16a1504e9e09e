// How `clusterlive` shows things to a person: aligned "key: value" lines for status and a job,
// tables for nodes and jobs, short durations, times of day. Pure functions (text in, text
// out; times in the local time zone), unit-tested.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api/api_types.h"

namespace clusterlive::cli {

/// Shown for a value that is absent or unknown.
constexpr const char* kMissing = "-";

/// `text` safe to print on a terminal: control characters (C0, DEL, C1) become '?', so a
/// node name from the network cannot move the cursor or retitle the window.
std::string terminal_safe(std::string_view text);

/// Columns `text` takes on a terminal: UTF-8 code points (all counted as one column wide).
size_t display_width(std::string_view text);

/// A duration in its two largest units: "45s", "5m 07s", "2h 03m", "3d 04h". Negative: "0s".
std::string format_duration(int64_t ms);

/// How long ago something was heard: "0.4s ago" under 10 s (tenths), then "12s ago",
/// "5m 07s ago"...; kMissing when absent.
std::string format_ago(std::optional<int64_t> ms);

/// Lines "key:   value", values aligned one space after the longest key, each ending "\n".
std::string format_fields(const std::vector<std::pair<std::string, std::string>>& fields);

/// A table: a header row, then rows; columns separated by two spaces, numbers right-aligned
/// where `right_aligned[i]` is set, no trailing spaces. Every line ends "\n".
std::string format_table(const std::vector<std::string>& header,
                         const std::vector<std::vector<std::string>>& rows,
                         const std::vector<bool>& right_aligned);

/// `clusterlive status`: node, cluster (or why it runs alone), secret source, members,
/// foreign nodes, criu check, mesh, uptime; with `counters`, every counter too.
std::string format_status(const api::StatusView& status, bool counters);

/// `clusterlive nodes`: NAME STATE ADDRESSES CORES SPEED LOAD MEM(MiB) LAST-HEARD, this node
/// marked "*" after its name, and a legend line.
std::string format_nodes(const std::vector<api::NodeView>& nodes);

/// A job's state for a person: "running", "migrating", "exited 0", "killed 9", "lost"
/// ("exited ?" when the daemon did not say the code).
std::string job_state_text(const api::JobView& job);

/// When a job started, in local time: "HH:MM:SS" when that is on the same local day as
/// `now_unix_ms`, else the date "YYYY-MM-DD"; kMissing when unknown (0).
std::string format_started(int64_t started_unix_ms, int64_t now_unix_ms);

/// `argv` as it would be typed in a shell: words with anything but letters, digits and
/// "@%+=:,./_-" are single-quoted; control characters are made terminal-safe.
std::string shell_words(const std::vector<std::string>& argv);

/// `clusterlive ps`: JOB NAME OWNER HOME WHERE STATE CPU% RSS(MiB) MIG STARTED, oldest first.
/// A job that may not be moved shows "(locked)" after its state; an ended job shows its end
/// ("exited 0", "killed 9") and no place, CPU or memory.
std::string format_jobs(std::vector<api::JobView> jobs, int64_t now_unix_ms);

/// `clusterlive job JOB`: every field of one job, "key: value" lines; "migration" when the
/// daemon knows of one (format_migration()).
std::string format_job(const api::JobView& job);

/// What `clusterlive lock` and `unlock` say, from the job in the answer: "j-3f9a0c12 locked:
/// it stays on node-77c2e0" (or, while it is being moved: where the move leaves it), or
/// "j-3f9a0c12 unlocked".
std::string format_lock_change(const api::JobView& job);

/// An amount of memory in binary units, one decimal past bytes: "512 B", "1.5 KiB",
/// "12.3 MiB", "2.0 GiB", up to TiB.
std::string format_bytes(uint64_t bytes);

/// A transfer rate: format_bytes() per second, e.g. "8.1 MiB/s".
std::string format_rate(uint64_t bytes_per_s);

/// A short time in seconds with two decimals: "1.23 s" (negative: "0.00 s").
std::string format_seconds(int64_t ms);

/// Where a migration stands: its phase ("final_dump" as "final dump"), then the pre-copy
/// round, bytes sent and rate when known (not 0): "precopy round 2, 12.3 MiB sent, 8.1 MiB/s".
std::string migration_progress_text(const api::MigrationView& migration);

/// A migration on one line, for `clusterlive job`: "to NODE (attempt N): " then, under way,
/// migration_progress_text() and "in progress"; once over, its outcome ("committed", with the
/// freeze and bytes sent; "aborted in PHASE: REASON"; "lost: REASON").
std::string format_migration(const api::MigrationView& migration);

}  // namespace clusterlive::cli
