// A blocking client of the local API, for the CLI (the GUI has its own, on Qt's loop): connect
// with a deadline, send a request line, read one response line of bounded size. Failures are
// sorted into what a user can act on: the daemon is not running, it cannot be reached, the
// socket refuses us, or it answered something that is not the protocol.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "api/api_protocol.h"
#include "api/api_types.h"

namespace clusterlive::api {

/// Default time a call may take, connect to answer, in ms.
constexpr int kDefaultCallTimeoutMs = 15'000;
/// Pause between connect attempts while the daemon's listen queue is full, in ms.
constexpr int kConnectRetryPauseMs = 20;

struct ClientOptions {
  int timeout_ms = kDefaultCallTimeoutMs;  ///< per call: connect, send and answer
  size_t max_response_bytes = kMaxResponseBytes;
};

/// How a call ended.
enum class CallStatus {
  answered,           ///< `response` holds the daemon's answer (which may be an error)
  not_running,        ///< no socket, or nothing listens on it
  unreachable,        ///< no answer in time, or the connection broke
  permission_denied,  ///< the socket (or its directory) refuses us (EACCES)
  protocol_error,     ///< the answer is not a valid response line
};

struct CallResult {
  CallStatus status = CallStatus::protocol_error;
  std::string message;  ///< when not answered: what went wrong, for the user
  Response response;    ///< when answered
};

/// A call whose success carries a value: `value` is set when the daemon answered ok with a
/// result of the right shape. Otherwise `call` says why: it was not answered (its status and
/// message), the daemon answered an error (status `answered`, response.error), or the result
/// has the wrong shape (status `protocol_error`, the message says what is wrong).
template <typename T>
struct Reply {
  CallResult call;  ///< on success too: response.result is the result as the daemon sent it
  std::optional<T> value;
};

class Client {
 public:
  explicit Client(std::string socket_path, ClientOptions options = {});
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  /// Connects unless connected. On failure returns a result with the reason (status is not
  /// `answered`); on success its status is `answered` and the response empty.
  CallResult connect();
  /// Sends `request` and waits for its answer, connecting first if needed. After any failure
  /// the connection is closed; the next call connects again. If a connection kept from an
  /// earlier call turns out to be closed by the daemon (it closes idle clients), a reading
  /// request (only_reads(): status, nodes, key_show, ps, job) is sent once more on a new
  /// connection.
  CallResult call(const Request& request);

  /// Starts a job (`run`); the value is the new job.
  Reply<JobView> run_job(const RunRequest& request);
  /// Every job the daemon knows (`ps`).
  Reply<std::vector<JobView>> jobs();
  /// The job `id` (`job`).
  Reply<JobView> job(const std::string& id);
  /// Ends the job `id` (`kill`); the value is the job as it is once the kill was sent.
  Reply<JobView> kill_job(const std::string& id);
  /// Starts moving a job (`migrate`); the value is the job once its migration has started.
  Reply<JobView> migrate_job(const MigrateRequest& request);
  /// Locks the job `id` to its node (`lock`), or unlocks it (`unlock`); the value is the job
  /// with its new `locked`.
  Reply<JobView> set_job_locked(const std::string& id, bool locked);
  /// Closes the connection (the next call connects again).
  void disconnect();

  const std::string& socket_path() const { return socket_path_; }

 private:
  std::string socket_path_;
  ClientOptions options_;
  int fd_ = -1;
  std::string buffer_;            ///< bytes read past the last answer
  bool lost_unanswered_ = false;  ///< the last exchange found the connection closed, no answer

  CallResult exchange(const Request& request);
  template <typename T, typename Parse>
  Reply<T> typed_call(const Request& request, Parse parse);
};

/// A sentence for `status` (e.g. "clusterlived is not running"), for messages.
const char* call_status_name(CallStatus status);

}  // namespace clusterlive::api
