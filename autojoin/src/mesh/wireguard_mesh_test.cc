#include "mesh/wireguard_mesh.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "core/hex.h"
#include "mesh/udp_socket.h"
#include "mesh/wireguard_keys.h"

namespace clusterlive {
namespace {

// Records every command; fails the ones whose line contains `fail_containing`.
class FakeRunner final : public CommandRunner {
 public:
  CommandResult run(const std::vector<std::string>& argv) override {
    std::string line = command_line(argv);
    commands.push_back(line);
    if (!fail_containing.empty() && line.find(fail_containing) != std::string::npos) {
      return {2, "", "RTNETLINK answers: Operation not supported\n"};
    }
    for (const auto& [prefix, answer] : answers) {
      if (line.starts_with(prefix)) return answer;
    }
    return {0, output, ""};
  }
  std::vector<std::string> commands;
  std::string fail_containing;
  std::string output;
  std::map<std::string, CommandResult> answers;  ///< by the start of the command line
};

WireguardKey key_with(uint8_t byte) {
  WireguardKey key{};
  key.fill(byte);
  return key;
}

MeshPeer peer(uint8_t byte, std::optional<std::string> endpoint = std::nullopt) {
  MeshPeer p;
  p.public_key = key_with(byte);
  p.mesh_address = *parse_ipv6("fd00:1:2::" + std::to_string(byte));
  if (endpoint) p.endpoint = parse_lan_address(*endpoint, kWireguardPort);
  return p;
}

TEST(WireguardKeys, PublicKeyMatchesRfc7748Vector) {
  std::vector<uint8_t> private_bytes =
      *from_hex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
  WireguardKey private_key{};
  std::copy(private_bytes.begin(), private_bytes.end(), private_key.begin());
  EXPECT_EQ(to_hex(wireguard_public_key(private_key)),
            "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
}

TEST(WireguardKeys, Base64RoundTripAndStrictParsing) {
  WireguardKeyPair pair = generate_wireguard_keypair();
  std::string text = wireguard_key_to_base64(pair.public_key);
  EXPECT_EQ(text.size(), 44u);
  EXPECT_EQ(wireguard_key_from_base64(text), pair.public_key);
  EXPECT_FALSE(wireguard_key_from_base64(text.substr(1)));
  EXPECT_FALSE(wireguard_key_from_base64(text + "="));
  EXPECT_FALSE(wireguard_key_from_base64("not a key"));
  EXPECT_EQ(pair.private_key[0] & 7, 0) << "clamped";
}

const WireguardKey kOwnKey = key_with(9);

TEST(WireguardMesh, UpCreatesTheInterfaceWithKeyPortAndAddress) {
  FakeRunner runner;
  runner.answers["wg show clmesh0 dump"] = {1, "", "Unable to access interface: No such device\n"};
  WireguardMesh mesh(runner, "clmesh0", "/run/k", "/run/psk");
  EXPECT_EQ(mesh.up(*parse_ipv6("fd12:3456:789a::1"), kOwnKey), "");
  EXPECT_TRUE(mesh.is_up());
  EXPECT_FALSE(mesh.adopted());
  std::vector<std::string> expected = {
      "wg show clmesh0 dump",
      "ip link delete clmesh0",
      "ip link add clmesh0 type wireguard",
      "wg set clmesh0 private-key /run/k listen-port 51871",
      "ip -6 address add fd12:3456:789a::1/48 dev clmesh0 nodad",
      "ip link set clmesh0 up",
  };
  EXPECT_EQ(runner.commands, expected);
}

TEST(WireguardMesh, AFailedStepRemovesTheInterfaceAndSaysWhy) {
  FakeRunner runner;
  runner.fail_containing = "type wireguard";
  WireguardMesh mesh(runner, "clmesh0", "/run/k", "/run/psk");
  std::string error = mesh.up(*parse_ipv6("fd12:3456:789a::1"), kOwnKey);
  EXPECT_EQ(error,
            "ip link add clmesh0 type wireguard: RTNETLINK answers: Operation not supported");
  EXPECT_FALSE(mesh.is_up());
  EXPECT_EQ(runner.commands.back(), "ip link delete clmesh0");
}

TEST(WireguardMesh, PeersFollowTheMembersChangingOnlyWhatDiffers) {
  FakeRunner runner;
  WireguardMesh mesh(runner, "clmesh0", "/run/k", "/run/psk");
  ASSERT_EQ(mesh.up(*parse_ipv6("fd12:3456:789a::1"), kOwnKey), "");
  runner.commands.clear();

  EXPECT_TRUE(mesh.set_peers({peer(1, "10.77.0.11"), peer(2)}).empty());
  ASSERT_EQ(runner.commands.size(), 2u);
  EXPECT_EQ(runner.commands[0],
            "wg set clmesh0 peer " + wireguard_key_to_base64(key_with(1)) +
                " preshared-key /run/psk allowed-ips fd00:1:2::1/128 persistent-keepalive 15"
                " endpoint 10.77.0.11:51871");
  EXPECT_EQ(mesh.peer_count(), 2u);

  runner.commands.clear();
  mesh.set_peers({peer(1, "10.77.0.11"), peer(2)});
  EXPECT_TRUE(runner.commands.empty()) << "nothing changed, nothing run";

  // Peer 2's endpoint becomes known; peer 1 dies and is removed.
  mesh.set_peers({peer(2, "10.77.0.12")});
  ASSERT_EQ(runner.commands.size(), 2u);
  EXPECT_EQ(runner.commands[0],
            "wg set clmesh0 peer " + wireguard_key_to_base64(key_with(1)) + " remove");
  EXPECT_NE(runner.commands[1].find("endpoint 10.77.0.12:51871"), std::string::npos);
  EXPECT_EQ(mesh.peer_count(), 1u);
}

TEST(WireguardMesh, APeerThatCannotBeAddedIsReportedAndRetried) {
  FakeRunner runner;
  WireguardMesh mesh(runner, "clmesh0", "/run/k", "/run/psk");
  ASSERT_EQ(mesh.up(*parse_ipv6("fd12:3456:789a::1"), kOwnKey), "");
  runner.fail_containing = "allowed-ips";
  EXPECT_EQ(mesh.set_peers({peer(1)}).size(), 1u);
  EXPECT_EQ(mesh.peer_count(), 0u);
  runner.fail_containing.clear();
  EXPECT_TRUE(mesh.set_peers({peer(1)}).empty());
  EXPECT_EQ(mesh.peer_count(), 1u);
}

// `wg show clmesh0 dump` of an interface with `own` as its key, listening on `port`, with a
// peer of key 7 and one of key 8.
std::string dump_of(const WireguardKey& own, uint16_t port = kWireguardPort) {
  std::string peers;
  for (uint8_t byte : {uint8_t{7}, uint8_t{8}}) {
    peers += wireguard_key_to_base64(key_with(byte)) + "\tPSK\t10.77.0." + std::to_string(byte) +
             ":51871\tfd00:1:2::" + std::to_string(byte) + "/128\t1763740000\t1\t2\t15\n";
  }
  return "PRIVATE\t" + wireguard_key_to_base64(own) + "\t" + std::to_string(port) + "\toff\n" +
         peers;
}

TEST(WireguardMesh, AdoptsItsOwnInterfaceKeepingEveryTunnel) {
  FakeRunner runner;
  runner.answers["wg show clmesh0 dump"] = {0, dump_of(kOwnKey), ""};
  runner.answers["ip -6 -o address show dev clmesh0"] = {
      0, "5: clmesh0    inet6 fd12:3456:789a::1/48 scope global \\       valid_lft forever\n", ""};
  WireguardMesh mesh(runner, "clmesh0", "/run/k", "/run/psk");
  EXPECT_EQ(mesh.up(*parse_ipv6("fd12:3456:789a::1"), kOwnKey), "");
  EXPECT_TRUE(mesh.is_up());
  EXPECT_TRUE(mesh.adopted());
  EXPECT_EQ(mesh.peer_count(), 2u);
  for (const std::string& command : runner.commands) {
    EXPECT_EQ(command.find("delete"), std::string::npos) << command;
    EXPECT_EQ(command.find("link add"), std::string::npos) << command;
  }

  // The restarted daemon knows only peer 7 so far, without its endpoint: nothing is run.
  runner.commands.clear();
  EXPECT_TRUE(mesh.set_peers({peer(7)}).empty());
  EXPECT_TRUE(runner.commands.empty()) << runner.commands.front();
  EXPECT_EQ(mesh.peer_count(), 2u) << "peer 8 is kept until the adopted peers are released";

  // Peer 7's endpoint is learnt: set again. Once released, unwanted peer 8 goes.
  mesh.set_peers({peer(7, "10.77.0.7")});
  ASSERT_EQ(runner.commands.size(), 1u);
  EXPECT_NE(runner.commands[0].find("endpoint 10.77.0.7:51871"), std::string::npos);
  runner.commands.clear();
  mesh.release_adopted_peers();
  mesh.set_peers({peer(7, "10.77.0.7")});
  ASSERT_EQ(runner.commands.size(), 1u);
  EXPECT_EQ(runner.commands[0],
            "wg set clmesh0 peer " + wireguard_key_to_base64(key_with(8)) + " remove");
  EXPECT_EQ(mesh.peer_count(), 1u);
}

TEST(WireguardMesh, RecreatesAnInterfaceThatIsNotOurs) {
  struct Case {
    const char* why;
    std::string dump;
    std::string addresses;
  };
  std::string ours = "5: clmesh0    inet6 fd12:3456:789a::1/48 scope global\n";
  std::vector<Case> cases = {
      {"another key", dump_of(key_with(3)), ours},
      {"another port", dump_of(kOwnKey, 4000), ours},
      {"another cluster's address", dump_of(kOwnKey),
       "5: clmesh0    inet6 fd99:3456:789a::1/48 scope global\n"},
      {"an unreadable dump", "garbage\n", ours},
  };
  for (const Case& c : cases) {
    FakeRunner runner;
    runner.answers["wg show clmesh0 dump"] = {0, c.dump, ""};
    runner.answers["ip -6 -o address show dev clmesh0"] = {0, c.addresses, ""};
    WireguardMesh mesh(runner, "clmesh0", "/run/k", "/run/psk");
    EXPECT_EQ(mesh.up(*parse_ipv6("fd12:3456:789a::1"), kOwnKey), "") << c.why;
    EXPECT_FALSE(mesh.adopted()) << c.why;
    EXPECT_EQ(mesh.peer_count(), 0u) << c.why;
    EXPECT_NE(std::find(runner.commands.begin(), runner.commands.end(), "ip link delete clmesh0"),
              runner.commands.end())
        << c.why;
  }
}

TEST(WireguardMesh, LeavingItUpRunsNothing) {
  FakeRunner runner;
  WireguardMesh mesh(runner, "clmesh0", "/run/k", "/run/psk");
  ASSERT_EQ(mesh.up(*parse_ipv6("fd12:3456:789a::1"), kOwnKey), "");
  runner.commands.clear();
  mesh.leave_up();
  EXPECT_TRUE(runner.commands.empty());
  EXPECT_FALSE(mesh.is_up());
}

TEST(WireguardMesh, ParsesWgDump) {
  std::string key = wireguard_key_to_base64(key_with(7));
  std::string dump = "PRIVATE\tPUBLIC\t51871\toff\n" + key +
                     "\tPSK\t10.77.0.12:51871\tfd00::7/128\t1763740000\t1200\t3400\t15\n"
                     "garbage line\n";
  std::vector<MeshPeerStatus> peers = parse_wg_dump(dump);
  ASSERT_EQ(peers.size(), 1u);
  EXPECT_EQ(peers[0].public_key, key_with(7));
  EXPECT_EQ(peers[0].endpoint, "10.77.0.12:51871");
  EXPECT_EQ(peers[0].latest_handshake_unix, 1763740000);
  EXPECT_EQ(peers[0].received_bytes, 1200u);
  EXPECT_EQ(peers[0].sent_bytes, 3400u);
  EXPECT_EQ(parse_wg_dump_interface(dump), std::nullopt) << "PUBLIC is not a key";
  EXPECT_EQ(parse_wg_dump_interface(dump_of(key_with(4))),
            (MeshInterfaceStatus{key_with(4), kWireguardPort}));
  EXPECT_EQ(parse_wg_dump_interface(""), std::nullopt);
  EXPECT_EQ(parse_wg_dump_interface("PRIVATE\t" + wireguard_key_to_base64(key_with(4)) +
                                    "\t70000\toff\n"),
            std::nullopt);
}

TEST(UdpSocket, CarriesIpv4AndIpv6DatagramsOnLoopback) {
  UdpSocket receiver(std::nullopt, 0);
  ASSERT_TRUE(receiver.ok()) << receiver.error();
  sockaddr_in6 bound{};
  socklen_t length = sizeof bound;
  ASSERT_EQ(getsockname(receiver.fd(), reinterpret_cast<sockaddr*>(&bound), &length), 0);
  const uint16_t port = ntohs(bound.sin6_port);
  UdpSocket sender(std::nullopt, 0);
  ASSERT_TRUE(sender.ok());

  std::vector<uint8_t> payload = {1, 2, 3};
  ASSERT_TRUE(sender.send_to(*parse_lan_address("127.0.0.1", port), payload));
  ASSERT_TRUE(sender.send_to(*parse_lan_address("::1", port), payload));
  std::optional<ReceivedDatagram> first, second;
  for (int i = 0; i < 100 && !(first && second); ++i) {
    if (!first) {
      first = receiver.receive();
    } else {
      second = receiver.receive();
    }
    usleep(1000);
  }
  ASSERT_TRUE(first && second);
  EXPECT_EQ(first->bytes, payload);
  EXPECT_FALSE(first->from.ipv6) << "IPv4-mapped sources come out as IPv4";
  EXPECT_EQ(first->from.address_text(), "127.0.0.1");
  EXPECT_TRUE(second->from.ipv6);
  EXPECT_FALSE(receiver.receive()) << "nothing more waiting";
}

}  // namespace
}  // namespace clusterlive
