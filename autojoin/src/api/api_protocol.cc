#include "api/api_protocol.h"

#include <string.h>  // explicit_bzero

#include <cmath>
#include <limits>
#include <stdexcept>
#include <type_traits>

#include "core/node_id.h"

namespace clusterlive::api {
namespace {

using nlohmann::json;

/// Deepest nesting of arrays and objects accepted in a line. Our messages nest 3 deep; the
/// limit keeps a hostile line from driving any recursive code deep into the stack.
constexpr int kMaxNestingDepth = 16;
/// Longest command name echoed back in an "unknown command" message, in characters.
constexpr size_t kMaxEchoedCommandChars = 32;

struct CommandEntry {
  Command command;
  const char* name;
};

constexpr CommandEntry kCommands[] = {
    {Command::status, "status"},   {Command::nodes, "nodes"}, {Command::key_show, "key_show"},
    {Command::create, "create"},   {Command::join, "join"},   {Command::run, "run"},
    {Command::ps, "ps"},           {Command::job, "job"},     {Command::kill, "kill"},
    {Command::migrate, "migrate"}, {Command::lock, "lock"},   {Command::unlock, "unlock"},
};

/// True when `command` is about one job, named by the request's "job".
bool names_a_job(Command command) {
  return command == Command::job || command == Command::kill || command == Command::migrate ||
         command == Command::lock || command == Command::unlock;
}

/// "status, nodes, ...": every command, for an "unknown command" message.
std::string command_list() {
  std::string list;
  for (const CommandEntry& entry : kCommands) {
    if (!list.empty()) list += ", ";
    list += entry.name;
  }
  return list;
}

/// True when the arrays and objects of `text` nest at most `limit` deep (strings skipped).
bool nesting_within(std::string_view text, int limit) {
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > limit) return false;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return true;
}

/// Parses `text` as JSON; discarded (is_discarded()) when it is not JSON or nests too deep.
json parse_json(std::string_view text) {
  if (!nesting_within(text, kMaxNestingDepth)) return json(json::value_t::discarded);
  return json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
}

/// One line of JSON. Invalid UTF-8 (say, in a peer's node name) is replaced, never thrown.
std::string dump_line(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

bool is_echo_safe(std::string_view name) {
  if (name.empty() || name.size() > kMaxEchoedCommandChars) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

/// " NAME" when `name` is short and plain (letters, digits, underscores), so that an error
/// may name an environment variable; "" otherwise.
std::string echo_env_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxEchoedCommandChars) return "";
  for (char c : name) {
    bool ok =
        (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return "";
  }
  return " " + std::string(name);
}

/// True when `text` holds a C0 control, DEL or a C1 control (U+0080..U+009F).
bool has_control_character(std::string_view text) {
  for (size_t i = 0; i < text.size(); ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7f) return true;
    if (c == 0xc2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) <= 0x9f) {
      return true;
    }
  }
  return false;
}

/// UTF-8 code points in `text` (which is valid UTF-8).
size_t code_points(std::string_view text) {
  size_t count = 0;
  for (char c : text) count += (static_cast<unsigned char>(c) & 0xc0) != 0x80;
  return count;
}

std::optional<ApiError> bad_arguments(std::string message) {
  return ApiError{error_code_name(ErrorCode::bad_request), std::move(message)};
}

