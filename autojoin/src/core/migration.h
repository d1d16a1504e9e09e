// The migration state machine: moving one job (a process tree in its own PID namespace) from a
// source node to a target node with CRIU (DESIGN.md, "Migration"). Pure: no I/O, no clock. The
// daemon feeds events in and carries out the actions that come back (CRIU pre-dump, dump and
// restore, a page server per round on the target, requests over the mesh, the commit record on
// /cluster).
//
// Phases of the source side (MigrationCoordinator):
//   preflight -> precopy (rounds, job running) -> final dump (job frozen) -> restore (on the
//   target, kept stopped) -> commit (write the record) -> committed
// and `aborted` from any phase before the record is written.
//
// The commit record protocol (what makes "never zero, never two" hold across crashes):
//   /cluster/jobs/<job>/location          names the node that runs the job. The single arbiter:
//                                         a copy runs only on the node it names.
//   /cluster/jobs/<job>/location.<attempt> the prepared record naming the target. The source's
//                                         edge writes it before it asks the target to restore.
//   commit = rename(location.<attempt>, location)           (the coordinator, once)
//   fence  = rename(location.<attempt>, fenced.<attempt>)   (anyone deciding without the
//            coordinator: the target on a timeout, a restarted source), then read `location`.
// Both renames take the same source name, so exactly one of them can succeed: after a fence the
// commit can no longer land late (a write stuck on a hung NFS mount, say) and contradict what
// the fencing node read. Every "read the commit record" action below means fence, then read.
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
/// After this long without an answer to write_commit_record, in milliseconds, the migration is
/// flagged overdue in its progress. Not aborted: the write may still land (see the class).
constexpr TimeMs kCommitOverdueMs = 10'000;

/// The target gives up on a restore that has not finished after this long, in milliseconds
/// (then decides by the commit record). Longer than kRestoreTimeoutMs, so the coordinator,
/// which holds the frozen original, normally decides first.
constexpr TimeMs kParticipantRestoreTimeoutMs = kRestoreTimeoutMs + 30'000;
/// The target waits this long after its restore for the coordinator's resume or discard, in
/// milliseconds, then decides by the commit record.
constexpr TimeMs kParticipantDecisionTimeoutMs = 30'000;
/// An unreadable commit record is read again after this long, in milliseconds.
constexpr TimeMs kRecordRereadIntervalMs = 5'000;

/// Deadline of a transfer of `expected_pages` pages: kTransferTimeoutBaseMs plus the pages'
/// time at kMinTransferBytesPerS. In milliseconds.
TimeMs transfer_timeout_ms(uint64_t expected_pages);

// --- Pre-copy policy -----------------------------------------------------------

/// What to do after a pre-copy round.
enum class PrecopyDecision : uint8_t {
  another_round,       ///< the dirty set is still shrinking: send it while the job runs
  stop_small,          ///< the dirty set is at most kMinPrecopyPages: dump it frozen
  stop_not_shrinking,  ///< the dirty set is >= kPrecopyShrinkPermille of the previous one
  stop_round_limit,    ///< kMaxPrecopyRounds done
  skipped_tiny_job,    ///< no round at all: the whole job is at most kMinPrecopyPages
};
std::string_view to_string(PrecopyDecision decision);

/// The pre-copy policy (after p.haul's iteration checks). `rounds_done`: rounds finished,
/// this one included (1 after the first). `dirty_pages`: pages this round found dirty and sent
/// (CRIU's pages_written; round 1 sends every resident page): the next round will send about
/// what was dirtied while this one ran. `previous_dirty_pages`: the same for the round before
/// (ignored when rounds_done is 1). Checked in the order of the enum.
PrecopyDecision decide_after_round(uint32_t rounds_done, uint64_t dirty_pages,
                                   uint64_t previous_dirty_pages);

// --- Common types --------------------------------------------------------------

/// The migration of one job, as both sides know it.
struct MigrationJob {
  std::string job_id;       ///< e.g. "job-17", the directory under /cluster/jobs/
  std::string source_node;  ///< where the job runs now, and the coordinator
  std::string target_node;  ///< where it should run
  /// Distinguishes attempts at moving this job: names the prepared record and tags every
  /// message of this attempt, so the edge can drop a stale message of an earlier one.
  uint64_t attempt = 0;
};

