// libFuzzer target: parse_kernel_parameters, which reads /proc/cmdline. A netbooted node's
// command line (clusterlive.key=, clusterlive.peers=) is written by the node that boots it,
// so it is input from another machine. Invariants: the seed list stays within its limits and
// holds only plausible host[:port] entries, and choosing a secret never crashes or accepts a
// key that does not parse.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/boot_config.h"
#include "fuzz/fuzz_common.h"

using namespace clusterlive;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view cmdline(reinterpret_cast<const char*>(data), size);
  KernelParameters parameters = parse_kernel_parameters(cmdline);

  FUZZ_CHECK(parameters.peers.size() <= kMaxSeedPeers);
  for (const std::string& peer : parameters.peers) {
    FUZZ_CHECK(!peer.empty() && peer.size() <= kMaxSeedPeerLength);
    FUZZ_CHECK(peer.find_first_of(" ,\"=;") == std::string::npos);
  }

  SecretChoice choice = choose_secret({{SecretSource::kernel_command_line, parameters.key}});
  FUZZ_CHECK(choice.source.has_value() == parameters.key.has_value());
  if (parameters.key) {
    FUZZ_CHECK(choice.secret.has_value() ==
               ClusterSecret::parse(*parameters.key).secret.has_value());
    FUZZ_CHECK(choice.secret.has_value() == choice.error.empty());
  }
  return 0;
}
