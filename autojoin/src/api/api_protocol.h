// The JSON protocol of the local API, with no I/O: requests and responses to and from text,
// the view structs of api_types.h to and from JSON, and who may do what. Shared by the server
// (src/api/api_server), the blocking client (src/api/api_client, the CLI) and the GUI.
//
// Wire format (PROTOCOL.md has the full description, with examples):
//   Unix SOCK_STREAM socket (kDefaultSocketPath, mode 0666). One JSON object per line, each
//   way, newline-terminated; request, then response, in order; a client may send several
//   requests on one connection.
//   Request:  {"api":1,"command":"status"|"nodes"|"key_show"|"create"|"join","secret":"..."}
//             ("secret", 64 hex digits, for "join" only; other members are ignored)
//   Response: {"api":1,"ok":true,"result":{...}}
//             {"api":1,"ok":false,"error":{"code":"...","message":"..."}}
//   Results:  status   -> the StatusView object (to_json below)
//             nodes    -> {"nodes":[NodeView...]}
//             key_show -> {"secret":"<64 hex>"}          (error "no_secret" when there is none)
//             create, join -> {"cluster_id":"<16 hex>"}  (error "failed": the daemon's reason)
//   Anyone may read (status, nodes); key_show, create and join need uid 0 (SO_PEERCRED).
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

/// What a request asks for.
enum class Command { status, nodes, key_show, create, join };

/// Error codes of the protocol ("code" of an error response).
enum class ErrorCode {
  bad_request,          ///< not JSON, not an object, a member missing or of the wrong type
  unsupported_version,  ///< "api" is not kApiVersion
  unknown_command,      ///< "command" is not one this daemon knows
  permission_denied,    ///< the command needs root
  no_secret,            ///< key_show on a node that runs alone
  failed,               ///< the daemon tried and failed (create, join); message says why
  busy,                 ///< too many clients connected; the connection is closed
  internal,             ///< the daemon hit an unexpected error answering
};

/// The protocol name of a command, e.g. "key_show".
const char* command_name(Command command);
/// The command named `name`, nullopt if there is none.
std::optional<Command> command_from_name(std::string_view name);
/// The protocol spelling of an error code, e.g. "permission_denied".
const char* error_code_name(ErrorCode code);

/// A request. `secret` is used by Command::join only; the destructor wipes it.
struct Request {
  Command command = Command::status;
  std::string secret;

  Request() = default;
  explicit Request(Command c, std::string s = "") : command(c), secret(std::move(s)) {}
  Request(const Request&) = default;
  Request(Request&&) = default;
  Request& operator=(const Request&) = default;
  Request& operator=(Request&&) = default;
  ~Request();
};

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
/// type of "secret" for join. The secret's shape is checked later, by check_arguments(), so
/// that a caller without permission learns nothing about it. No part of the input (the
/// secret in particular) is ever copied into an error message.
ParsedRequest parse_request(std::string_view line);

/// The error for a permitted request whose arguments are wrong (join without a well-formed
/// secret), nullopt when they are fine.
std::optional<ApiError> check_arguments(const Request& request);

/// Serialises a request as one line of JSON, without the newline.
std::string format_request(const Request& request);

/// True when `caller` may run `command`: reading is for everyone, everything else for root.
bool is_permitted(Command command, const Caller& caller);
/// True when `command` changes the node or reveals the secret (root only).
bool needs_root(Command command);

/// Empty when `text` is exactly kSecretHexChars hex digits, else why not (never echoing it).
std::string check_secret_text(std::string_view text);

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

/// Overwrites `text` with zeros and empties it, so a secret does not linger in freed memory.
void wipe(std::string& text);

}  // namespace clusterlive::api