/// How a migration (or one side of it) ended.
enum class MigrationOutcome : uint8_t {
  in_progress,  ///< not ended yet
  committed,    ///< the record names the target: the job is the target's now
  aborted,      ///< the record does not name the target: the job stays where it names
  lost,         ///< the record names a node that holds no copy (only from recovery)
};
std::string_view to_string(MigrationOutcome outcome);

// --- Source side ---------------------------------------------------------------

enum class MigrationPhase : uint8_t {
  not_started,
  preflight,
  precopy,
  final_dump,
  restore,
  commit,
  committed,
  aborted,
};
std::string_view to_string(MigrationPhase phase);

/// Something the coordinator asks the daemon to do. Actions come in the order to carry them
/// out; the best-effort ones (requests to a target that may be gone) must not hold up the
/// ones after them.
enum class MigrationActionKind : uint8_t {
  run_preflight,  ///< CPU features, CRIU features, open files reachable on the target
  /// Start a page server for round `round` on the target, pre-dump the running job into it
  /// (images of round n name round n-1 as parent). Answer: on_round_done / on_round_failed.
  precopy_round,
  /// Freeze and dump the job into a page server on the target (parent images: round
  /// `round`, 0 for none), leaving it stopped here (`criu dump --leave-stopped`).
  final_dump,
  /// Write the prepared record location.<attempt> naming the target, then ask the target to
  /// restore, stopped (`criu restore -d --leave-stopped`). A failure to write the prepared
  /// record is a restore failure. Answer: on_restore_done / on_restore_failed.
  restore_on_target,
  /// Commit: rename(location.<attempt>, location). Answer: on_commit_record_written, or
  /// on_commit_record_failed only when the record certainly does not name the target (after an
  /// ambiguous error, such as EIO on a soft mount, read it to find out before answering).
  write_commit_record,
  /// SIGCONT the stopped source copy (abort path; harmless on a running job). Cancel any CRIU
  /// request still running for this migration first.
  resume_source,
  /// Ask the target to kill its stopped copy and delete this attempt's images. Best effort:
  /// a target that does not hear it decides alone by the record.
  discard_target_copy,
  kill_source_copy,       ///< SIGKILL the stopped source copy and drop its images (after commit)
  tell_target_to_resume,  ///< ask the target to SIGCONT its copy (after commit; best effort)
  /// Fence and read the commit record, answer with the node it names (recovery only: the
  /// restarted daemon feeds the answer to recover_coordinator again).
  read_commit_record,
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
  uint64_t ignored_events = 0;  ///< late or stale events that changed nothing
};

/// The source side of one migration. Drives the phases, enforces a deadline per phase, and
/// turns every failure before the commit into an abort that leaves the job running here.
///
/// Fault rules:
///  - Before write_commit_record is asked for, any failure, deadline or loss of the target
///    aborts: resume_source if the job may be frozen, discard_target_copy if the target may
///    hold anything of it (from the first round on), then finished(aborted, reason).
///  - While the record write is out, nothing aborts: it may still land, and resuming the source
///    under a record that names the target would give two copies. A loss of the target is
///    noted and the write's answer decides; the phase deadline only flags commit_overdue. If
///    the storage hangs the job stays frozen (a stopped copy does no harm, two running do).
///  - on_commit_record_failed: the record was not written, so abort as above.
///  - on_commit_record_written is the point of no return: kill_source_copy,
///    tell_target_to_resume, finished(committed). Nothing after it changes the outcome; a
///    target lost later takes the job with it.
///  - A failed pre-copy round aborts, as in p.haul: nothing is frozen yet, so an abort costs
///    only the time spent, and whatever broke the round (page server, link, CRIU) would most
///    likely break the final dump too, with the job frozen.
///
/// Events that do not fit the phase (late answers after an abort, a round number other than
/// the current one) are ignored and counted. Not thread-safe; one event loop owns it.
class MigrationCoordinator {
 public:
  explicit MigrationCoordinator(MigrationJob job);

