// The migration state machine: moving one job (a process tree in its own PID namespace and its
// own cgroup) from a source node to a target node with CRIU (DESIGN.md, "Migration"). Pure: no
// I/O, no clock. The daemon feeds events in and carries out the actions that come back (CRIU
// pre-dump, dump and restore, a page server per round on the target, requests over the mesh,
// the records on /cluster).
//
// Phases of the source side (MigrationCoordinator):
//   prepare (write location.<attempt>) -> preflight -> precopy (rounds, job running) -> final
//   dump (job frozen) -> restore (on the target, kept stopped) -> commit (rename the record)
//   -> committed
// and aborting -> aborted from any phase before the commit is known to have landed.
//
// The commit record protocol (what makes "never zero, never two" hold across crashes):
//   /cluster/jobs/<job>/location          "<node> <attempt>\n" (format_commit_record): the node
//                                         that runs the job and the attempt that put it there.
//                                         The single arbiter: a copy runs only on the node it
//                                         names, and only the copy of the attempt it names.
//                                         A job's first record names attempt 0.
//   /cluster/jobs/<job>/location.<attempt> the prepared record naming the target and this
//                                         attempt. The source writes it when the migration
//                                         starts, before anything reaches the target, so a
//                                         target that holds anything of the attempt always
//                                         finds something to fence.
//   commit = rename(location.<attempt>, location)                   (the coordinator, once)
//   fence  = rename(location.<attempt>, fenced.<attempt>.<fencer>)  (every abort of the
//            coordinator; the target on an idle timeout; a restarted source), then read
//            `location` and decide from what it names.
// Both renames take the same source name, so exactly one of them can succeed: after a fence the
// commit can no longer land late (a write stuck on a hung NFS mount, say) and contradict what
// the fencing node read. Fence names carry the fencer so two fencers never rename onto one
// name, and the leftovers say who fenced which attempt (they are kept with the job: see
// next_attempt). ENOENT from either rename is ambiguous, never success or plain failure: the
// name was renamed by someone (another fencer, or our own rename retransmitted by NFS and
// answered twice), so the only truth is what `location` names now: read it and decide.
//
// Cgroups: every job has one cgroup per node it is on, holding all of its processes.
//   resume_source        thaws that cgroup on the source and SIGCONTs every process in it
//                        (cgroup.procs), not just the init: CRIU may leave any task stopped.
//   kill_source_copy     writes 1 to the source cgroup's cgroup.kill.
//   discard_local_copy   (target) writes 1 to the target cgroup's cgroup.kill: the restored
//                        tree goes whole, even half restored, with a restore still running in
//                        it; then this attempt's images go.
// One cgroup per job is also why a target holds at most one undecided participant per job
// (refuse_participant): a discard of one attempt would kill another attempt's copy.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace clusterlive {

using TimeMs = int64_t;  ///< monotonic time in milliseconds, passed in by the caller

// --- Migration policy constants ------------------------------------------------
// Every tunable of the migration, in one place. Change them here and nowhere else.

/// Bytes per memory page (x86-64), to turn CRIU's page counts into bytes.
constexpr uint64_t kPageBytes = 4096;
/// Most pre-copy rounds before the final dump, in rounds (p.haul's MAX_ITERS_COUNT): a job
/// that dirties memory as fast as we send it never converges, so stop trying.
constexpr uint32_t kMaxPrecopyRounds = 8;
/// A dirty set this small, in pages (1 MiB), is left to the final dump: it crosses even the
/// emulated mesh (~9 MB/s) in ~0.1 s, so another round cannot shorten the freeze noticeably.
/// A job whose whole resident set is this small skips pre-copy entirely.
constexpr uint64_t kMinPrecopyPages = 256;
/// Pre-copy goes on only while each round's dirty set is below this share of the previous
/// round's, in per mille: at 80 % or more the rounds have stopped paying for themselves.
constexpr uint64_t kPrecopyShrinkPermille = 800;
/// The target must have this much of the job's resident memory available (MemAvailable), in
/// percent: the restored copy needs its resident set, and meanwhile the images of the rounds
/// and the final dump (about as much again) sit in the target's memory too.
constexpr uint64_t kMemoryHeadroomPercent = 200;