std::optional<ApiError> check_run_arguments(const RunRequest& run) {
  if (run.argv.empty()) {
    return bad_arguments("run needs \"argv\": the command and its arguments, at least one string");
  }
  if (run.argv.size() > kMaxArgvEntries) {
    return bad_arguments("\"argv\" has " + std::to_string(run.argv.size()) + " elements; at most " +
                         std::to_string(kMaxArgvEntries) + " are taken");
  }
  if (run.argv[0].empty()) return bad_arguments("\"argv\"[0], the command, is empty");
  for (size_t i = 0; i < run.argv.size(); ++i) {
    const std::string& arg = run.argv[i];
    std::string which = "\"argv\"[" + std::to_string(i) + "]";
    if (arg.size() > kMaxArgumentBytes) {
      return bad_arguments(which + " is longer than " + std::to_string(kMaxArgumentBytes) +
                           " bytes");
    }
    if (arg.find('\0') != std::string::npos) {
      return bad_arguments(which + " contains a NUL character, which no argument can hold");
    }
  }
  if (run.cwd.empty()) {
    return bad_arguments("run needs \"cwd\": the absolute path of the working directory");
  }
  if (run.cwd[0] != '/') return bad_arguments("\"cwd\" is not an absolute path");
  if (run.cwd.find('\0') != std::string::npos) {
    return bad_arguments("\"cwd\" contains a NUL character");
  }
  for (const auto& [name, value] : run.env) {
    if (name.empty()) return bad_arguments("a variable of \"env\" has an empty name");
    if (name.find('=') != std::string::npos || name.find('\0') != std::string::npos) {
      return bad_arguments("a variable name of \"env\" contains \"=\" or a NUL character");
    }
    if (value.find('\0') != std::string::npos) {
      return bad_arguments("the value of the \"env\" variable" + echo_env_name(name) +
                           " contains a NUL character");
    }
  }
  if (code_points(run.name) > kMaxJobNameChars) {
    return bad_arguments("\"name\" is longer than " + std::to_string(kMaxJobNameChars) +
                         " characters");
  }
  if (has_control_character(run.name)) {
    return bad_arguments("\"name\" contains a control character");
  }
  return std::nullopt;
}

/// Copies the member `key` of `j` into `out` when it is present and not null; false when it is
/// there but not a string.
bool read_string_member(const json& j, const char* key, std::string& out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return true;
  if (!it->is_string()) return false;
  out = it->get<std::string>();
  return true;
}

// An optional unsigned member: absent or null leaves `out`; false if it is anything else.
bool read_unsigned_member(const json& j, const char* key, uint64_t& out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return true;
  if (!it->is_number_unsigned()) return false;
  out = it->get<uint64_t>();
  return true;
}

ParsedRequest request_error(ErrorCode code, std::string message) {
  ParsedRequest parsed;
  parsed.error = {error_code_name(code), std::move(message)};
  return parsed;
}

[[noreturn]] void shape_error(const char* key, const char* expected) {
  throw std::invalid_argument(std::string("member \"") + key + "\": expected " + expected);
}

void require_object(const json& j, const char* what) {
  if (!j.is_object()) throw std::invalid_argument(std::string(what) + ": expected an object");
}

/// Reads j[key] into `out` when present and not null; throws on a wrong type or range.
template <typename T>
void read_value(const json& value, const char* key, T& out) {
  if constexpr (std::is_same_v<T, bool>) {
    if (!value.is_boolean()) shape_error(key, "true or false");
    out = value.get<bool>();
  } else if constexpr (std::is_same_v<T, std::string>) {
    if (!value.is_string()) shape_error(key, "a string");
    out = value.get<std::string>();
  } else if constexpr (std::is_floating_point_v<T>) {
    if (!value.is_number()) shape_error(key, "a number");
    out = value.get<T>();
  } else if constexpr (std::is_integral_v<T>) {
    if (value.is_number_unsigned()) {
      auto v = value.get<uint64_t>();
      if (v > static_cast<uint64_t>(std::numeric_limits<T>::max())) {
        shape_error(key, "a smaller integer");
      }
      out = static_cast<T>(v);
    } else if (value.is_number_integer()) {
      auto v = value.get<int64_t>();
      if constexpr (std::is_unsigned_v<T>) {
        if (v < 0) shape_error(key, "a non-negative integer");
        if (static_cast<uint64_t>(v) > static_cast<uint64_t>(std::numeric_limits<T>::max())) {
          shape_error(key, "a smaller integer");
        }
      } else {
        if (v < static_cast<int64_t>(std::numeric_limits<T>::min()) ||
            v > static_cast<int64_t>(std::numeric_limits<T>::max())) {
          shape_error(key, "a smaller integer");
        }
      }
      out = static_cast<T>(v);
    } else {
      shape_error(key, "an integer");
    }
  } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
    if (!value.is_array()) shape_error(key, "an array of strings");
    out.clear();
    for (const json& item : value) {
      if (!item.is_string()) shape_error(key, "an array of strings");
      out.push_back(item.get<std::string>());
    }
  } else {
    value.get_to(out);  // nested view structs: their own from_json
  }
}

template <typename T>
void read_member(const json& j, const char* key, T& out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return;
  read_value(*it, key, out);
}

