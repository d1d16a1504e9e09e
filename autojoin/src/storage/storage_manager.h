// Carries out the storage decision (core/storage_choice.h) on this node: serves /cluster,
// mounts it from the storage node, replaces or detaches the mount when the storage node
// changes or dies. The system work (tmpfs, nfsd, exports, mount) is done by the
// clusterlive-storage helper, started without waiting for it: an NFS mount can take many
// seconds, and the event loop must keep answering probes meanwhile.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace clusterlive {

using TimeMs = int64_t;

// --- Storage helper constants --------------------------------------------------------

/// A helper action still running after this long is killed and counted as failed, in
/// milliseconds (the helper gives up a mount after 30 s itself).
constexpr TimeMs kStorageActionTimeoutMs = 60'000;
/// After a failed action, the same action is not started again for this long, in
/// milliseconds: a mount that failed because the server is still starting is retried soon,
/// a broken one does not spin.
constexpr TimeMs kStorageRetryMs = 5'000;

struct StorageManagerOptions {
  std::string helper_path = "/usr/libexec/clusterlive/clusterlive-storage";
  std::string mount_point = "/cluster";
  std::string exports_file = "/etc/exports.d/clusterlive.exports";
  std::string mountinfo_path = "/proc/self/mountinfo";
};

/// What this node should do, from the storage decision.
struct StorageWanted {
  bool serve = false;
  /// Our mesh address: nfsd stands by on it (exporting nothing) as soon as it is set, so an
  /// elected node serves at once, without nfsd's grace period. "" = no mesh yet.
  std::string serve_address;
  std::string serve_prefix;   ///< the mesh prefix, e.g. "fd12:3456:789a::/48" (serve)
  std::string mount_address;  ///< the storage node's mesh address; "" = nothing to mount
  std::string node_id;        ///< our node id (the NFS client's identity)
};

class StorageManager {
 public:
  /// Reads what is already in place (a daemon restart keeps serving and mounted).
  explicit StorageManager(StorageManagerOptions options);
  ~StorageManager();
  StorageManager(const StorageManager&) = delete;
  StorageManager& operator=(const StorageManager&) = delete;

  /// Reaps a finished action, then starts the next one needed to reach `wanted` (serving is
  /// settled before mounting, the homes are linked after it). Never blocks. Call about once
  /// a second.
  void reconcile(const StorageWanted& wanted, TimeMs now);

  /// Reaps the running action if it has ended (or kills it once it took too long). Call
  /// before deciding, so the decision sees what is in place now.
  void poll(TimeMs now) { reap(now); }

  /// True once this node exports /cluster (the serve action succeeded, or it was already).
  bool serving() const { return serving_; }
  /// What this node claims to the others: serving, and not on its way out. Deciding with
  /// serving() while an unserve runs would see our own old claim and serve again.
  bool claims_serving() const;
  /// The mesh address /cluster is mounted from; "" if not mounted.
  const std::string& mounted_from() const { return mounted_from_; }
  /// True once the users' homes lead to the mounted /cluster (link-homes succeeded on this
  /// mount).
  bool homes_linked() const { return !mounted_from_.empty() && homes_linked_on_ == mounted_from_; }
  /// The running action's command line, "" if none.
  const std::string& busy_with() const { return running_line_; }
  /// Why the last action failed; "" after a success.
  const std::string& last_error() const { return last_error_; }

  /// One journal line per finished action, taken by the daemon.
  std::vector<std::string> take_log_lines();

 private:
  bool start(const std::vector<std::string>& arguments, TimeMs now);
  void reap(TimeMs now);
  std::string read_mountinfo() const;

  StorageManagerOptions options_;
  bool serving_ = false;
  std::string standing_by_on_;  ///< the address nfsd stands by on, "" before standby
  std::string mounted_from_;
  /// The mount link-homes last succeeded on: after every new mount (and once after a daemon
  /// restart) the homes are led there again, and a failure is retried like any action.
  std::string homes_linked_on_;

  pid_t running_pid_ = -1;
  std::vector<std::string> running_args_;
  std::string running_line_;
  TimeMs running_since_ = 0;
  std::string failed_line_;  ///< last failed action, not repeated before retry_at_
  TimeMs retry_at_ = 0;
  std::string last_error_;
  std::vector<std::string> log_lines_;
};

/// The address inside "[address]:/path" of the NFS mount on `mount_point` in a
/// /proc/self/mountinfo text (the last mount there wins); "" if none.
std::string nfs_server_of_mount(const std::string& mountinfo, const std::string& mount_point);

}  // namespace clusterlive