/// Deadline of writing the prepared record location.<attempt>, in milliseconds. A small file:
/// a /cluster that cannot take it in this time would not take the commit either.
constexpr TimeMs kPrepareTimeoutMs = 10'000;
/// Deadline of the pre-flight (CRIU and CPU checks here and on the target, files reachable
/// there), in milliseconds.
constexpr TimeMs kPreflightTimeoutMs = 30'000;
/// Fixed part of the deadline of a transfer (a pre-copy round or the final dump), in
/// milliseconds: starting CRIU and a page server, and the dump's own work.
constexpr TimeMs kTransferTimeoutBaseMs = 30'000;
/// The slowest transfer not taken for a hang, in bytes per second. A transfer's deadline adds
/// the time its expected pages take at this rate (see transfer_timeout_ms). Well below the
/// emulated mesh's ~9 MB/s; a dead target is noticed sooner by membership anyway.
constexpr uint64_t kMinTransferBytesPerS = 1'000'000;
/// Deadline of the restore on the target, in milliseconds. The job is frozen meanwhile.
constexpr TimeMs kRestoreTimeoutMs = 120'000;
/// While it restores, the target says so on the link this often, in milliseconds...
constexpr TimeMs kRestoreHeartbeatMs = 5'000;
/// ...and the coordinator takes this long a silence for a lost target (a cut link or a dead
/// node), rather than waiting out kRestoreTimeoutMs with the job frozen.
constexpr TimeMs kRestoreSilenceMs = 20'000;
/// After this long without an answer to write_commit_record, in milliseconds, the migration is
/// flagged overdue in its progress. Not aborted: the write may still land (see the class).
constexpr TimeMs kCommitOverdueMs = 10'000;

/// The target gives up on a restore that has not finished after this long, in milliseconds
/// (then fences and decides by the commit record). Longer than kRestoreTimeoutMs, so the
/// coordinator, which holds the frozen original, normally decides first.
constexpr TimeMs kParticipantRestoreTimeoutMs = kRestoreTimeoutMs + 30'000;
/// The target fences and decides by the commit record when it has heard nothing of the
/// attempt from the coordinator (a request, a message, pages arriving) for this long, in
/// milliseconds, in every phase but its own restore (the coordinator waits for us then). A live
/// coordinator is never this quiet: pages flow during a transfer, and it answers a finished
/// restore within one record write.
constexpr TimeMs kParticipantIdleTimeoutMs = 30'000;
/// A fence that failed, or a commit record that was unreadable, is tried again after this
/// long, in milliseconds.
constexpr TimeMs kRecordRereadIntervalMs = 5'000;
/// Longest commit record accepted, in bytes: a node id (63), a space, a 20-digit attempt and
/// a newline fit with room to spare.
constexpr size_t kMaxCommitRecordBytes = 128;

/// Deadline of a transfer of `expected_pages` pages: kTransferTimeoutBaseMs plus the pages'
/// time at kMinTransferBytesPerS. In milliseconds.
TimeMs transfer_timeout_ms(uint64_t expected_pages);

// --- The records on /cluster -----------------------------------------------------

/// What `location` (and a prepared location.<attempt>) says: the node that runs the job and
/// the attempt that put it there.
struct CommitRecord {
  std::string node;      ///< a valid node id
  uint64_t attempt = 0;  ///< 0 for the node that first ran the job

  bool operator==(const CommitRecord&) const = default;
};

/// The file that names where the job runs, in the job's spool directory.
constexpr std::string_view kCommitRecordName = "location";

/// "<node> <attempt>\n", e.g. "node-c10002 4\n".
std::string format_commit_record(const CommitRecord& record);
/// Parses format_commit_record's text: a valid node id (is_valid_node_id), one space, the
/// attempt in canonical decimal (no sign or leading zero), at most one trailing '\n', at most
/// kMaxCommitRecordBytes. nullopt otherwise (the old "<node>\n" form included): a record we
/// cannot read exactly is unreadable, and nobody decides on an unreadable record.
std::optional<CommitRecord> parse_commit_record(std::string_view text);

/// "location.<attempt>": the prepared record of an attempt.
std::string prepared_record_name(uint64_t attempt);
/// "fenced.<attempt>.<fencer>": where `fencer` (a node id) renames a prepared record to fence
/// it. One name per fencer, so two fences never land on one name and the leftover says who.
std::string fenced_record_name(uint64_t attempt, std::string_view fencer);