template <typename T>
void read_member(const json& j, const char* key, std::optional<T>& out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    out.reset();
    return;
  }
  T value{};
  read_value(*it, key, value);
  out = std::move(value);
}

template <typename T>
void write_optional(json& j, const char* key, const std::optional<T>& value) {
  if (value) j[key] = *value;
}

template <typename T>
std::optional<T> parse_result(const json& result, std::string& error) {
  try {
    return result.get<T>();
  } catch (const std::exception& e) {
    error = e.what();
    return std::nullopt;
  }
}

std::optional<std::string> string_member(const json& result, const char* key, std::string& error) {
  try {
    require_object(result, "result");
    auto it = result.find(key);
    if (it == result.end()) throw std::invalid_argument(std::string("no \"") + key + "\" member");
    std::string value;
    read_value(*it, key, value);
    return value;
  } catch (const std::exception& e) {
    error = e.what();
    return std::nullopt;
  }
}

}  // namespace

Request::~Request() { wipe(secret); }

const char* command_name(Command command) {
  for (const CommandEntry& entry : kCommands) {
    if (entry.command == command) return entry.name;
  }
  return "?";
}

std::optional<Command> command_from_name(std::string_view name) {
  for (const CommandEntry& entry : kCommands) {
    if (name == entry.name) return entry.command;
  }
  return std::nullopt;
}

const char* error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::bad_request:
      return "bad_request";
    case ErrorCode::unsupported_version:
      return "unsupported_version";
    case ErrorCode::unknown_command:
      return "unknown_command";
    case ErrorCode::permission_denied:
      return "permission_denied";
    case ErrorCode::no_secret:
      return "no_secret";
    case ErrorCode::not_found:
      return "not_found";
    case ErrorCode::failed:
      return "failed";
    case ErrorCode::busy:
      return "busy";
    case ErrorCode::internal:
      return "internal";
  }
  return "internal";
}

ParsedRequest parse_request(std::string_view line) {
  if (line.size() > kMaxRequestBytes) {
    return request_error(ErrorCode::bad_request,
                         "request longer than " + std::to_string(kMaxRequestBytes) + " bytes");
  }
  json j = parse_json(line);
  // Whatever happens below, the copy of a secret inside `j` is wiped before `j` is freed.
  struct SecretWiper {
    json& j;
    ~SecretWiper() {
      if (!j.is_object()) return;
      auto it = j.find("secret");
      if (it != j.end() && it->is_string()) wipe(*it->get_ptr<std::string*>());
    }
  } wiper{j};

  if (j.is_discarded()) return request_error(ErrorCode::bad_request, "request is not valid JSON");
  if (!j.is_object()) return request_error(ErrorCode::bad_request, "request is not a JSON object");
  auto api = j.find("api");
  if (api == j.end()) {
    return request_error(ErrorCode::bad_request, "request has no \"api\" version");
  }
  if (!api->is_number_integer()) {
    return request_error(ErrorCode::bad_request, "\"api\" is not an integer");
  }
  if (api->get<int64_t>() != kApiVersion) {
    return request_error(ErrorCode::unsupported_version, "this clusterlived speaks API version " +
                                                             std::to_string(kApiVersion) +
                                                             ", the request asked for version " +
                                                             std::to_string(api->get<int64_t>()));
  }
  auto command = j.find("command");
  if (command == j.end()) {
    return request_error(ErrorCode::bad_request, "request has no \"command\"");
  }
  if (!command->is_string()) {
    return request_error(ErrorCode::bad_request, "\"command\" is not a string");
  }
  const std::string& name = command->get_ref<const std::string&>();
  std::optional<Command> known = command_from_name(name);
  if (!known) {
    std::string message =
        is_echo_safe(name) ? "unknown command \"" + name + "\"" : "unknown command";
    message += "; known: " + command_list();
    return request_error(ErrorCode::unknown_command, message);
  }
  ParsedRequest parsed;
  parsed.request.emplace(*known);
  if (*known == Command::join) {
    auto secret = j.find("secret");
    if (secret != j.end() && !secret->is_null()) {
      if (!secret->is_string()) {
        parsed.request.reset();
        return request_error(ErrorCode::bad_request, "\"secret\" is not a string");
      }
      parsed.request->secret = secret->get<std::string>();
    }
  } else if (*known == Command::run) {
    try {
      j.get_to(parsed.request->run);
    } catch (const std::exception& e) {
      // The messages name the member and the type expected, never a value.
      parsed.request.reset();
      return request_error(ErrorCode::bad_request, e.what());
    }
  } else if (names_a_job(*known)) {
    // Their values are checked by check_arguments(); here only that they are strings.
    const char* wrong = nullptr;
    if (!read_string_member(j, "job", parsed.request->job)) {
      wrong = "job";
    } else if (*known == Command::migrate &&
               !read_string_member(j, "target", parsed.request->target)) {
      wrong = "target";
    } else if (*known == Command::migrate &&
               !read_unsigned_member(j, "attempt", parsed.request->attempt)) {
      wrong = "attempt";
    }
    if (wrong) {
      parsed.request.reset();
      return request_error(ErrorCode::bad_request,
                           std::string("\"") + wrong + "\" is not a " +
                               (std::string(wrong) == "attempt" ? "number" : "string"));
    }
  }
  return parsed;
}