  /// Starts the migration: run_preflight.
  std::vector<MigrationAction> start(TimeMs now);

  /// The pre-flight passed. `resident_pages`: the job's resident memory (all its tasks), in
  /// pages; at most kMinPrecopyPages skips pre-copy.
  std::vector<MigrationAction> on_preflight_ok(uint64_t resident_pages, TimeMs now);
  /// The pre-flight refused the move (`reason`: which check, on which node).
  std::vector<MigrationAction> on_preflight_refused(const std::string& reason, TimeMs now);

  /// Pre-copy round `round` ended: `bytes_sent` over the mesh, `dirty_pages` as in
  /// decide_after_round.
  std::vector<MigrationAction> on_round_done(uint32_t round, uint64_t bytes_sent,
                                             uint64_t dirty_pages, TimeMs now);
  std::vector<MigrationAction> on_round_failed(uint32_t round, const std::string& reason,
                                               TimeMs now);

  /// The final dump ended; the job is stopped here, its images on the target.
  std::vector<MigrationAction> on_final_dump_done(uint64_t bytes_sent, TimeMs now);
  std::vector<MigrationAction> on_final_dump_failed(const std::string& reason, TimeMs now);

  /// The target restored the job, stopped.
  std::vector<MigrationAction> on_restore_done(TimeMs now);
  std::vector<MigrationAction> on_restore_failed(const std::string& reason, TimeMs now);

  /// The commit record names the target now.
  std::vector<MigrationAction> on_commit_record_written(TimeMs now);
  /// The commit record was certainly not written (`reason`: e.g. "disk full").
  std::vector<MigrationAction> on_commit_record_failed(const std::string& reason, TimeMs now);

  /// Membership declared the target dead, or the link to it is gone.
  std::vector<MigrationAction> on_target_lost(const std::string& reason, TimeMs now);

  /// Asked to stop (a user, a node leaving). Aborts before the record write is asked for;
  /// afterwards returns nothing and the migration goes on to its end.
  std::vector<MigrationAction> cancel(const std::string& reason, TimeMs now);

  /// Applies the phase deadline.
  std::vector<MigrationAction> tick(TimeMs now);
  /// When tick() has something to do next; nullopt when nothing is timed.
  std::optional<TimeMs> next_deadline() const;

  MigrationPhase phase() const { return progress_.phase; }
  MigrationOutcome outcome() const { return outcome_; }
  /// Why it ended (see MigrationAction::reason); empty while in progress.
  const std::string& reason() const { return reason_; }
  const MigrationProgress& progress() const { return progress_; }
  const MigrationJob& job() const { return job_; }

 private:
  std::vector<MigrationAction> begin_round(uint32_t round, TimeMs now);
  std::vector<MigrationAction> begin_final_dump(PrecopyDecision why, TimeMs now);
  std::vector<MigrationAction> abort(const std::string& reason, TimeMs now);
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
  bool may_be_frozen_ = false;         // from the moment final_dump is asked for
  bool target_may_hold_copy_ = false;  // images or a restored copy: from round 1 on
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
/// killed on purpose).
///   `record_names`: the node `location` names after a fence (read_commit_record), nullopt if
///                   unreadable: then only read_commit_record comes back (ask again later;
///                   never guess: a frozen copy waits).
///   `holds_copy`: this node still has the job's process tree (frozen or running).
///   `target_copy`: what the target says it holds.
/// Returns the actions to carry out, ending with finished:
///   names the target: kill_source_copy (if held), tell_target_to_resume; committed, or lost
///                     when the target confirmed it has no copy.
///   names the source: resume_source, discard_target_copy (unless confirmed absent);
///                     aborted, or lost when the source has no copy either.
///   names a third node: kill_source_copy (if held), discard_target_copy; aborted.
std::vector<MigrationAction> recover_coordinator(const MigrationJob& job,
                                                 const std::optional<std::string>& record_names,
                                                 bool holds_copy, TargetCopy target_copy);

// --- Target side ---------------------------------------------------------------

enum class ParticipantPhase : uint8_t {
  restoring,  ///< criu restore running
  restored,   ///< a stopped copy waits for the decision
  resumed,    ///< the job runs here
  discarded,  ///< the copy is gone
};
std::string_view to_string(ParticipantPhase phase);

enum class ParticipantActionKind : uint8_t {
  resume_local_copy,  ///< SIGCONT the restored copy: the job runs here from now on
  /// Kill the restored copy (or a restore still running) and delete this attempt's images.
  discard_local_copy,
  /// Fence and read the commit record; answer with on_commit_record_read.
  read_commit_record,
  finished,  ///< this side is done: committed (runs here) or aborted (discarded)
};
std::string_view to_string(ParticipantActionKind kind);

struct ParticipantAction {
  ParticipantActionKind kind = ParticipantActionKind::finished;
  MigrationOutcome outcome = MigrationOutcome::in_progress;  ///< finished only
  std::string reason;                                        ///< finished only