/// The attempt of the next migration of a job: one more than the attempt `location` names and
/// than every attempt the job directory's leftovers name (location.<n>, fenced.<n>.<node>:
/// attempts that aborted, so never reached `location`). So attempt numbers never repeat, even
/// after a coordinator crashed or restarted mid-way: a stale message, participant or fence of
/// an old attempt can never be taken for the new one. The leftovers stay until the job's
/// directory goes. `job_dir_entries`: file names in the job's spool directory; others are
/// skipped. nullopt if the attempt would overflow.
std::optional<uint64_t> next_attempt(const CommitRecord& location,
                                     const std::vector<std::string>& job_dir_entries);

/// The job's shim writes the `end` record only when this is true: `location_text` (the
/// content of `location`) names this node and the attempt this copy was started or restored
/// by. A copy that is not named (a stale copy of an aborted attempt, a source copy after the
/// commit) must not say how the job ended. False on an unreadable record.
bool may_record_end(std::string_view location_text, std::string_view self_node,
                    uint64_t self_attempt);

/// The pre-flight's memory rule: nullopt when `target_available_bytes` is at least
/// kMemoryHeadroomPercent of `job_rss_bytes`; otherwise the refusal, naming the figures
/// ("node-c10002 has 300 MiB available, the job needs 400 MiB (200 % of its 200 MiB
/// resident)"; MiB rounded so that the figures never look sufficient).
std::optional<std::string> memory_headroom_refusal(uint64_t job_rss_bytes,
                                                   uint64_t target_available_bytes,
                                                   std::string_view target_node);

/// How a rename of a prepared record (commit or fence) came back.
enum class RenameResult : uint8_t {
  done,  ///< renamed by this request
  /// ENOENT: the prepared record is gone. Ambiguous, never success or plain failure: another
  /// node fenced it, or our own rename landed and NFS answered its retransmission. Read
  /// `location` and decide from what it names.
  not_found,
  /// Any other error, a timeout or EIO included: it may or may not have happened.
  failed,
};
std::string_view to_string(RenameResult result);

// --- Pre-copy policy -----------------------------------------------------------

/// What to do after a pre-copy round.
enum class PrecopyDecision : uint8_t {
  another_round,       ///< the dirty set is still shrinking: send it while the job runs
  stop_small,          ///< the dirty set is at most kMinPrecopyPages: dump it frozen
  stop_not_shrinking,  ///< the dirty set is >= kPrecopyShrinkPermille of the previous one
  stop_round_limit,    ///< kMaxPrecopyRounds done
  skipped_tiny_job,    ///< no round at all: the whole job is at most kMinPrecopyPages
  /// No round at all: the source's CRIU cannot track dirty memory (`criu check --feature
  /// mem_dirty_track` fails), so every round would resend everything. Stop-and-copy.
  skipped_no_dirty_tracking,
};
std::string_view to_string(PrecopyDecision decision);

/// The pre-copy policy (after p.haul's iteration checks). `rounds_done`: rounds finished,
/// this one included (1 after the first). `dirty_pages`: pages this round found dirty and sent
/// (CRIU's pages_written; round 1 sends every resident page): the next round will send about
/// what was dirtied while this one ran. `previous_dirty_pages`: the same for the round before
/// (ignored when rounds_done is 1). Checked in the order of the enum (the skipped_ ones are
/// the coordinator's, before any round).
PrecopyDecision decide_after_round(uint32_t rounds_done, uint64_t dirty_pages,
                                   uint64_t previous_dirty_pages);

// --- Common types --------------------------------------------------------------

/// The migration of one job, as both sides know it.
struct MigrationJob {
  std::string job_id;       ///< e.g. "job-17", the directory under /cluster/jobs/
  std::string source_node;  ///< where the job runs now, and the coordinator
  std::string target_node;  ///< where it should run
  /// This attempt at moving the job (next_attempt): names the prepared record and tags every
  /// message of the attempt, so the edge can drop a stale message of an earlier one.
  uint64_t attempt = 0;
};

/// How a migration (or one side of it) ended.
enum class MigrationOutcome : uint8_t {
  in_progress,  ///< not ended yet
  committed,    ///< the record names the target and this attempt: the job is the target's now
  aborted,      ///< the record does not name the target: the job stays where it names
  lost,         ///< the record names a node that holds no copy
};
std::string_view to_string(MigrationOutcome outcome);

