// Every policy constant of the membership protocol and its messages, in one
// place, with units in the names. Change them here and nowhere else.
#pragma once

#include <cstddef>
#include <cstdint>

namespace clusterlive {

// --- Control messages -------------------------------------------------------

/// Version byte at the start of every control message.
constexpr uint8_t kWireProtocolVersion = 3;  // 2: load vectors carry storage flags; 3: and epoch
/// Largest control message, in bytes: fits one UDP datagram inside
/// WireGuard on a 1280-byte (IPv6 minimum) path MTU.
constexpr size_t kMaxMessageBytes = 1200;
/// Most membership updates one message may carry.
constexpr size_t kMaxUpdatesPerMessage = 32;
/// Most load vectors one message may carry (the gossip window).
constexpr size_t kMaxLoadsPerMessage = 16;

// --- SWIM failure detection ------------------------------------------------

/// One protocol period: each node probes one member per period. Short
/// enough that a crash in a small cluster is declared dead by everyone
/// within 5 s (probe ~1 s, suspicion 2 s, gossip); still a few hundred
/// bytes per second per node.
constexpr int64_t kProbeIntervalMs = 500;
/// Wait this long for a direct ack before asking others to probe (a LAN
/// round trip through WireGuard is well under 10 ms, even emulated).
constexpr int64_t kProbeTimeoutMs = 200;
/// Members asked to probe indirectly ("k" in the SWIM paper).
constexpr size_t kIndirectProbeCount = 3;
/// Suspicion lasts kSuspicionMultiplier * max(1, log10(n)) periods before a
/// suspect is declared dead (memberlist's rule): long enough for the
/// suspect to hear the rumour and refute it, growing slowly with n.
constexpr double kSuspicionMultiplier = 4.0;
/// A dead member is remembered this long (so stale "up" gossip about it
/// is recognised as old) and then forgotten.
constexpr int64_t kDeadRetentionMs = 60'000;
/// A relay (indirect probe done for another node) is forgotten after this.
constexpr int64_t kRelayTimeoutMs = kProbeIntervalMs;

// --- Dissemination ---------------------------------------------------------

/// Each update is piggy-backed kRetransmitMultiplier * ceil(log10(n + 1))
/// times ("lambda log n" in SWIM), then dropped.
constexpr int kRetransmitMultiplier = 4;
/// A newcomer asks a member for its table (sync_request) at most this often
/// until the first answer arrives.
constexpr int64_t kSyncRequestIntervalMs = kProbeIntervalMs;
/// Most sync datagrams sent for one request (about 20 members each): a
/// newcomer learns up to ~5000 members at once, the rest by anti-entropy.
constexpr size_t kMaxSyncDatagramsPerRequest = 256;
/// Most sync requests answered per protocol period, so a flood of
/// requests cannot turn a node into a traffic amplifier.
constexpr size_t kMaxSyncRepliesPerPeriod = 2;
/// Most updates waiting to be piggy-backed; the most-sent go first.
constexpr size_t kMaxQueuedUpdates = 1024;
/// Anti-entropy: besides fresh rumours, each message carries this many
/// "up" facts about random members (ourselves included). A node that
/// reached only one member thus learns the whole cluster within a few
/// periods, and a rumour missed by bad luck is healed.
constexpr size_t kAntiEntropyUpdatesPerMessage = 4;

// --- Load gossip -----------------------------------------------------------

/// Load vectors piggy-backed on each message: our own plus the freshest
/// others. Small and constant, so traffic per node does not grow with n.
constexpr size_t kLoadWindowEntries = 6;
/// A load vector not refreshed for this long is dropped from the window.
constexpr int64_t kLoadMaxAgeMs = 30'000;

// --- Resource limits against peers ----------------------------------------

/// Most members (any state) a node keeps. Updates about more are ignored.
constexpr size_t kMaxMembers = 8192;
/// Most foreign-cluster nodes remembered for display.
constexpr size_t kMaxForeignNodes = 64;
/// A foreign node not seen again for this long is forgotten.
constexpr int64_t kForeignRetentionMs = 300'000;
/// Most indirect probes we run for others at once.
constexpr size_t kMaxPendingRelays = 64;
/// Replay window: sequence numbers this far behind the highest seen from
/// a sender are still accepted once (reordered datagrams). Must cover a
/// whole member table sent as a burst (kMaxSyncDatagramsPerRequest), whose
/// datagrams may arrive in any order. 128 bytes per sender.
constexpr size_t kReplayWindowSize = 1024;

}  // namespace clusterlive
