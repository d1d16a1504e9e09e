#include "mesh/wireguard_mesh.h"

#include <sstream>

#include "mesh/wireguard_keys.h"

namespace clusterlive {
namespace {

std::string endpoint_text(const LanEndpoint& endpoint) {
  if (endpoint.ipv6) return "[" + endpoint.address_text() + "]:" + std::to_string(endpoint.port);
  return endpoint.address_text() + ":" + std::to_string(endpoint.port);
}

std::vector<std::string> split(const std::string& line, char separator) {
  std::vector<std::string> fields;
  std::string field;
  std::istringstream stream(line);
  while (std::getline(stream, field, separator)) fields.push_back(field);
  return fields;
}

}  // namespace

std::vector<MeshPeerStatus> parse_wg_dump(const std::string& dump) {
  // Peer lines: public-key preshared-key endpoint allowed-ips latest-handshake rx tx keepalive
  std::vector<MeshPeerStatus> peers;
  std::istringstream lines(dump);
  std::string line;
  bool first = true;
  while (std::getline(lines, line)) {
    if (first) {  // private-key public-key listen-port fwmark
      first = false;
      continue;
    }
    std::vector<std::string> fields = split(line, '\t');
    if (fields.size() < 8) continue;
    auto key = wireguard_key_from_base64(fields[0]);
    if (!key) continue;
    MeshPeerStatus status;
    status.public_key = *key;
    status.endpoint = fields[2];
    try {
      status.latest_handshake_unix = std::stoll(fields[4]);
      status.received_bytes = std::stoull(fields[5]);
      status.sent_bytes = std::stoull(fields[6]);
    } catch (const std::exception&) {
      continue;
    }
    peers.push_back(status);
  }
  return peers;
}

std::optional<MeshInterfaceStatus> parse_wg_dump_interface(const std::string& dump) {
  std::string line = dump.substr(0, dump.find('\n'));
  std::vector<std::string> fields = split(line, '\t');
  if (fields.size() < 4) return std::nullopt;
  auto key = wireguard_key_from_base64(fields[1]);
  if (!key) return std::nullopt;
  MeshInterfaceStatus status;
  status.public_key = *key;
  try {
    size_t used = 0;
    unsigned long port = std::stoul(fields[2], &used);
    if (used != fields[2].size() || port > 65535) return std::nullopt;
    status.listen_port = static_cast<uint16_t>(port);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  return status;
}

WireguardMesh::WireguardMesh(CommandRunner& runner, std::string interface,
                             std::string private_key_path, std::string psk_path)
    : runner_(runner),
      interface_(std::move(interface)),
      private_key_path_(std::move(private_key_path)),
      psk_path_(std::move(psk_path)) {}

CommandResult WireguardMesh::run(const std::vector<std::string>& argv) { return runner_.run(argv); }

bool WireguardMesh::adopt(const Ipv6Address& address, const WireguardKey& public_key) {
  CommandResult dump = run({"wg", "show", interface_, "dump"});
  if (!dump.ok()) return false;  // no such interface (or not WireGuard)
  auto own = parse_wg_dump_interface(dump.output);
  if (!own || own->public_key != public_key || own->listen_port != kWireguardPort) return false;
  CommandResult addresses = run({"ip", "-6", "-o", "address", "show", "dev", interface_});
  if (!addresses.ok() ||
      addresses.output.find("inet6 " + format_ipv6(address) + "/48 ") == std::string::npos) {
    return false;  // another cluster's address
  }
  if (!run({"ip", "link", "set", interface_, "up"}).ok()) return false;
  for (const MeshPeerStatus& peer : parse_wg_dump(dump.output)) {
    // What it was set up with is unknown here: the first set_peers that knows the peer's
    // endpoint sets it again; until then it stays as the previous daemon left it.
    MeshPeer kept;
    kept.public_key = peer.public_key;
    applied_[peer.public_key] = kept;
    adopted_.insert(peer.public_key);
  }
  return true;
}

std::string WireguardMesh::up(const Ipv6Address& address, const WireguardKey& public_key) {
  applied_.clear();
  adopted_.clear();
  adopted_interface_ = adopt(address, public_key);
  if (adopted_interface_) {
    up_ = true;
    return {};
  }
  applied_.clear();
  adopted_.clear();
  down();  // a previous run's interface (other cluster, other key) goes first
  const std::vector<std::vector<std::string>> steps = {
      {"ip", "link", "add", interface_, "type", "wireguard"},
      {"wg", "set", interface_, "private-key", private_key_path_, "listen-port",
       std::to_string(kWireguardPort)},
      {"ip", "-6", "address", "add", format_ipv6(address) + "/48", "dev", interface_, "nodad"},
      {"ip", "link", "set", interface_, "up"},
  };
  for (const auto& step : steps) {
    CommandResult result = run(step);
    if (!result.ok()) {
      std::string why = result.error;
      while (!why.empty() && why.back() == '\n') why.pop_back();
      run({"ip", "link", "delete", interface_});
      return command_line(step) + ": " + (why.empty() ? "failed" : why);
    }
  }
  up_ = true;
  return {};
}

std::vector<std::string> WireguardMesh::set_peers(const std::vector<MeshPeer>& peers) {
  std::vector<std::string> errors;
  if (!up_) return errors;
  std::map<WireguardKey, MeshPeer> wanted;
  for (const MeshPeer& peer : peers) wanted[peer.public_key] = peer;

  for (auto it = applied_.begin(); it != applied_.end();) {
    if (wanted.count(it->first) || adopted_.count(it->first)) {
      ++it;
      continue;
    }
    CommandResult result =
        run({"wg", "set", interface_, "peer", wireguard_key_to_base64(it->first), "remove"});
    if (!result.ok()) errors.push_back("removing a peer: " + result.error);
    it = applied_.erase(it);  // forget it either way: a retry would fail the same way
  }
  for (const auto& [key, peer] : wanted) {
    auto found = applied_.find(key);
    if (found != applied_.end()) {
      // Same peer; only a newly learnt endpoint is worth a command (WireGuard roams by itself).
      if (found->second == peer) continue;
      if (!peer.endpoint) {
        // An adopted peer stays as it is, now known to be wanted.
        if (adopted_.erase(key)) found->second = peer;
        continue;
      }
    }
    std::vector<std::string> argv = {"wg",
                                     "set",
                                     interface_,
                                     "peer",
                                     wireguard_key_to_base64(key),
                                     "preshared-key",
                                     psk_path_,
                                     "allowed-ips",
                                     format_ipv6(peer.mesh_address) + "/128",
                                     "persistent-keepalive",
                                     std::to_string(kPersistentKeepaliveSeconds)};
    if (peer.endpoint) {
      argv.push_back("endpoint");
      argv.push_back(endpoint_text(*peer.endpoint));
    }
    CommandResult result = run(argv);
    if (!result.ok()) {
      errors.push_back(command_line(argv) + ": " + result.error);
      continue;
    }
    applied_[key] = peer;
    adopted_.erase(key);
  }
  return errors;
}

std::vector<MeshPeerStatus> WireguardMesh::peer_status() {
  if (!up_) return {};
  CommandResult result = run({"wg", "show", interface_, "dump"});
  if (!result.ok()) return {};
  return parse_wg_dump(result.output);
}

void WireguardMesh::down() {
  run({"ip", "link", "delete", interface_});
  leave_up();
}

void WireguardMesh::leave_up() {
  up_ = false;
  applied_.clear();
  adopted_.clear();
}

}  // namespace clusterlive