  bool operator==(const ParticipantAction&) const = default;
};
std::string describe(const ParticipantAction& action);

/// The target side of one migration, from the restore request on (pre-copy rounds are page
/// servers the edge starts on request and needs no state here). Restores the job stopped,
/// then waits for the coordinator: resume (the record names us) or discard (it aborted). If
/// neither comes in time it decides alone by the commit record, fenced first so the
/// coordinator cannot commit behind its back: names us -> resume; names another -> discard;
/// unreadable -> keep the stopped copy and read again later. Never guesses.
///
/// The edge feeds on_restore_done before it tells the coordinator the restore is done.
class MigrationParticipant {
 public:
  /// The coordinator asked us to restore; the edge starts `criu restore --leave-stopped`.
  MigrationParticipant(MigrationJob job, TimeMs now);
  /// For a daemon that restarts and finds a restored, stopped copy of `job`: it decides by the
  /// commit record at the first tick.
  static MigrationParticipant after_restart(MigrationJob job, TimeMs now);

  /// The restore finished: a stopped copy of the job is here.
  std::vector<ParticipantAction> on_restore_done(TimeMs now);
  std::vector<ParticipantAction> on_restore_failed(const std::string& reason, TimeMs now);
  /// The coordinator says the record names us (it sends this only after the commit).
  std::vector<ParticipantAction> on_resume_request(TimeMs now);
  /// The coordinator aborted (it sends this only before the commit, or when it failed).
  std::vector<ParticipantAction> on_discard_request(TimeMs now);
  /// The answer to read_commit_record: the node `location` names, nullopt if unreadable.
  std::vector<ParticipantAction> on_commit_record_read(
      const std::optional<std::string>& record_names, TimeMs now);

  /// Applies the deadline: asks to read the record (again).
  std::vector<ParticipantAction> tick(TimeMs now);
  /// When tick() has something to do next; nullopt when nothing is timed.
  std::optional<TimeMs> next_deadline() const;

  ParticipantPhase phase() const { return phase_; }
  MigrationOutcome outcome() const { return outcome_; }
  const std::string& reason() const { return reason_; }
  /// Number of commit record reads asked for.
  uint32_t record_reads() const { return record_reads_; }
  uint64_t ignored_events() const { return ignored_events_; }
  const MigrationJob& job() const { return job_; }

 private:
  std::vector<ParticipantAction> resume(const std::string& reason);
  std::vector<ParticipantAction> discard(const std::string& reason);
  std::vector<ParticipantAction> ignored();
  bool decided() const;

  MigrationJob job_;
  ParticipantPhase phase_ = ParticipantPhase::restoring;
  MigrationOutcome outcome_ = MigrationOutcome::in_progress;
  std::string reason_;
  std::optional<TimeMs> deadline_;
  bool read_in_flight_ = false;
  // The record names us (or the coordinator said so) while the restore still runs: resume as
  // soon as it is done.
  bool resume_when_restored_ = false;
  uint32_t record_reads_ = 0;
  uint64_t ignored_events_ = 0;
};

}  // namespace clusterlive