std::optional<ApiError> check_arguments(const Request& request) {
  if (request.command == Command::run) return check_run_arguments(request.run);
  if (names_a_job(request.command)) {
    if (request.job.empty()) {
      return bad_arguments(std::string(command_name(request.command)) +
                           " needs \"job\": a job id such as j-3f9a0c12");
    }
    std::string why = check_job_id(request.job);
    if (!why.empty()) return bad_arguments("\"job\": " + why);
    if (request.command != Command::migrate) return std::nullopt;
    if (request.target.empty()) {
      return bad_arguments(std::string("migrate needs \"target\": a node id such as "
                                       "node-77c2e0, \"") +
                           kMigrateToHome + "\" or \"" + kMigrateToBest + "\"");
    }
    why = check_migrate_target(request.target);
    if (!why.empty()) return bad_arguments("\"target\": " + why);
    return std::nullopt;
  }
  if (request.command != Command::join) return std::nullopt;
  if (request.secret.empty()) {
    return ApiError{error_code_name(ErrorCode::bad_request), "join needs a \"secret\""};
  }
  std::string why = check_secret_text(request.secret);
  if (!why.empty()) return ApiError{error_code_name(ErrorCode::bad_request), why};
  return std::nullopt;
}

std::string format_request(const Request& request) {
  json j = {{"api", kApiVersion}, {"command", command_name(request.command)}};
  if (request.command == Command::join) j["secret"] = request.secret;
  if (request.command == Command::run) j.update(json(request.run));
  if (names_a_job(request.command)) j["job"] = request.job;
  if (request.command == Command::migrate) {
    j["target"] = request.target;
    if (request.attempt != 0) j["attempt"] = request.attempt;
  }
  std::string line = dump_line(j);
  if (request.command == Command::join) wipe(j["secret"].get_ref<std::string&>());
  return line;
}

Request run_request(RunRequest run) {
  Request request(Command::run);
  request.run = std::move(run);
  return request;
}

Request job_request(Command command, std::string job_id) {
  Request request(command);
  request.job = std::move(job_id);
  return request;
}

Request migrate_request(MigrateRequest migrate) {
  Request request(Command::migrate);
  request.job = std::move(migrate.job);
  request.target = std::move(migrate.target);
  request.attempt = migrate.attempt;
  return request;
}

bool needs_root(Command command) {
  switch (command) {
    case Command::status:
    case Command::nodes:
    case Command::run:
    case Command::ps:
    case Command::job:
    case Command::kill:
    case Command::migrate:
    case Command::lock:
    case Command::unlock:
      return false;
    case Command::key_show:
    case Command::create:
    case Command::join:
      return true;
  }
  return true;
}

bool is_permitted(Command command, const Caller& caller) {
  return !needs_root(command) || caller.is_root();
}

bool only_reads(Command command) {
  switch (command) {
    case Command::status:
    case Command::nodes:
    case Command::key_show:
    case Command::ps:
    case Command::job:
      return true;
    case Command::create:
    case Command::join:
    case Command::run:
    case Command::kill:
    case Command::migrate:
    case Command::lock:
    case Command::unlock:
      return false;
  }
  return false;
}

