// What the local API shows and does, as plain structs: the contract between the daemon (which
// fills them) and the API server, the CLI and the GUI (which turn them into JSON and back).
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace clusterlive::api {

/// Version of the JSON protocol on the local socket; every message carries it as "api".
constexpr int kApiVersion = 1;
/// Where clusterlived listens (a Unix stream socket, mode 0666: anyone may read state).
constexpr const char* kDefaultSocketPath = "/run/clusterlive/api.sock";

/// Who is calling, from SO_PEERCRED.
struct Caller {
  uid_t uid = 0;
  gid_t gid = 0;
  pid_t pid = 0;
  bool is_root() const { return uid == 0; }
};

/// `criu check` as recorded at boot (/var/lib/clusterlive/criu-check.json).
struct CriuCheckView {
  bool known = false;  ///< false: no result recorded (yet)
  bool ok = false;
  std::string detail;  ///< e.g. "Looks good." or the first error line
};

/// The shared /cluster as this node sees it (DESIGN.md, issue 4 "Shared /cluster").
struct StorageView {
  std::string server;        ///< node serving /cluster, "" while there is none
  bool serving = false;      ///< this node exports /cluster
  bool pinned = false;       ///< this node was booted with clusterlive.role=storage
  bool mounted = false;      ///< /cluster is mounted here from `server` (jobs can run)
  bool homes_linked = false; ///< the users' homes lead to /cluster/home on this mount
  std::string mount_point;   ///< e.g. "/cluster"
  std::string decision;      ///< why, e.g. "node-a1 serves"
  std::string busy_with;     ///< the helper action running now, "" if none
  std::string error;         ///< why the last action failed, "" after a success
};

/// A peer whose last WireGuard handshake is at most this old counts as connected: WireGuard
/// rekeys every 120 s while a tunnel carries traffic.
constexpr int64_t kRecentHandshakeSeconds = 180;

/// The WireGuard mesh interface of this node.
struct MeshView {
  bool up = false;
  std::string interface;   ///< e.g. "clmesh0"
  std::string address;     ///< this node's mesh address (IPv6 text)
  uint16_t listen_port = 0;
  std::string public_key;  ///< base64, as `wg` shows it
  size_t peers = 0;        ///< WireGuard peers configured (= authenticated live members)
  size_t peers_with_recent_handshake = 0;  ///< see kRecentHandshakeSeconds
  std::string error;       ///< why the mesh is not up, if it is not
};

/// `clusterlive status`.
struct StatusView {
  std::string version;  ///< clusterlived's version
  std::string node;     ///< this node's id (its hostname)
  /// Set when the node has a cluster secret; absent when it runs alone.
  std::optional<std::string> cluster_id;
  std::optional<std::string> secret_source;  ///< e.g. "boot medium"
  /// Why the node runs alone, e.g. "no cluster secret" or a bad key file's error.
  std::string alone_reason;
  size_t members_up = 0;  ///< other nodes, this node not counted
  size_t members_suspect = 0;
  size_t members_dead = 0;
  size_t foreign_nodes = 0;
  CriuCheckView criu;
  MeshView mesh;
  StorageView storage;
  int64_t uptime_ms = 0;  ///< since the daemon started
  /// Everything counted: rejected records and datagrams by reason, bytes, refutations.
  std::map<std::string, uint64_t> counters;
};

/// One row of `clusterlive nodes`, this node included.
struct NodeView {
  std::string name;
  bool self = false;
  std::string state;  ///< "up", "suspect", "dead" or "foreign"
  std::optional<std::string> cluster_id;  ///< set for foreign nodes (their claimed cluster)
  std::vector<std::string> addresses;     ///< LAN addresses, then the mesh address
  std::optional<uint16_t> cores;
  std::optional<uint32_t> cpu_speed;     ///< relative per-core speed from the boot benchmark
  std::optional<double> load;            ///< smoothed runnable tasks
  std::optional<uint32_t> free_memory_mib;
  std::optional<int64_t> last_heard_ms_ago;  ///< absent for this node and unheard nodes
  int64_t state_for_ms = 0;                  ///< how long it has been in `state`
};

/// Outcome of `create` or `join`.
struct ClusterChange {
  bool ok = false;
  std::string error;       ///< when !ok: why, for the user
  std::string cluster_id;  ///< when ok: the cluster now joined
};

/// Prefix of every job id; the rest is kJobIdHexDigits lower-case hex digits.
constexpr const char* kJobIdPrefix = "j-";
constexpr size_t kJobIdHexDigits = 8;
/// Where the daemon keeps a job's spool directory, `<kJobsDirectory>/<id>`, on the shared
/// filesystem so that every node reaches it at the same path.
constexpr const char* kJobsDirectory = "/cluster/jobs";
/// In a job's spool directory: the job's standard output and standard error, appended to while
/// it runs, wherever it runs. They exist once `run` has answered, owned by the job's user.
constexpr const char* kJobStdoutFile = "stdout";
constexpr const char* kJobStderrFile = "stderr";

/// JobView::state values. A job is "running", "migrating" or "unreachable" (its node is not a
/// live member now: crashed, or cut off and maybe coming back) until it has ended; then it is
/// "exited" (exit_code set), "killed" (signal set) or "lost" (no node runs it any more).
constexpr const char* kJobRunning = "running";
constexpr const char* kJobUnreachable = "unreachable";
constexpr const char* kJobMigrating = "migrating";
constexpr const char* kJobExited = "exited";
constexpr const char* kJobKilled = "killed";
constexpr const char* kJobLost = "lost";

/// MigrationView::outcome values: under way, or how it ended.
constexpr const char* kMigrationInProgress = "in_progress";
constexpr const char* kMigrationCommitted = "committed";  ///< the job runs on the target now
constexpr const char* kMigrationAborted = "aborted";      ///< undone: the job runs where it was
constexpr const char* kMigrationLost = "lost";            ///< the job did not survive it
/// MigrateRequest::target for "back to the node the job was started on".
constexpr const char* kMigrateToHome = "home";
/// MigrateRequest::target for "the node where the job would run fastest" (core/placement.h);
/// refused when no node would run it clearly faster than the one it is on.
constexpr const char* kMigrateToBest = "best";

/// The current or last migration of a job, as the node asked knows it (the node that
/// coordinates it: the one the job ran on when it started).
struct MigrationView {
  std::string target;                ///< node id the job is being moved to
  uint64_t attempt = 0;              ///< the job's migration attempt number (the commit record's)
  std::string phase;                 ///< "starting", "prepare", "preflight", "precopy",
                                     ///< "final_dump", "restore", "commit", "committed",
                                     ///< "aborting" or "aborted"; others may come
  uint32_t round = 0;                ///< pre-copy round, 1 up; 0 before pre-copy
  uint64_t bytes_sent = 0;           ///< memory sent to the target so far, bytes
  uint64_t rate_bytes_per_s = 0;     ///< recent transfer rate, bytes per second
  std::optional<int64_t> freeze_ms;  ///< how long the job was frozen, ms (once known)
  std::string outcome;               ///< kMigrationInProgress, kMigrationCommitted, ...
  std::string reason;                ///< why it aborted or was lost; empty on commit
  int64_t updated_unix_ms = 0;       ///< when any of this last changed, ms since the Unix epoch

  /// True once it is over (committed, aborted or lost): it will not change again.
  bool ended() const { return outcome != kMigrationInProgress; }
};

/// A job: a command started with `clusterlive run`, as the daemon knows it, running or ended.
struct JobView {
  std::string id;                ///< e.g. "j-3f9a0c12": unique cluster-wide
  std::string name;              ///< --name, or the command's basename
  uint32_t owner_uid = 0;        ///< the job runs as this user (who asked for it)
  std::string owner;             ///< user name (uid as text when unknown)
  std::string home;              ///< node the job was started on
  std::string where;             ///< node running it now ("" once it ended)
  std::string state;  ///< kJobRunning, kJobMigrating, kJobUnreachable, kJobExited, kJobKilled, kJobLost
  std::optional<int> exit_code;  ///< when state == "exited"
  std::optional<int> signal;     ///< when state == "killed": the signal that ended it
  double cpu_percent = 0;        ///< of one core, last few seconds
  uint64_t rss_kib = 0;          ///< resident memory, KiB
  uint32_t migrations = 0;       ///< times it has moved to another node
  bool locked = false;           ///< may not be moved (openMosix "cantmove")
  int64_t started_unix_ms = 0;   ///< when it was started, ms since the Unix epoch
  std::vector<std::string> argv;
  std::string spool;  ///< its spool directory, e.g. /cluster/jobs/j-3f9a0c12
  /// Its current or last migration, when the node asked knows of one.
  std::optional<MigrationView> migration;

  /// True once the job has ended (exited, killed or lost): its state will not change again.
  bool ended() const { return state == kJobExited || state == kJobKilled || state == kJobLost; }
};

/// What `run` asks for: a command to start as a job, as the caller's user.
struct RunRequest {
  std::vector<std::string> argv;  ///< the command and its arguments: at least one element
  std::string cwd;                ///< working directory, absolute
  /// The environment to give the job (only the job sees it, as its user). The CLI sends
  /// the caller's environment except kJobEnvDenylist.
  std::map<std::string, std::string> env;
  std::string name;  ///< optional; empty: the daemon names the job after argv[0]'s basename
};

/// Environment variables the CLI does not pass to a job. Not a security boundary (the job
/// runs as its caller, and the daemon's shim never uses the job's environment): they name
/// libraries of the caller's desktop session, usually outside /cluster, which would pin the
/// job to this node or break it after a move.
constexpr const char* kJobEnvDenylist[] = {"LD_PRELOAD", "LD_AUDIT"};

/// What `migrate` asks for: move a job to another node.
struct MigrateRequest {
  std::string job;     ///< the job's id
  /// A node id, kMigrateToHome for the node the job was started on, or kMigrateToBest.
  std::string target;
  /// The attempt to make, chosen by the node that relays a user's request to the node that
  /// runs the job (so the user follows that very migration); 0: the next one. A lower one
  /// than the job's record allows is refused as stale.
  uint64_t attempt = 0;
};

/// The answer to ps.
struct JobList {
  std::vector<JobView> jobs;
  /// Why the jobs cannot be listed (no shared /cluster mounted: the spool is not there); ""
  /// when `jobs` is the whole list. An empty list is never given for "unknown".
  std::string unavailable;
};

/// Outcome of run_job, job, kill_job, migrate_job and set_job_locked.
struct JobResult {
  bool ok = false;
  /// When !ok: "permission_denied" (not the caller's job), "not_found" (no such job) or
  /// "failed" (tried and failed); anything else is answered as "failed".
  std::string error_code;
  std::string error;  ///< when !ok: why, for the user
  JobView job;        ///< when ok: the job (for kill_job: as it is once the kill was sent)
};

/// What the API server asks of the daemon. The server has already checked permissions
/// (reading is for everyone; key_show, create and join are for root only; the job commands,
/// migrate among them, are for everyone, and the Backend checks who owns the job).
class Backend {
 public:
  virtual ~Backend() = default;
  virtual StatusView status() = 0;
  virtual std::vector<NodeView> nodes() = 0;
  /// The cluster secret as 64 hex digits; nullopt when the node has none.
  virtual std::optional<std::string> secret_hex() = 0;
  /// Makes a fresh random secret, stores it, and switches the node to that new cluster.
  virtual ClusterChange create_cluster() = 0;
  /// Stores `secret_text` (64 hex digits) and switches the node to that cluster.
  virtual ClusterChange join_cluster(const std::string& secret_text) = 0;

  /// Starts `request.argv` as a job running as `caller`'s uid (and gid), its standard output
  /// and error going to kJobStdoutFile and kJobStderrFile in its spool directory, which exist
  /// when this returns ok. The request's shape is already checked (check_arguments()).
  virtual JobResult run_job(const Caller& caller, const RunRequest& request) = 0;
  /// Every job the daemon knows, running or ended, anyone's; or why it cannot know them.
  virtual JobList jobs() = 0;
  /// The job `id` (a well-formed id; error "not_found" when there is no such job).
  virtual JobResult job(const std::string& id) = 0;
  /// Ends the job `id`, if `caller` owns it or is root (else error "permission_denied"). The
  /// job in the answer may still be running: its end shows in later answers, as "killed".
  virtual JobResult kill_job(const Caller& caller, const std::string& id) = 0;
  /// Starts moving the job `request.job` to `request.target`, if `caller` owns it or is root
  /// (else error "permission_denied"; "not_found" when there is no such job). Answers once
  /// the migration has started: the job is "migrating", its `migration` under way
  /// (kMigrationInProgress); its end shows in later answers to job(). Error "failed", the
  /// message naming the cause, when it cannot start (locked, ended, unknown or dead target,
  /// already migrating...). The request's shape is already checked (check_arguments()).
  /// Not pure yet: clusterlived's override comes separately; until it does, the answer is
  /// this error (delete the body, "= 0", once every Backend implements it).
  virtual JobResult migrate_job(const Caller& caller, const MigrateRequest& request) = 0;
  /// Locks the job `id` to the node it runs on (`locked`: migrate refuses to move it, and so
  /// will the balancer), or unlocks it, if `caller` owns it or is root (else error
  /// "permission_denied"; "not_found" when there is no such job; "failed" once it has ended).
  /// Locking a locked job, or unlocking an unlocked one, is fine. The answer shows the job
  /// with its new `locked`.
  virtual JobResult set_job_locked(const Caller& caller, const std::string& id, bool locked) = 0;
};

}  // namespace clusterlive::api
