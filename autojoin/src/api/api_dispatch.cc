#include "api/api_dispatch.h"

#include <algorithm>
#include <cctype>
#include <exception>

namespace clusterlive::api {
namespace {

Answer error_answer(ErrorCode code, std::string_view message) {
  return {format_error(code, message), false, error_code_name(code)};
}

Answer error_answer(const ApiError& error) { return {format_error(error), false, error.code}; }

Answer ok_answer(const nlohmann::json& result) { return {format_ok(result), true, ""}; }

std::string permission_message(Command command, const Caller& caller) {
  return std::string(command_name(command)) + " needs root; the caller runs as uid " +
         std::to_string(caller.uid);
}

/// The ErrorCode for a JobResult's error_code: the three the Backend may use, anything else
/// as "failed".
ErrorCode job_error_code(const std::string& code) {
  if (code == error_code_name(ErrorCode::permission_denied)) return ErrorCode::permission_denied;
  if (code == error_code_name(ErrorCode::not_found)) return ErrorCode::not_found;
  return ErrorCode::failed;
}

Answer job_answer(const JobResult& result, Command command) {
  if (result.ok) return ok_answer(job_result(result.job));
  std::string message = result.error;
  if (message.empty()) message = std::string(command_name(command)) + " failed";
  return error_answer(job_error_code(result.error_code), message);
}

Answer run(Backend& backend, const Caller& caller, const Request& request) {
  switch (request.command) {
    case Command::status:
      return ok_answer(status_result(backend.status()));
    case Command::nodes:
      return ok_answer(nodes_result(backend.nodes()));
    case Command::key_show: {
      std::optional<std::string> secret = backend.secret_hex();
      if (!secret) {
        return error_answer(ErrorCode::no_secret,
                            "this node has no cluster secret (it runs alone)");
      }
      Answer answer = ok_answer(secret_result(*secret));
      wipe(*secret);
      return answer;
    }
    case Command::create: {
      ClusterChange change = backend.create_cluster();
      if (!change.ok) return error_answer(ErrorCode::failed, change.error);
      return ok_answer(cluster_change_result(change));
    }
    case Command::join: {
      ClusterChange change = backend.join_cluster(request.secret);
      if (!change.ok) {
        return error_answer(ErrorCode::failed, redact_secret(change.error, request.secret));
      }
      return ok_answer(cluster_change_result(change));
    }
    case Command::run:
      return job_answer(backend.run_job(caller, request.run), request.command);
    case Command::ps: {
      JobList list = backend.jobs();
      if (!list.unavailable.empty()) return error_answer(ErrorCode::failed, list.unavailable);
      return ok_answer(jobs_result(list.jobs));
    }
    case Command::job:
      return job_answer(backend.job(request.job), request.command);
    case Command::kill:
      return job_answer(backend.kill_job(caller, request.job), request.command);
    case Command::migrate:
      return job_answer(backend.migrate_job(caller, {request.job, request.target, request.attempt}),
                        request.command);
    case Command::lock:
    case Command::unlock:
      return job_answer(
          backend.set_job_locked(caller, request.job, request.command == Command::lock),
          request.command);
  }
  return error_answer(ErrorCode::internal, "unhandled command");
}

}  // namespace

Answer answer_request(Backend& backend, const Caller& caller, std::string_view request_line) {
  ParsedRequest parsed = parse_request(request_line);
  if (!parsed.request) return error_answer(parsed.error);
  const Request& request = *parsed.request;
  if (!is_permitted(request.command, caller)) {
    return error_answer(ErrorCode::permission_denied, permission_message(request.command, caller));
  }
  if (std::optional<ApiError> error = check_arguments(request)) return error_answer(*error);
  try {
    return run(backend, caller, request);
  } catch (const std::exception& e) {
    // The daemon's own bug or resource exhaustion: answer, do not take the daemon down.
    return error_answer(ErrorCode::internal,
                        redact_secret(std::string("clusterlived: ") + e.what(), request.secret));
  }
}

std::string redact_secret(std::string message, std::string_view secret) {
  if (secret.empty()) return message;
  auto lower = [](unsigned char c) { return static_cast<char>(std::tolower(c)); };
  std::string folded_message(message.size(), '\0');
  std::transform(message.begin(), message.end(), folded_message.begin(), lower);
  std::string folded_secret(secret.size(), '\0');
  std::transform(secret.begin(), secret.end(), folded_secret.begin(), lower);
  const std::string replacement = "<secret>";
  std::string out;
  size_t from = 0;
  for (size_t at = folded_message.find(folded_secret); at != std::string::npos;
       at = folded_message.find(folded_secret, from)) {
    out.append(message, from, at - from);
    out += replacement;
    from = at + folded_secret.size();
  }
  out.append(message, from, std::string::npos);
  wipe(folded_message);
  wipe(folded_secret);
  wipe(message);
  return out;
}

}  // namespace clusterlive::api
