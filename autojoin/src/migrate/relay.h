// Requests a node's daemon passes on to the node that runs a job, over the latter's migration
// port: kill the job, or move it. The asking daemon checked the caller's rights; the port
// takes a connection only from a privileged port of a member (root there), and the request is
// then asked of the local daemon as root.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace clusterlive {

struct RelayRequest {
  std::string command;  ///< "kill" or "migrate"
  std::string job;      ///< the job's id
  std::string target;   ///< migrate: the node to move it to (a node id, "home" or "best")
  uint64_t attempt = 0; ///< migrate: the attempt the asking node chose (its user follows it)
};

nlohmann::json relay_to_json(const RelayRequest& request);
/// nullopt if `json` is not a well-formed request of a known command.
std::optional<RelayRequest> relay_from_json(const nlohmann::json& json);

/// Sends `request` to the migration port at [address]:port and waits for the answer. Returns
/// "" when the other node's daemon took it, else why not.
std::string relay_request(const std::string& address, uint16_t port, const RelayRequest& request);

/// Carries `request` out with this node's daemon (its API socket at `api_socket`) and returns
/// the answer for the link: {"ok": true} or {"ok": false, "error": why}.
nlohmann::json serve_relay(const nlohmann::json& request, const std::string& api_socket);

/// The migration view the asking node shows in the job's spool when the other node refused a
/// relayed migration: the user who follows attempt `request.attempt` sees why it failed.
nlohmann::json refused_migration_progress(const RelayRequest& request, const std::string& error,
                                          int64_t now_unix_ms);

/// `clusterlive-migrate relay`: relay_request, and when a migration was refused, its
/// refused_migration_progress in the job's spool under `jobs_root`. Returns the exit code.
int run_relay(const std::string& address, uint16_t port, const RelayRequest& request,
              const std::string& jobs_root);

}  // namespace clusterlive