std::string check_secret_text(std::string_view text) {
  if (text.size() != kSecretHexChars) {
    return "the cluster secret must be " + std::to_string(kSecretHexChars) + " hex digits, got " +
           std::to_string(text.size()) + " characters";
  }
  for (char c : text) {
    bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    if (!hex) return "the cluster secret contains a character that is not a hex digit";
  }
  return "";
}

std::string check_job_id(std::string_view text) {
  const std::string_view prefix = kJobIdPrefix;
  bool ok =
      text.size() == prefix.size() + kJobIdHexDigits && text.substr(0, prefix.size()) == prefix;
  for (size_t i = prefix.size(); ok && i < text.size(); ++i) {
    char c = text[i];
    ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  }
  if (ok) return "";
  return "not a job id (\"" + std::string(prefix) + "\" and " + std::to_string(kJobIdHexDigits) +
         " lower-case hex digits, such as j-3f9a0c12)";
}

std::string check_migrate_target(std::string_view text) {
  if (text == kMigrateToHome || text == kMigrateToBest || is_valid_node_id(text)) return "";
  const std::string home = kMigrateToHome;
  const std::string best = kMigrateToBest;
  return "not a node id (1 to " + std::to_string(kMaxNodeIdLength) +
         " of a-z, 0-9 and \"-\", not starting or ending with \"-\", such as node-77c2e0) nor \"" +
         home + "\" nor \"" + best + "\"";
}

bool is_denied_job_env(std::string_view name) {
  for (const char* denied : kJobEnvDenylist) {
    if (name == denied) return true;
  }
  return false;
}

bool is_valid_utf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t length = 0;
    uint32_t point = 0;
    if (c >= 0xc2 && c <= 0xdf) {
      length = 2;
      point = c & 0x1fu;
    } else if (c >= 0xe0 && c <= 0xef) {
      length = 3;
      point = c & 0x0fu;
    } else if (c >= 0xf0 && c <= 0xf4) {
      length = 4;
      point = c & 0x07u;
    } else {
      return false;  // a continuation byte, an overlong lead (0xc0, 0xc1) or past U+10FFFF
    }
    if (text.size() - i < length) return false;
    for (size_t k = 1; k < length; ++k) {
      auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xc0) != 0x80) return false;
      point = (point << 6) | (next & 0x3fu);
    }
    if ((length == 3 && point < 0x800) || (length == 4 && point < 0x10000)) return false;
    if (point >= 0xd800 && point <= 0xdfff) return false;  // surrogates
    if (point > 0x10ffff) return false;
    i += length;
  }
  return true;
}

std::string format_ok(const nlohmann::json& result) {
  return dump_line({{"api", kApiVersion}, {"ok", true}, {"result", result}});
}

std::string format_error(ErrorCode code, std::string_view message) {
  return format_error(ApiError{error_code_name(code), std::string(message)});
}

std::string format_error(const ApiError& error) {
  return dump_line({{"api", kApiVersion},
                    {"ok", false},
                    {"error", {{"code", error.code}, {"message", error.message}}}});
}

ParsedResponse parse_response(std::string_view line) {
  ParsedResponse parsed;
  json j = parse_json(line);
  if (j.is_discarded()) {
    parsed.error = "the answer is not valid JSON";
    return parsed;
  }
  if (!j.is_object()) {
    parsed.error = "the answer is not a JSON object";
    return parsed;
  }
  auto api = j.find("api");
  if (api == j.end() || !api->is_number_integer()) {
    parsed.error = "the answer has no integer \"api\" version";
    return parsed;
  }
  if (api->get<int64_t>() != kApiVersion) {
    parsed.error = "clusterlived answered with API version " + std::to_string(api->get<int64_t>()) +
                   "; this client speaks version " + std::to_string(kApiVersion);
    return parsed;
  }
  auto ok = j.find("ok");
  if (ok == j.end() || !ok->is_boolean()) {
    parsed.error = "the answer has no boolean \"ok\"";
    return parsed;
  }
  Response response;
  response.ok = ok->get<bool>();
  if (response.ok) {
    auto result = j.find("result");
    if (result == j.end()) {
      parsed.error = "the answer has \"ok\":true but no \"result\"";
      return parsed;
    }
    response.result = std::move(*result);
  } else {
    auto error = j.find("error");
    if (error == j.end() || !error->is_object()) {
      parsed.error = "the answer has \"ok\":false but no \"error\" object";
      return parsed;
    }
    auto code = error->find("code");
    if (code == error->end() || !code->is_string()) {
      parsed.error = "the error in the answer has no string \"code\"";
      return parsed;
    }
    response.error.code = code->get<std::string>();
    auto message = error->find("message");
    if (message != error->end() && message->is_string()) {
      response.error.message = message->get<std::string>();
    }
  }
  parsed.response = std::move(response);
  return parsed;
}

