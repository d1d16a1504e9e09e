// The command lines of every CRIU request of a migration (DESIGN.md, "Migration"), as argv
// vectors for the `criu` 4.1 CLI. Pure: no I/O; the daemon's edge creates the directories,
// runs the commands (the restore under the job's shim on the target) and moves the images.
// README.md beside this file says why each flag is there.
//
// Layout of one migration attempt, the same on both nodes, each in its own local directory:
//   <attempt_dir>/1/, 2/, ...     images of pre-copy round 1, 2, ...
//   <attempt_dir>/final/          images of the final dump
//   <attempt_dir>/<request>-<set>.log   one CRIU log per request, e.g. pre-dump-2.log,
//                                 page-server-final.log, restore-final.log
// On the target the page server writes the memory (pagemap-*.img, pages-*.img) of each set;
// on the source pre-dump and dump write the rest (core, mm, files, pstree, stats-dump, ...).
// Round n names round n-1 as its parent (`--prev-images-dir ../<n-1>`, relative to the set's
// own directory, as CRIU requires) and the final set names the last round: CRIU then sends
// only the pages dirtied since, and a restore reads the chain back through the `parent`
// symlinks CRIU leaves in each set.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace clusterlive::criu {

/// The program run for every request (looked up in PATH).
inline constexpr std::string_view kCriuProgram = "criu";
/// CRIU's log level for every request: 4 is CRIU's most detailed level ("debug"), so a
/// failed migration's log says which step failed and why.
inline constexpr int kLogLevel = 4;

/// One set of images in an attempt: pre-copy round `round` (from 1), or the final dump, whose
/// parent is the last pre-copy round (`round`; 0 when there was no pre-copy).
struct ImageSet {
  bool final_dump = false;
  uint32_t round = 0;

  /// Pre-copy round `round` (from 1): MigrationActionKind::precopy_round's round.
  static ImageSet precopy(uint32_t round) { return {false, round}; }
  /// The final dump after `last_round` pre-copy rounds: MigrationActionKind::final_dump's round.
  static ImageSet final_after(uint32_t last_round) { return {true, last_round}; }

  /// "3" for round 3, "final" for the final dump: the set's directory under the attempt.
  std::string name() const;
  /// The round whose images this set builds on; 0 for none (round 1, or a final dump
  /// without pre-copy).
  uint32_t parent_round() const;

  bool operator==(const ImageSet&) const = default;
};

/// "<attempt_dir>/<set>": the set's images directory (CRIU's -D). It must exist before the
/// request: CRIU does not create it.
std::string images_dir(const std::string& attempt_dir, const ImageSet& set);
/// "<attempt_dir>/<request>-<set>.log", e.g. ".../pre-dump-2.log": the request's log.
std::string log_path(const std::string& attempt_dir, std::string_view request, const ImageSet& set);

/// The target's page server for one set: receives the pages of one pre-dump or dump over the
/// mesh, writes them into the set's directory, and exits when that one client is done.
struct PageServerRequest {
  std::string attempt_dir;  ///< absolute: this (target) node's directory of the attempt
  ImageSet set;
  std::string address;  ///< this node's mesh address: the server listens there only
  uint16_t port = 0;    ///< TCP port, chosen by the edge (one server per port at a time)
  /// A descriptor the caller inherits to the server: CRIU writes one NUL byte to it and closes
  /// it once it listens, so the caller starts the dump only then (no connect race). -1: none.
  int status_fd = -1;
};
std::vector<std::string> page_server_command(const PageServerRequest& request);

/// A dump into the target's page server, of the job's whole process tree: pre-dump (the job
/// keeps running) or dump (the job is frozen, then left stopped here).
struct DumpRequest {
  pid_t pid = 0;            ///< the job's init (PID 1 of its namespace), as this node sees it
  std::string attempt_dir;  ///< absolute: this (source) node's directory of the attempt
  ImageSet set;
  std::string address;  ///< the target's mesh address: where its page server listens
  uint16_t port = 0;    ///< the page server's port
};
/// `criu pre-dump` for a pre-copy round (`request.set` must be a pre-copy round).
std::vector<std::string> pre_dump_command(const DumpRequest& request);
/// `criu dump` for the final set (`request.set` must be a final dump set).
std::vector<std::string> dump_command(const DumpRequest& request);

/// The restore on the target, from the final set (its own images plus those the source wrote,
/// copied in by the edge). Run it as a child of the job's shim, a subreaper: criu exits when
/// the job is restored (-d), and the job's init, orphaned, becomes the shim's child.
struct RestoreRequest {
  std::string attempt_dir;  ///< absolute: this (target) node's directory of the attempt
  /// Absolute; CRIU writes the restored init's PID there (as this node sees it). It must not
  /// exist yet: CRIU refuses to overwrite a pidfile.
  std::string pidfile;
};
std::vector<std::string> restore_command(const RestoreRequest& request);

/// `criu check` of what a migration needs on a node (pre-flight, both sides): the base check,
/// then the dirty-memory tracking pre-copy relies on. Either exits non-zero when missing.
std::vector<std::string> check_command();
std::vector<std::string> check_precopy_command();

}  // namespace clusterlive::criu
