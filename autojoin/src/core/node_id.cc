#include "core/node_id.h"

namespace clusterlive {

bool is_valid_node_id(std::string_view id) {
  if (id.empty() || id.size() > kMaxNodeIdLength) return false;
  if (id.front() == '-' || id.back() == '-') return false;
  for (char c : id) {
    bool allowed = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    if (!allowed) return false;
  }
  return true;
}

}  // namespace clusterlive