nlohmann::json status_result(const StatusView& status) { return status; }

nlohmann::json nodes_result(const std::vector<NodeView>& nodes) { return {{"nodes", nodes}}; }

nlohmann::json secret_result(const std::string& secret_hex) { return {{"secret", secret_hex}}; }

nlohmann::json cluster_change_result(const ClusterChange& change) {
  return {{"cluster_id", change.cluster_id}};
}

nlohmann::json job_result(const JobView& job) { return job; }

nlohmann::json jobs_result(const std::vector<JobView>& jobs) { return {{"jobs", jobs}}; }

std::optional<StatusView> parse_status_result(const nlohmann::json& result, std::string& error) {
  return parse_result<StatusView>(result, error);
}

std::optional<std::vector<NodeView>> parse_nodes_result(const nlohmann::json& result,
                                                        std::string& error) {
  try {
    require_object(result, "result");
    auto nodes = result.find("nodes");
    if (nodes == result.end() || !nodes->is_array()) {
      throw std::invalid_argument("member \"nodes\": expected an array");
    }
    std::vector<NodeView> views;
    views.reserve(nodes->size());
    for (size_t i = 0; i < nodes->size(); ++i) {
      try {
        views.push_back((*nodes)[i].get<NodeView>());
      } catch (const std::exception& e) {
        throw std::invalid_argument("nodes[" + std::to_string(i) + "]: " + e.what());
      }
    }
    return views;
  } catch (const std::exception& e) {
    error = e.what();
    return std::nullopt;
  }
}

std::optional<std::string> parse_secret_result(const nlohmann::json& result, std::string& error) {
  return string_member(result, "secret", error);
}

std::optional<std::string> parse_cluster_id_result(const nlohmann::json& result,
                                                   std::string& error) {
  return string_member(result, "cluster_id", error);
}

std::optional<JobView> parse_job_result(const nlohmann::json& result, std::string& error) {
  return parse_result<JobView>(result, error);
}

std::optional<std::vector<JobView>> parse_jobs_result(const nlohmann::json& result,
                                                      std::string& error) {
  try {
    require_object(result, "result");
    auto jobs = result.find("jobs");
    if (jobs == result.end() || !jobs->is_array()) {
      throw std::invalid_argument("member \"jobs\": expected an array");
    }
    std::vector<JobView> views;
    views.reserve(jobs->size());
    for (size_t i = 0; i < jobs->size(); ++i) {
      try {
        views.push_back((*jobs)[i].get<JobView>());
      } catch (const std::exception& e) {
        throw std::invalid_argument("jobs[" + std::to_string(i) + "]: " + e.what());
      }
    }
    return views;
  } catch (const std::exception& e) {
    error = e.what();
    return std::nullopt;
  }
}

void to_json(nlohmann::json& j, const CriuCheckView& view) {
  j = {{"known", view.known}, {"ok", view.ok}, {"detail", view.detail}};
}

void from_json(const nlohmann::json& j, CriuCheckView& view) {
  require_object(j, "criu");
  view = {};
  read_member(j, "known", view.known);
  read_member(j, "ok", view.ok);
  read_member(j, "detail", view.detail);
}

void to_json(nlohmann::json& j, const MeshView& view) {
  j = {{"up", view.up},
       {"interface", view.interface},
       {"address", view.address},
       {"listen_port", view.listen_port},
       {"public_key", view.public_key},
       {"peers", view.peers},
       {"peers_with_recent_handshake", view.peers_with_recent_handshake},
       {"error", view.error}};
}