// --- Source side ---------------------------------------------------------------

enum class MigrationPhase : uint8_t {
  not_started,
  prepare,  ///< writing the prepared record location.<attempt>
  preflight,
  precopy,
  final_dump,
  restore,
  /// The commit rename is out, or its answer was unclear and the record is being fenced or
  /// read to find out.
  commit,
  committed,
  /// Undoing: waiting for CRIU to exit before resuming the job, or for the fence to settle.
  aborting,
  aborted,
};
std::string_view to_string(MigrationPhase phase);

/// Something the coordinator asks the daemon to do. Actions come in the order to carry them
/// out; the best-effort ones (requests to a target that may be gone) must not hold up the
/// ones after them.
enum class MigrationActionKind : uint8_t {
  /// Create location.<attempt> (O_EXCL) holding format_commit_record({target, attempt}).
  /// Answer: on_record_prepared / on_prepare_failed.
  write_prepared_record,
  run_preflight,  ///< CPU, CRIU features (mem_dirty_track too), memory, files on the target
  /// Start a page server for round `round` on the target, pre-dump the running job into it
  /// (images of round n name round n-1 as parent). Answer: on_round_done / on_round_failed.
  precopy_round,
  /// Freeze and dump the job into a page server on the target (parent images: round
  /// `round`, 0 for none), leaving it stopped here (`criu dump --leave-stopped`).
  final_dump,
  /// Ask the target to restore, stopped (`criu restore -d --leave-stopped`), into the job's
  /// cgroup there. Answer: on_restore_done / on_restore_failed.
  restore_on_target,
  /// Commit: rename(location.<attempt>, location). Answer: on_commit_result.
  write_commit_record,
  /// Stop the CRIU request (pre-dump or dump) of this migration still running here (SIGKILL)
  /// and reap it. Answer: on_criu_exited. Until then CRIU may hold the job frozen or seized,
  /// so nothing resumes it.
  stop_criu,
  /// Thaw the job's whole cgroup here and SIGCONT every process in it (abort path; harmless
  /// on a running job). Never while a CRIU request of the job may still run.
  resume_source,
  /// Ask the target to discard this attempt (its participant does discard_local_copy). Best
  /// effort: a target that does not hear it decides alone by the record.
  discard_target_copy,
  /// Fence: rename(location.<attempt>, fenced_record_name(attempt, this node)).
  /// Answer: on_fence_result.
  fence_prepared_record,
  /// Read `location`. Answer: on_commit_record_read (nullopt if unreadable or malformed).
  read_commit_record,
  /// cgroup.kill the job's stopped copy here and drop its images (after the commit).
  kill_source_copy,
  tell_target_to_resume,  ///< ask the target to resume its copy (after commit; best effort)
  finished,  ///< the migration ended with `outcome` and `reason`: log it, tell the requester
};
std::string_view to_string(MigrationActionKind kind);

struct MigrationAction {
  MigrationActionKind kind = MigrationActionKind::finished;
  /// precopy_round: the round, from 1. final_dump: the last pre-copy round (0: none).
  uint32_t round = 0;
  MigrationOutcome outcome = MigrationOutcome::in_progress;  ///< finished only
  /// finished: why it ended; names the phase and the cause on an abort
  /// ("restore failed on node-c10002: missing file /home/x"). Empty on a plain commit.
  std::string reason;

  bool operator==(const MigrationAction&) const = default;
};
/// One line for logs and test failures, e.g. "precopy_round(3)".
std::string describe(const MigrationAction& action);

/// What the pre-flight found, for the coordinator's own decisions.
struct PreflightFigures {
  /// The job's resident memory (all its tasks), in pages; at most kMinPrecopyPages skips
  /// pre-copy.
  uint64_t resident_pages = 0;
  /// The target's MemAvailable, in bytes (see memory_headroom_refusal).
  uint64_t target_available_bytes = 0;
  /// The source's CRIU tracks dirty memory (feature mem_dirty_track). Without it, no pre-copy:
  /// straight to the final dump.
  bool precopy_available = false;
};

