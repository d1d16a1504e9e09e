#include "membership_notices.h"

#include <map>

namespace clusterlive::view {

std::vector<std::string> membership_notices(const std::vector<api::NodeView>& before,
                                            const std::vector<api::NodeView>& after) {
  std::map<std::string, std::string> was;  // name -> state
  for (const api::NodeView& node : before)
    if (!node.self && node.state != "foreign") was[node.name] = node.state;

  std::vector<std::string> notices;
  for (const api::NodeView& node : after) {
    if (node.self || node.state == "foreign") continue;
    auto it = was.find(node.name);
    if (it == was.end()) {
      if (node.state == "up") notices.push_back(node.name + " joined the cluster");
    } else if (node.state == "dead" && it->second != "dead") {
      notices.push_back(node.name + " is dead");
    } else if (node.state == "up" && it->second == "dead") {
      notices.push_back(node.name + " is back");
    }
    if (it != was.end()) was.erase(it);
  }
  for (const auto& [name, state] : was)  // forgotten by membership
    if (state != "dead") notices.push_back(name + " left the cluster");
  return notices;
}

}  // namespace clusterlive::view