void from_json(const nlohmann::json& j, MeshView& view) {
  require_object(j, "mesh");
  view = {};
  read_member(j, "up", view.up);
  read_member(j, "interface", view.interface);
  read_member(j, "address", view.address);
  read_member(j, "listen_port", view.listen_port);
  read_member(j, "public_key", view.public_key);
  read_member(j, "peers", view.peers);
  read_member(j, "peers_with_recent_handshake", view.peers_with_recent_handshake);
  read_member(j, "error", view.error);
}

void to_json(nlohmann::json& j, const StorageView& view) {
  j = {{"server", view.server},           {"serving", view.serving},
       {"pinned", view.pinned},           {"mounted", view.mounted},
       {"homes_linked", view.homes_linked},
       {"mount_point", view.mount_point}, {"decision", view.decision},
       {"busy_with", view.busy_with},     {"error", view.error}};
}

void from_json(const nlohmann::json& j, StorageView& view) {
  require_object(j, "storage");
  view = {};
  read_member(j, "server", view.server);
  read_member(j, "serving", view.serving);
  read_member(j, "pinned", view.pinned);
  read_member(j, "mounted", view.mounted);
  read_member(j, "homes_linked", view.homes_linked);
  read_member(j, "mount_point", view.mount_point);
  read_member(j, "decision", view.decision);
  read_member(j, "busy_with", view.busy_with);
  read_member(j, "error", view.error);
}

void to_json(nlohmann::json& j, const StatusView& view) {
  j = json::object();
  j["version"] = view.version;
  j["node"] = view.node;
  write_optional(j, "cluster_id", view.cluster_id);
  write_optional(j, "secret_source", view.secret_source);
  j["alone_reason"] = view.alone_reason;
  j["members_up"] = view.members_up;
  j["members_suspect"] = view.members_suspect;
  j["members_dead"] = view.members_dead;
  j["foreign_nodes"] = view.foreign_nodes;
  j["criu"] = view.criu;
  j["mesh"] = view.mesh;
  j["storage"] = view.storage;
  j["uptime_ms"] = view.uptime_ms;
  j["counters"] = json::object();
  for (const auto& [name, value] : view.counters) j["counters"][name] = value;
}

void from_json(const nlohmann::json& j, StatusView& view) {
  require_object(j, "status");
  view = {};
  read_member(j, "version", view.version);
  read_member(j, "node", view.node);
  read_member(j, "cluster_id", view.cluster_id);
  read_member(j, "secret_source", view.secret_source);
  read_member(j, "alone_reason", view.alone_reason);
  read_member(j, "members_up", view.members_up);
  read_member(j, "members_suspect", view.members_suspect);
  read_member(j, "members_dead", view.members_dead);
  read_member(j, "foreign_nodes", view.foreign_nodes);
  read_member(j, "criu", view.criu);
  read_member(j, "mesh", view.mesh);
  read_member(j, "storage", view.storage);
  read_member(j, "uptime_ms", view.uptime_ms);
  auto counters = j.find("counters");
  if (counters != j.end() && !counters->is_null()) {
    if (!counters->is_object()) shape_error("counters", "an object");
    for (const auto& [name, value] : counters->items()) {
      uint64_t count = 0;
      read_value(value, "counters", count);
      view.counters[name] = count;
    }
  }
}

void to_json(nlohmann::json& j, const NodeView& view) {
  j = json::object();
  j["name"] = view.name;
  j["self"] = view.self;
  j["state"] = view.state;
  write_optional(j, "cluster_id", view.cluster_id);
  j["addresses"] = view.addresses;
  write_optional(j, "cores", view.cores);
  write_optional(j, "cpu_speed", view.cpu_speed);
  if (view.load && std::isfinite(*view.load)) j["load"] = *view.load;
  write_optional(j, "free_memory_mib", view.free_memory_mib);
  write_optional(j, "last_heard_ms_ago", view.last_heard_ms_ago);
  j["state_for_ms"] = view.state_for_ms;
}

void from_json(const nlohmann::json& j, NodeView& view) {
  require_object(j, "node");
  view = {};
  read_member(j, "name", view.name);
  read_member(j, "self", view.self);
  read_member(j, "state", view.state);
  read_member(j, "cluster_id", view.cluster_id);
  read_member(j, "addresses", view.addresses);
  read_member(j, "cores", view.cores);
  read_member(j, "cpu_speed", view.cpu_speed);
  read_member(j, "load", view.load);
  read_member(j, "free_memory_mib", view.free_memory_mib);
  read_member(j, "last_heard_ms_ago", view.last_heard_ms_ago);
  read_member(j, "state_for_ms", view.state_for_ms);
}

