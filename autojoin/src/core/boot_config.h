// What a node learns at boot from its kernel command line and from the places a cluster
// secret may be kept, and which of those wins. Pure: the daemon reads /proc/cmdline and the
// key files and hands their contents in.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/cluster_secret.h"

namespace clusterlive {

/// Most seed peers accepted from `clusterlive.peers=` (the rest is ignored and reported).
constexpr size_t kMaxSeedPeers = 64;
/// Longest seed peer entry, in bytes (a host name or an address with an optional port).
constexpr size_t kMaxSeedPeerLength = 255;

/// The clusterlive.* parameters of a kernel command line.
struct KernelParameters {
  std::optional<std::string> key;  ///< clusterlive.key=<64 hex digits>
  std::vector<std::string> peers;  ///< clusterlive.peers=host[:port],host[:port],...
  std::optional<std::string> role; ///< clusterlive.role=storage (pins the storage node)
  /// Problems worth a journal line (e.g. an over-long peer list); never fatal.
  std::vector<std::string> warnings;
};

/// Parses a kernel command line (the contents of /proc/cmdline). Parameters are separated
/// by spaces; a value may be double-quoted (the kernel's own rule) and then hold spaces.
/// A parameter given twice keeps its last value, as the kernel's own parameters do.
KernelParameters parse_kernel_parameters(std::string_view cmdline);

/// Where a cluster secret can come from, in the order the first one found wins.
enum class SecretSource {
  kernel_command_line,  ///< clusterlive.key=
  boot_medium,          ///< the key file `make iso` writes onto the ISO
  persistence,          ///< the key file on a persistence volume
  joined,               ///< given by the user: `clusterlive join`, or the GUI
};

/// Name of a source for status output and logs, e.g. "kernel command line".
std::string_view to_string(SecretSource source);

/// One place a secret may be: its source and, when something is there, its text.
struct SecretCandidate {
  SecretSource source;
  std::optional<std::string> text;  ///< nullopt: nothing at that place
};

/// The outcome of choosing among the candidates.
struct SecretChoice {
  std::optional<ClusterSecret> secret;  ///< nullopt: the node runs alone
  std::optional<SecretSource> source;   ///< where the secret (or the bad text) was found
  std::string error;                    ///< why there is no secret when one was present
};

/// First found wins: the first candidate, in the order given, that has text decides. If that
/// text is not a valid secret, the result has no secret and says why: falling through to a
/// lower source would silently put the node into another cluster than the one intended.
/// No candidate with text: no secret, no error (the node runs alone and says so).
SecretChoice choose_secret(const std::vector<SecretCandidate>& candidates);

}  // namespace clusterlive