/// Progress of one migration, for `clusterlive ps` and the journal.
struct MigrationProgress {
  MigrationPhase phase = MigrationPhase::not_started;
  uint32_t round = 0;             ///< current or last pre-copy round (0: none yet)
  uint64_t total_bytes_sent = 0;  ///< all rounds and the final dump, in bytes
  uint64_t last_round_bytes = 0;  ///< the last finished pre-copy round, in bytes
  uint64_t final_dump_bytes = 0;  ///< the final dump, in bytes, once done
  /// total_bytes_sent over the time spent in finished transfers, in bytes per second
  /// (0 until a transfer took at least 1 ms).
  uint64_t rate_bytes_per_s = 0;
  /// The last finished transfer's bytes over its duration, in bytes per second (0: unknown).
  uint64_t last_rate_bytes_per_s = 0;
  PrecopyDecision precopy_stop = PrecopyDecision::another_round;  ///< why pre-copy ended
  std::optional<TimeMs> freeze_started_at;  ///< when the final dump was asked for
  /// How long the job did not run: from the freeze to resume_source or to
  /// tell_target_to_resume, in milliseconds. Known once either is asked for.
  std::optional<TimeMs> freeze_duration_ms;
  bool commit_overdue = false;  ///< the record write has not answered for kCommitOverdueMs
  bool target_lost = false;     ///< membership reported the target lost at some point
  uint32_t fences = 0;          ///< fence_prepared_record asked for
  uint32_t record_reads = 0;    ///< read_commit_record asked for
  uint64_t ignored_events = 0;  ///< late or stale events that changed nothing
};

/// The source side of one migration. Drives the phases, enforces a deadline per phase, and
/// turns every failure before the commit into an abort that leaves the job running here.
///
/// Fault rules:
///  - Before write_commit_record is asked for, any failure, deadline or loss of the target
///    aborts. An abort undoes in this order: stop_criu if a pre-dump or dump still runs, and
///    only after on_criu_exited resume_source (whenever any CRIU request was made: even a
///    killed pre-dump may leave the cgroup frozen); discard_target_copy if the target may
///    hold anything of it (from the first round on); fence_prepared_record. It ends with
///    finished(aborted) once CRIU has exited and the fence has settled. The resume does not
///    wait for the fence: nobody but this coordinator commits, and it never asked to.
///  - While the commit rename is out, nothing aborts: it may still land, and resuming the
///    source under a record that names the target would give two copies. A loss of the target
///    is noted and the rename's answer decides; the phase deadline only flags commit_overdue.
///    If the storage hangs the job stays frozen (a stopped copy does no harm, two running do).
///  - The rename's answer: done is the point of no return (kill_source_copy,
///    tell_target_to_resume, finished(committed)); not_found means read `location` and
///    decide from it; failed means fence first (the rename may still land otherwise), then:
///    fence done -> abort (without another fence); fence not_found -> read and decide; fence
///    failed -> fence again later. The job stays frozen until the record says whose it is.
///  - Deciding from the record: names the target and this attempt -> committed; names the
///    source -> abort; names another node -> neither copy may run (kill_source_copy,
///    discard_target_copy, aborted). Unreadable -> read again later; never guess.
///  - A failed pre-copy round aborts, as in p.haul: nothing is frozen yet, so an abort costs
///    only the time spent, and whatever broke the round (page server, link, CRIU) would most
///    likely break the final dump too, with the job frozen.
///
/// Events that do not fit the phase (late answers after an abort, a round number other than
/// the current one) are ignored and counted. Not thread-safe; one event loop owns it.
class MigrationCoordinator {
 public:
  explicit MigrationCoordinator(MigrationJob job);

  /// Starts the migration: write_prepared_record.
  std::vector<MigrationAction> start(TimeMs now);
  /// The prepared record is written: run_preflight.
  std::vector<MigrationAction> on_record_prepared(TimeMs now);
  /// The prepared record could not be written (it may exist all the same: the abort fences).
  std::vector<MigrationAction> on_prepare_failed(const std::string& reason, TimeMs now);

  /// The pre-flight checks passed; the coordinator still applies memory_headroom_refusal and
  /// chooses pre-copy or stop-and-copy from `figures`.
  std::vector<MigrationAction> on_preflight_ok(const PreflightFigures& figures, TimeMs now);
  /// The pre-flight refused the move (`reason`: which check, on which node).
  std::vector<MigrationAction> on_preflight_refused(const std::string& reason, TimeMs now);

