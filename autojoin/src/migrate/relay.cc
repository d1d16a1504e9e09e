#include "migrate/relay.h"

#include <iostream>

#include "api/api_client.h"
#include "api/api_types.h"
#include "core/job_spool.h"
#include "migrate/peer_link.h"
#include "migrate/progress_file.h"
#include "sys/wall_clock.h"

namespace clusterlive {
namespace {

constexpr TimeMs kRelayTimeoutMs = 30'000;

}  // namespace

nlohmann::json relay_to_json(const RelayRequest& request) {
  nlohmann::json json = {{"command", request.command}, {"job", request.job}};
  if (request.command == "migrate") {
    json["target"] = request.target;
    json["attempt"] = request.attempt;
  }
  return json;
}

std::optional<RelayRequest> relay_from_json(const nlohmann::json& json) {
  if (!json.is_object()) return std::nullopt;
  RelayRequest request;
  request.command = json.value("command", "");
  request.job = json.value("job", "");
  if (!is_job_id(request.job)) return std::nullopt;
  if (request.command == "kill") return request;
  if (request.command != "migrate") return std::nullopt;
  const auto target = json.find("target");
  const auto attempt = json.find("attempt");
  if (target == json.end() || !target->is_string() || attempt == json.end() ||
      !attempt->is_number_unsigned()) {
    return std::nullopt;
  }
  request.target = target->get<std::string>();
  request.attempt = attempt->get<uint64_t>();
  if (request.target.empty()) return std::nullopt;
  return request;
}

std::string relay_request(const std::string& address, uint16_t port, const RelayRequest& request) {
  std::string error;
  std::optional<PeerLink> link =
      PeerLink::connect_privileged(address, port, monotonic_ms() + kRelayTimeoutMs, error);
  if (!link) return error;
  if (!link->send({{"relay", relay_to_json(request)}}, error)) return error;
  auto answer = link->receive(monotonic_ms() + kRelayTimeoutMs, error);
  if (!answer) return error;
  if (answer->value("ok", false)) return "";
  return answer->value("error", "refused");
}

nlohmann::json serve_relay(const nlohmann::json& json, const std::string& api_socket) {
  std::optional<RelayRequest> request = relay_from_json(json);
  if (!request) return {{"ok", false}, {"error", "unknown relay request"}};
  api::Client daemon(api_socket);
  api::Reply<api::JobView> reply =
      request->command == "kill"
          ? daemon.kill_job(request->job)
          : daemon.migrate_job({request->job, request->target, request->attempt});
  if (reply.value) {
    std::cerr << "clusterlive-migrate: " << request->command << " " << request->job
              << " at the request of another node\n";
    return {{"ok", true}};
  }
  return {{"ok", false},
          {"error", reply.call.status == api::CallStatus::answered
                        ? reply.call.response.error.message
                        : reply.call.message}};
}

nlohmann::json refused_migration_progress(const RelayRequest& request, const std::string& error,
                                          int64_t now_unix_ms) {
  return {{"target", request.target},    {"attempt", request.attempt},
          {"phase", "aborted"},          {"round", 0},
          {"bytes_sent", 0},             {"rate_bytes_per_s", 0},
          {"outcome", api::kMigrationAborted}, {"reason", error},
          {"updated_unix_ms", now_unix_ms}};
}

int run_relay(const std::string& address, uint16_t port, const RelayRequest& request,
              const std::string& jobs_root) {
  std::string error = relay_request(address, port, request);
  if (error.empty()) return 0;
  std::cerr << "clusterlive-migrate: " << request.command << " " << request.job << " on "
            << address << ": " << error << "\n";
  if (request.command == "migrate") {
    int64_t now = unix_time_ms();
    std::string write_error;
    publish_progress("", jobs_root + "/" + request.job,
                     refused_migration_progress(request, error, now), write_error);
    if (!write_error.empty()) std::cerr << "clusterlive-migrate: " << write_error << "\n";
  }
  return 1;
}

}  // namespace clusterlive
