// The JSON protocol of the local API, with no I/O: requests and responses to and from text,
// the view structs of api_types.h to and from JSON, and who may do what. Shared by the server
// (src/api/api_server), the blocking client (src/api/api_client, the CLI) and the GUI.
//
// Wire format (PROTOCOL.md has the full description, with examples):
//   Unix SOCK_STREAM socket (kDefaultSocketPath, mode 0666). One JSON object per line, each
//   way, newline-terminated; request, then response, in order; a client may send several
//   requests on one connection.
//   Request:  {"api":1,"command":"status"|"nodes"|"key_show"|"create"|"join"|"run"|"ps"|"job"|
//              "kill"|"migrate"|"lock"|"unlock", ...}
//             "secret" (64 hex digits) for join; "argv", "cwd", "env", "name" for run; "job"
//             (a job id) for job, kill, migrate, lock and unlock; "target" (a node id, "home"
//             or "best") for migrate; members another command does not use are ignored
//   Response: {"api":1,"ok":true,"result":{...}}
//             {"api":1,"ok":false,"error":{"code":"...","message":"..."}}
//   Results:  status   -> the StatusView object (to_json below)
//             nodes    -> {"nodes":[NodeView...]}
//             key_show -> {"secret":"<64 hex>"}          (error "no_secret" when there is none)
//             create, join -> {"cluster_id":"<16 hex>"}  (error "failed": the daemon's reason)
//             run, job, kill, migrate, lock, unlock -> the JobView object (errors
//                      "not_found", "failed", ...)
//             ps       -> {"jobs":[JobView...]}
//   Anyone may read (status, nodes, ps, job) and run jobs; a user may kill, migrate, lock and
//   unlock their own jobs, root any; key_show, create and join need uid 0 (SO_PEERCRED).
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api/api_types.h"

namespace clusterlive::api {

/// Longest request line the server reads, in bytes, newline excluded. A longer one gets a
/// "bad_request" error and the connection is closed.
constexpr size_t kMaxRequestBytes = 64 * 1024;
/// Longest response line a client accepts, in bytes (a `nodes` answer of thousands of nodes
/// is a few MiB).
constexpr size_t kMaxResponseBytes = 32 * 1024 * 1024;
/// Length of a cluster secret in the protocol: 64 hex digits, either case.
constexpr size_t kSecretHexChars = 64;
/// Most elements of a run request's "argv".
constexpr size_t kMaxArgvEntries = 4096;
/// Longest element of "argv", in bytes (a request is at most kMaxRequestBytes anyway).
constexpr size_t kMaxArgumentBytes = 64 * 1024;
/// Longest job name (a run request's "name"), in characters (UTF-8 code points).
constexpr size_t kMaxJobNameChars = 64;

/// What a request asks for.
enum class Command {
  status,
  nodes,
  key_show,
  create,
  join,
  run,
  ps,
  job,
  kill,
  migrate,
  lock,
  unlock
};

/// Error codes of the protocol ("code" of an error response).
enum class ErrorCode {
  bad_request,          ///< not JSON, not an object, a member missing or of the wrong type
  unsupported_version,  ///< "api" is not kApiVersion
  unknown_command,      ///< "command" is not one this daemon knows
  permission_denied,    ///< the command needs root, or the job is someone else's
  no_secret,            ///< key_show on a node that runs alone
  not_found,            ///< job, kill, migrate, lock, unlock: no job has this id
  failed,               ///< tried and failed (create, join, run, kill, migrate, lock, unlock);
                        ///< message says why
  busy,                 ///< too many clients connected; the connection is closed
  internal,             ///< the daemon hit an unexpected error answering
};

/// The protocol name of a command, e.g. "key_show".
const char* command_name(Command command);
/// The command named `name`, nullopt if there is none.
std::optional<Command> command_from_name(std::string_view name);
/// The protocol spelling of an error code, e.g. "permission_denied".
const char* error_code_name(ErrorCode code);

/// A request. `secret` is used by Command::join only (the destructor wipes it), `run` by
/// Command::run, `job` by Command::job, Command::kill, Command::migrate, Command::lock and
/// Command::unlock, `target` by Command::migrate.
struct Request {
  Command command = Command::status;
  std::string secret;
  RunRequest run;
  std::string job;     ///< a job id
  std::string target;  ///< a node id, kMigrateToHome or kMigrateToBest
  uint64_t attempt = 0;  ///< migrate, optional: the attempt a relaying node chose (0: none)