  /// Pre-copy round `round` ended (CRIU exited): `bytes_sent` over the mesh, `dirty_pages` as
  /// in decide_after_round.
  std::vector<MigrationAction> on_round_done(uint32_t round, uint64_t bytes_sent,
                                             uint64_t dirty_pages, TimeMs now);
  std::vector<MigrationAction> on_round_failed(uint32_t round, const std::string& reason,
                                               TimeMs now);

  /// The final dump ended (CRIU exited); the job is stopped here, its images on the target.
  std::vector<MigrationAction> on_final_dump_done(uint64_t bytes_sent, TimeMs now);
  std::vector<MigrationAction> on_final_dump_failed(const std::string& reason, TimeMs now);

  /// The target restored the job, stopped.
  std::vector<MigrationAction> on_restore_done(TimeMs now);
  std::vector<MigrationAction> on_restore_failed(const std::string& reason, TimeMs now);

  /// The answer to write_commit_record (`detail`: the error, for the reason).
  std::vector<MigrationAction> on_commit_result(RenameResult result, const std::string& detail,
                                                TimeMs now);
  /// The answer to fence_prepared_record.
  std::vector<MigrationAction> on_fence_result(RenameResult result, const std::string& detail,
                                               TimeMs now);
  /// The answer to read_commit_record: parse_commit_record of `location`, nullopt if it could
  /// not be read or parsed.
  std::vector<MigrationAction> on_commit_record_read(const std::optional<CommitRecord>& record,
                                                     TimeMs now);
  /// The CRIU request stopped by stop_criu has exited (reaped).
  std::vector<MigrationAction> on_criu_exited(TimeMs now);

  /// Membership declared the target dead, or the link to it is gone.
  std::vector<MigrationAction> on_target_lost(const std::string& reason, TimeMs now);

  /// Asked to stop (a user, a node leaving). Aborts before the record write is asked for;
  /// afterwards returns nothing and the migration goes on to its end.
  std::vector<MigrationAction> cancel(const std::string& reason, TimeMs now);

  /// Applies the phase deadline, or fences or reads the record again after a failure.
  std::vector<MigrationAction> tick(TimeMs now);
  /// When tick() has something to do next; nullopt when nothing is timed.
  std::optional<TimeMs> next_deadline() const;

  MigrationPhase phase() const { return progress_.phase; }
  MigrationOutcome outcome() const { return outcome_; }
  /// Why it ended (see MigrationAction::reason); set when an abort starts.
  const std::string& reason() const { return reason_; }
  const MigrationProgress& progress() const { return progress_; }
  const MigrationJob& job() const { return job_; }

 private:
  // What the coordinator waits for from the record's storage, outside the commit rename.
  enum class RecordStep : uint8_t { none, fence_out, fence_retry, read_out, read_retry };

  std::vector<MigrationAction> begin_round(uint32_t round, TimeMs now);
  std::vector<MigrationAction> begin_final_dump(PrecopyDecision why, TimeMs now);
  std::vector<MigrationAction> abort(const std::string& reason, TimeMs now);
  std::vector<MigrationAction> finish_abort_if_settled();
  std::vector<MigrationAction> commit_point(TimeMs now);
  std::vector<MigrationAction> decide_by_record(const CommitRecord& record, TimeMs now);
  std::vector<MigrationAction> fence();
  std::vector<MigrationAction> read_record();
  MigrationAction resume_source(TimeMs now);
  std::vector<MigrationAction> ignored();
  void enter(MigrationPhase phase, TimeMs now, TimeMs timeout_ms);
  void count_transfer(uint64_t bytes, TimeMs now);
  /// "preflight", "precopy round 3", "final dump", ...: the step we are in, for reasons.
  std::string step_name() const;
  bool before_commit_write() const;

  MigrationJob job_;
  MigrationProgress progress_;
  MigrationOutcome outcome_ = MigrationOutcome::in_progress;
  std::string reason_;

  TimeMs phase_started_at_ = 0;
  std::optional<TimeMs> deadline_;
  uint64_t resident_pages_ = 0;
  uint64_t previous_dirty_pages_ = 0;  // of the last finished round
  TimeMs transfer_ms_ = 0;             // spent in finished transfers
  bool criu_running_ = false;          // a pre-dump or dump is out and has not ended
  bool criu_touched_job_ = false;      // any CRIU request was made: resume on an abort
  bool awaiting_criu_exit_ = false;    // stop_criu asked, on_criu_exited not yet
  bool target_may_hold_copy_ = false;  // images or a restored copy: from round 1 on
  bool fence_settled_ = false;         // the prepared record is known gone for good
  RecordStep record_step_ = RecordStep::none;
  std::string commit_failure_;  // the commit rename's error, for the abort's reason
  std::string target_lost_reason_;
};

