#include "migrate/target_claim.h"

#include <nlohmann/json.hpp>

namespace clusterlive {

std::string target_claim_path(const std::string& lock_dir, const std::string& job) {
  return lock_dir + "/" + job + ".claim";
}

std::string format_target_claim(const TargetClaim& claim) {
  nlohmann::json json = {{"attempt", claim.attempt},
                         {"source", claim.source},
                         {"worker_pid", claim.worker_pid},
                         {"restored_pid", claim.restored_pid},
                         {"restored_start", claim.restored_start}};
  return json.dump() + "\n";
}

std::optional<TargetClaim> parse_target_claim(std::string_view text) {
  nlohmann::json json = nlohmann::json::parse(text, nullptr, false);
  if (!json.is_object()) return std::nullopt;
  try {
    TargetClaim claim;
    claim.attempt = json.at("attempt").get<uint64_t>();
    claim.source = json.at("source").get<std::string>();
    claim.worker_pid = json.at("worker_pid").get<pid_t>();
    claim.restored_pid = json.value("restored_pid", pid_t{0});
    claim.restored_start = json.value("restored_start", uint64_t{0});
    if (claim.attempt == 0 || claim.worker_pid <= 0 || claim.restored_pid < 0) {
      return std::nullopt;
    }
    return claim;
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

}  // namespace clusterlive