  Request() = default;
  explicit Request(Command c, std::string s = "") : command(c), secret(std::move(s)) {}
  Request(const Request&) = default;
  Request(Request&&) = default;
  Request& operator=(const Request&) = default;
  Request& operator=(Request&&) = default;
  ~Request();
};

/// A run request for `run`.
Request run_request(RunRequest run);
/// A request about one job: `command` is Command::job, Command::kill, Command::lock or
/// Command::unlock.
Request job_request(Command command, std::string job_id);
/// A migrate request for `migrate`.
Request migrate_request(MigrateRequest migrate);

/// An error as carried in a response.
struct ApiError {
  std::string code;  ///< error_code_name() of an ErrorCode, or a code from a newer daemon
  std::string message;
};

/// Outcome of parse_request(): a request, or the error to answer with.
struct ParsedRequest {
  std::optional<Request> request;
  ApiError error;  ///< set when `request` is not
};

/// Parses one request line (without its newline): JSON object, version, command, and the
/// types of the command's members ("secret" for join; "argv", "cwd", "env", "name" for run;
/// "job" for job, kill, migrate, lock and unlock; "target" for migrate). Their values are checked
/// later, by check_arguments(), so that a caller without permission learns nothing about the
/// secret. No value of the input (the secret, an environment variable) is ever copied into an error
/// message.
ParsedRequest parse_request(std::string_view line);

/// The error for a permitted request whose arguments are wrong (join without a well-formed
/// secret; run with no argv, a relative cwd, a bad name...; job, kill, migrate, lock or unlock
/// without a well-formed job id; migrate without a node id, "home" or "best" as its target),
/// nullopt when they are fine. The message says what is wrong.
std::optional<ApiError> check_arguments(const Request& request);

/// Serialises a request as one line of JSON, without the newline. Text that is not UTF-8
/// is replaced (U+FFFD): a client sending arbitrary bytes (file names in argv) checks them
/// first with is_valid_utf8().
std::string format_request(const Request& request);

/// True when `caller` may run `command`: reading and the job commands are for everyone (the
/// Backend checks who owns a job), everything else for root.
bool is_permitted(Command command, const Caller& caller);
/// True when `command` changes the node or reveals the secret (root only).
bool needs_root(Command command);
/// True when `command` only reads, so that sending it twice does no harm (status, nodes,
/// key_show, ps, job).
bool only_reads(Command command);

/// Empty when `text` is exactly kSecretHexChars hex digits, else why not (never echoing it).
std::string check_secret_text(std::string_view text);
/// Empty when `text` is a job id (kJobIdPrefix and kJobIdHexDigits lower-case hex digits),
/// else why not.
std::string check_job_id(std::string_view text);
/// Empty when `text` is a migration target: a node id (is_valid_node_id()), kMigrateToHome or
/// kMigrateToBest, else why not (quoting nothing of it).
std::string check_migrate_target(std::string_view text);
/// True when `name` is in kJobEnvDenylist.
bool is_denied_job_env(std::string_view name);
/// True when `text` is well-formed UTF-8 (no overlong forms, surrogates or code points past
/// U+10FFFF), as JSON text must be.
bool is_valid_utf8(std::string_view text);

/// A success response line (no newline).
std::string format_ok(const nlohmann::json& result);
/// An error response line (no newline).
std::string format_error(ErrorCode code, std::string_view message);
/// An error response line (no newline) for an error made by parse_request() or check_arguments().
std::string format_error(const ApiError& error);

/// A response as read by a client.
struct Response {
  bool ok = false;
  nlohmann::json result;  ///< when ok
  ApiError error;         ///< when !ok
};

/// Outcome of parse_response(): a response, or why the line is not one.
struct ParsedResponse {
  std::optional<Response> response;
  std::string error;  ///< set when `response` is not: the line is not a valid response
};

/// Parses one response line (without its newline).
ParsedResponse parse_response(std::string_view line);

// Results of each command, both ways. The *_from_json functions accept missing members
// (defaults; optional ones stay absent) and null for optional ones, ignore unknown members,
// and fail with a message when a member has the wrong type.

nlohmann::json status_result(const StatusView& status);
nlohmann::json nodes_result(const std::vector<NodeView>& nodes);
nlohmann::json secret_result(const std::string& secret_hex);
nlohmann::json cluster_change_result(const ClusterChange& change);
/// run, job, kill, migrate, lock, unlock: the JobView itself.
nlohmann::json job_result(const JobView& job);
/// ps: {"jobs":[...]}.
nlohmann::json jobs_result(const std::vector<JobView>& jobs);

/// Parses a status result; nullopt and `error` set when it has the wrong shape.
std::optional<StatusView> parse_status_result(const nlohmann::json& result, std::string& error);
/// Parses a nodes result; nullopt and `error` set when it has the wrong shape.
std::optional<std::vector<NodeView>> parse_nodes_result(const nlohmann::json& result,
                                                        std::string& error);
/// The "secret" of a key_show result; nullopt and `error` set when it has the wrong shape.
std::optional<std::string> parse_secret_result(const nlohmann::json& result, std::string& error);
/// The "cluster_id" of a create/join result; nullopt and `error` set when malformed.
std::optional<std::string> parse_cluster_id_result(const nlohmann::json& result,
                                                   std::string& error);
/// Parses a run, job, kill, migrate, lock or unlock result; nullopt and `error` set when it has
/// the wrong shape.
std::optional<JobView> parse_job_result(const nlohmann::json& result, std::string& error);
/// Parses a ps result; nullopt and `error` set when it has the wrong shape.
std::optional<std::vector<JobView>> parse_jobs_result(const nlohmann::json& result,
                                                      std::string& error);

// nlohmann::json conversions (found by ADL: `json j = status; j.get<StatusView>()`).
// to_json omits absent optional members. from_json throws (std::invalid_argument, with the
// member's name) when `j` is not an object or a member has the wrong type or range.
void to_json(nlohmann::json& j, const CriuCheckView& view);
void from_json(const nlohmann::json& j, CriuCheckView& view);
void to_json(nlohmann::json& j, const MeshView& view);
void from_json(const nlohmann::json& j, MeshView& view);
void to_json(nlohmann::json& j, const StatusView& view);
void from_json(const nlohmann::json& j, StatusView& view);
void to_json(nlohmann::json& j, const NodeView& view);
void from_json(const nlohmann::json& j, NodeView& view);
void to_json(nlohmann::json& j, const MigrationView& view);
void from_json(const nlohmann::json& j, MigrationView& view);
void to_json(nlohmann::json& j, const JobView& view);
void from_json(const nlohmann::json& j, JobView& view);
/// The members of a run request: "argv", "cwd", "env", and "name" unless it is empty.
void to_json(nlohmann::json& j, const RunRequest& request);
void from_json(const nlohmann::json& j, RunRequest& request);

/// Overwrites `text` with zeros and empties it, so a secret does not linger in freed memory.
void wipe(std::string& text);

}  // namespace clusterlive::api