/// What the target says about its restored copy, as far as a restarted source can tell.
enum class TargetCopy : uint8_t {
  present,  ///< the target confirmed it holds a restored, stopped (or resumed) copy
  absent,   ///< the target confirmed it holds none
  unknown,  ///< the target cannot be asked (lost, or not answering)
};

/// What a source daemon does when it restarts and finds a migration it coordinated
/// unfinished (its copy frozen, say). The rule is the record's: a copy runs only where the
/// record names, and a copy that has vanished is not revived elsewhere (it may have been
/// killed on purpose). The daemon makes sure no CRIU request of the job still runs first.
///   `fence`: how fence_prepared_record came back; `record`: then what `location` names
///            (read_commit_record). A failed fence (the commit sent before the crash may
///            still land) or an unreadable record gives only {fence_prepared_record,
///            read_commit_record} back: carry them out and call again. Never guess: a frozen
///            copy waits. A fence's not_found is as good as done here: the record is read
///            after it either way.
///   `holds_copy`: this node still has the job's process tree (frozen or running).
///   `target_copy`: what the target says it holds of this attempt.
/// Returns the actions to carry out, ending with finished:
///   names the target and this attempt: kill_source_copy (if held), tell_target_to_resume;
///                     committed, or lost when the target confirmed it has no copy.
///   names the source: resume_source, discard_target_copy (unless confirmed absent);
///                     aborted, or lost when the source has no copy either.
///   names another node, or the target with another attempt: kill_source_copy (if held),
///                     discard_target_copy (unless confirmed absent); aborted.
std::vector<MigrationAction> recover_coordinator(const MigrationJob& job, RenameResult fence,
                                                 const std::optional<CommitRecord>& record,
                                                 bool holds_copy, TargetCopy target_copy);

// --- Target side ---------------------------------------------------------------

enum class ParticipantPhase : uint8_t {
  receiving,  ///< page servers take this attempt's images; no copy of the job here yet
  restoring,  ///< criu restore running
  restored,   ///< a stopped copy waits for the decision
  resumed,    ///< the job runs here
  discarded,  ///< the copy and the images are gone
};
std::string_view to_string(ParticipantPhase phase);

enum class ParticipantActionKind : uint8_t {
  /// `criu restore -d --leave-stopped` into the job's cgroup here. Answer: on_restore_done /
  /// on_restore_failed.
  start_restore,
  resume_local_copy,  ///< thaw the job's cgroup and SIGCONT all of it: the job runs here now
  /// cgroup.kill the job's cgroup here (the restored tree, or a restore still running in it),
  /// stop this attempt's page server and delete its images.
  discard_local_copy,
  /// Fence: rename(location.<attempt>, fenced_record_name(attempt, this node)).
  /// Answer: on_fence_result.
  fence_prepared_record,
  /// Read `location`. Answer: on_commit_record_read.
  read_commit_record,
  finished,  ///< this side is done: committed (runs here), aborted (discarded) or lost
};
std::string_view to_string(ParticipantActionKind kind);

struct ParticipantAction {
  ParticipantActionKind kind = ParticipantActionKind::finished;
  MigrationOutcome outcome = MigrationOutcome::in_progress;  ///< finished only
  std::string reason;                                        ///< finished only

  bool operator==(const ParticipantAction&) const = default;
};
std::string describe(const ParticipantAction& action);

/// A participant the target holds, for refuse_participant.
struct ParticipantEntry {
  std::string job_id;
  uint64_t attempt = 0;
  bool decided = false;  ///< resumed or discarded
};

/// Whether the target may start a participant for `request` (at the first request of an
/// attempt), given those it holds, decided ones included. nullopt: accept; otherwise the
/// refusal. One participant per (job, attempt): a request of an attempt already seen (or an
/// older one) is a duplicate or stale message, and a second participant would restore a second
/// copy. And one undecided participant per job: the job has one cgroup here, so discarding one
/// attempt would kill the other's copy.
std::optional<std::string> refuse_participant(const MigrationJob& request,
                                              const std::vector<ParticipantEntry>& existing);

