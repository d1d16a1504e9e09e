// Answers one request line: parse, check permission, check arguments, ask the Backend, and
// format the response. No I/O of its own (the Backend may do some); the server does the
// sockets, this decides what to answer, so every rule is testable without a socket.
#pragma once

#include <string>
#include <string_view>

#include "api/api_protocol.h"
#include "api/api_types.h"

namespace clusterlive::api {

/// What one request line led to, for the server's counters.
struct Answer {
  std::string line;        ///< the response, one line of JSON without the newline
  bool ok = false;         ///< the response is a success
  std::string error_code;  ///< when !ok: its code
};

/// Answers `request_line` (one request without its newline) from `caller`. Order of checks:
/// JSON and version, command, permission (so a caller without it learns nothing more),
/// arguments, then the Backend. A secret sent with join never appears in the answer, even
/// if the Backend's error message quotes it. A job command's error from the Backend is
/// answered with its code ("permission_denied", "not_found"; anything else as "failed").
Answer answer_request(Backend& backend, const Caller& caller, std::string_view request_line);

/// `message` with every occurrence of `secret` (compared case-insensitively) replaced by
/// "<secret>". Returns `message` unchanged when `secret` is empty.
std::string redact_secret(std::string message, std::string_view secret);

}  // namespace clusterlive::api
