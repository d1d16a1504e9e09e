#include "core/boot_config.h"

#include <string>

namespace clusterlive {
namespace {

// Splits a kernel command line into parameters the way the kernel does: spaces separate,
// double quotes group (and are dropped), and "--" ends the kernel's part (the rest is init's).
std::vector<std::string> split_parameters(std::string_view cmdline) {
  std::vector<std::string> parameters;
  std::string current;
  bool in_quotes = false;
  bool have_token = false;
  auto flush = [&] {
    if (have_token) parameters.push_back(current);
    current.clear();
    have_token = false;
  };
  for (char c : cmdline) {
    if (c == '"') {
      in_quotes = !in_quotes;
      have_token = true;
    } else if ((c == ' ' || c == '\t' || c == '\n') && !in_quotes) {
      flush();
    } else {
      current += c;
      have_token = true;
    }
  }
  flush();
  std::vector<std::string> before_init;
  for (auto& parameter : parameters) {
    if (parameter == "--") break;
    before_init.push_back(std::move(parameter));
  }
  return before_init;
}

// A seed is a host name, an IPv4 or IPv6 address, optionally with a port: nothing else may
// reach the daemon's resolver from the command line.
bool is_plausible_peer(std::string_view peer) {
  if (peer.empty() || peer.size() > kMaxSeedPeerLength) return false;
  for (char c : peer) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-' || c == ':' || c == '[' || c == ']' || c == '%' || c == '_';
    if (!ok) return false;
  }
  return true;
}

std::vector<std::string> parse_peers(std::string_view list, std::vector<std::string>& warnings) {
  std::vector<std::string> peers;
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    if (comma == std::string_view::npos) comma = list.size();
    std::string_view peer = list.substr(start, comma - start);
    start = comma + 1;
    if (peer.empty()) continue;
    if (!is_plausible_peer(peer)) {
      warnings.push_back("clusterlive.peers: ignoring malformed entry '" +
                         std::string(peer.substr(0, 64)) + "'");
      continue;
    }
    if (peers.size() == kMaxSeedPeers) {
      warnings.push_back("clusterlive.peers: more than " + std::to_string(kMaxSeedPeers) +
                         " peers; ignoring the rest");
      break;
    }
    peers.emplace_back(peer);
  }
  return peers;
}

}  // namespace

KernelParameters parse_kernel_parameters(std::string_view cmdline) {
  KernelParameters result;
  for (const std::string& parameter : split_parameters(cmdline)) {
    size_t equals = parameter.find('=');
    std::string_view name = std::string_view(parameter).substr(0, equals);
    std::string_view value =
        equals == std::string::npos ? std::string_view() : std::string_view(parameter).substr(equals + 1);
    if (name == "clusterlive.key") {
      result.key = std::string(value);
    } else if (name == "clusterlive.peers") {
      result.peers = parse_peers(value, result.warnings);
    } else if (name == "clusterlive.role") {
      result.role = std::string(value);
    }
  }
  return result;
}

std::string_view to_string(SecretSource source) {
  switch (source) {
    case SecretSource::kernel_command_line:
      return "kernel command line";
    case SecretSource::boot_medium:
      return "boot medium";
    case SecretSource::persistence:
      return "persistence volume";
    case SecretSource::joined:
      return "joined";
  }
  return "unknown";
}

SecretChoice choose_secret(const std::vector<SecretCandidate>& candidates) {
  for (const SecretCandidate& candidate : candidates) {
    if (!candidate.text) continue;
    SecretChoice choice;
    choice.source = candidate.source;
    SecretParseResult parsed = ClusterSecret::parse(*candidate.text);
    if (parsed.secret) {
      choice.secret = parsed.secret;
    } else {
      // Never echo the text: it may be a real secret with a typo.
      choice.error = "the cluster secret from the " + std::string(to_string(candidate.source)) +
                     " is not valid (" + parsed.error + "); not joining any cluster";
    }
    return choice;
  }
  return {};
}

}  // namespace clusterlive