/// The target side of one migration, from the first request of the attempt (round 1's page
/// server, or the final dump's) on. Takes the images, restores the job stopped when asked,
/// then waits for the coordinator: resume (the record names us) or discard (it aborted).
/// Whenever the coordinator is silent for kParticipantIdleTimeoutMs (its own restore: for
/// kParticipantRestoreTimeoutMs), in any phase, it decides alone: fence, read the commit
/// record, then: names us and this attempt -> resume; names another -> discard; unreadable ->
/// keep everything as it is and read again later. Never guesses.
///
/// The edge feeds on_restore_done before it tells the coordinator the restore is done.
class MigrationParticipant {
 public:
  /// The first request of the attempt arrived (refuse_participant accepted it).
  MigrationParticipant(MigrationJob job, TimeMs now);
  /// For a target worker that died with `job`'s attempt undecided (its recovery takes over):
  /// it fences and decides by the commit record at the first tick. `holds_copy`: the restored,
  /// stopped copy the dead worker vouched for is still here; without one, a record that names
  /// this node and attempt means the job is lost.
  static MigrationParticipant after_restart(MigrationJob job, TimeMs now, bool holds_copy = true);

  /// Anything of this attempt from the coordinator: a request, a message, pages arriving.
  void on_heard_from_coordinator(TimeMs now);
  /// The coordinator asks for the restore: start_restore, or nothing when this participant
  /// has decided or is deciding (then the edge answers the coordinator "restore refused").
  std::vector<ParticipantAction> on_restore_request(TimeMs now);
  /// The restore finished: a stopped copy of the job is here.
  std::vector<ParticipantAction> on_restore_done(TimeMs now);
  std::vector<ParticipantAction> on_restore_failed(const std::string& reason, TimeMs now);
  /// The coordinator says the record names us (it sends this only after the commit).
  std::vector<ParticipantAction> on_resume_request(TimeMs now);
  /// The coordinator aborted (it sends this only when the record does not name us).
  std::vector<ParticipantAction> on_discard_request(TimeMs now);
  /// The answer to fence_prepared_record.
  std::vector<ParticipantAction> on_fence_result(RenameResult result, TimeMs now);
  /// The answer to read_commit_record: parse_commit_record of `location`, nullopt if it could
  /// not be read or parsed.
  std::vector<ParticipantAction> on_commit_record_read(const std::optional<CommitRecord>& record,
                                                       TimeMs now);

  /// Applies the idle deadline (fence), or fences or reads again after a failure.
  std::vector<ParticipantAction> tick(TimeMs now);
  /// When tick() has something to do next; nullopt when nothing is timed.
  std::optional<TimeMs> next_deadline() const;

  ParticipantPhase phase() const { return phase_; }
  MigrationOutcome outcome() const { return outcome_; }
  const std::string& reason() const { return reason_; }
  /// Number of fences and commit record reads asked for.
  uint32_t fences() const { return fences_; }
  uint32_t record_reads() const { return record_reads_; }
  uint64_t ignored_events() const { return ignored_events_; }
  const MigrationJob& job() const { return job_; }
  /// This participant as refuse_participant sees it.
  ParticipantEntry entry() const;

 private:
  enum class RecordStep : uint8_t { none, fence_out, fence_retry, read_out, read_retry };

  std::vector<ParticipantAction> resume(const std::string& reason);
  std::vector<ParticipantAction> discard(MigrationOutcome outcome, const std::string& reason);
  std::vector<ParticipantAction> ignored();
  bool decided() const;
  bool names_us(const CommitRecord& record) const;
  /// The idle (or restore) deadline from the last thing heard.
  void rearm(TimeMs now);

  MigrationJob job_;
  ParticipantPhase phase_ = ParticipantPhase::receiving;
  MigrationOutcome outcome_ = MigrationOutcome::in_progress;
  std::string reason_;
  std::optional<TimeMs> deadline_;
  RecordStep record_step_ = RecordStep::none;
  // The record names us (or the coordinator said so) while the restore still runs: resume as
  // soon as it is done.
  bool resume_when_restored_ = false;
  uint32_t fences_ = 0;
  uint32_t record_reads_ = 0;
  uint64_t ignored_events_ = 0;
};

}  // namespace clusterlive