void to_json(nlohmann::json& j, const MigrationView& view) {
  j = json::object();
  j["target"] = view.target;
  j["attempt"] = view.attempt;
  j["phase"] = view.phase;
  j["round"] = view.round;
  j["bytes_sent"] = view.bytes_sent;
  j["rate_bytes_per_s"] = view.rate_bytes_per_s;
  write_optional(j, "freeze_ms", view.freeze_ms);
  j["outcome"] = view.outcome;
  j["reason"] = view.reason;
  j["updated_unix_ms"] = view.updated_unix_ms;
}

void from_json(const nlohmann::json& j, MigrationView& view) {
  require_object(j, "migration");
  view = {};
  read_member(j, "target", view.target);
  read_member(j, "attempt", view.attempt);
  read_member(j, "phase", view.phase);
  read_member(j, "round", view.round);
  read_member(j, "bytes_sent", view.bytes_sent);
  read_member(j, "rate_bytes_per_s", view.rate_bytes_per_s);
  read_member(j, "freeze_ms", view.freeze_ms);
  read_member(j, "outcome", view.outcome);
  read_member(j, "reason", view.reason);
  read_member(j, "updated_unix_ms", view.updated_unix_ms);
}

void to_json(nlohmann::json& j, const JobView& view) {
  j = json::object();
  j["id"] = view.id;
  j["name"] = view.name;
  j["owner_uid"] = view.owner_uid;
  j["owner"] = view.owner;
  j["home"] = view.home;
  j["where"] = view.where;
  j["state"] = view.state;
  write_optional(j, "exit_code", view.exit_code);
  write_optional(j, "signal", view.signal);
  j["cpu_percent"] = std::isfinite(view.cpu_percent) ? view.cpu_percent : 0.0;
  j["rss_kib"] = view.rss_kib;
  j["migrations"] = view.migrations;
  j["locked"] = view.locked;
  j["started_unix_ms"] = view.started_unix_ms;
  j["argv"] = view.argv;
  j["spool"] = view.spool;
  write_optional(j, "migration", view.migration);
}

void from_json(const nlohmann::json& j, JobView& view) {
  require_object(j, "job");
  view = {};
  read_member(j, "id", view.id);
  read_member(j, "name", view.name);
  read_member(j, "owner_uid", view.owner_uid);
  read_member(j, "owner", view.owner);
  read_member(j, "home", view.home);
  read_member(j, "where", view.where);
  read_member(j, "state", view.state);
  read_member(j, "exit_code", view.exit_code);
  read_member(j, "signal", view.signal);
  read_member(j, "cpu_percent", view.cpu_percent);
  read_member(j, "rss_kib", view.rss_kib);
  read_member(j, "migrations", view.migrations);
  read_member(j, "locked", view.locked);
  read_member(j, "started_unix_ms", view.started_unix_ms);
  read_member(j, "argv", view.argv);
  read_member(j, "spool", view.spool);
  read_member(j, "migration", view.migration);
}

void to_json(nlohmann::json& j, const RunRequest& request) {
  j = json::object();
  j["argv"] = request.argv;
  j["cwd"] = request.cwd;
  j["env"] = json::object();
  for (const auto& [name, value] : request.env) j["env"][name] = value;
  if (!request.name.empty()) j["name"] = request.name;
}

void from_json(const nlohmann::json& j, RunRequest& request) {
  require_object(j, "run request");
  request = {};
  read_member(j, "argv", request.argv);
  read_member(j, "cwd", request.cwd);
  read_member(j, "name", request.name);
  auto env = j.find("env");
  if (env != j.end() && !env->is_null()) {
    if (!env->is_object()) shape_error("env", "an object whose values are strings");
    for (const auto& [name, value] : env->items()) {
      if (!value.is_string()) shape_error("env", "an object whose values are strings");
      request.env[name] = value.get<std::string>();
    }
  }
}

void wipe(std::string& text) {
  explicit_bzero(text.data(), text.size());
  text.clear();
}

}  // namespace clusterlive::api
