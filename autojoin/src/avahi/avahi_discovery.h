// mDNS through avahi-daemon: publishes this node's _clusterlive._tcp service with its signed
// TXT record and browses for the others'. Survives avahi-daemon restarts (the client is
// created with AVAHI_CLIENT_NO_FAIL and re-created after a disconnect) and name collisions
// (avahi_alternative_service_name, then publish again).
#pragma once

#include <avahi-client/client.h>
#include <avahi-client/lookup.h>
#include <avahi-client/publish.h>
#include <avahi-common/watch.h>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace clusterlive {

constexpr const char* kServiceType = "_clusterlive._tcp";
/// Most services resolved at once: a limit on what the LAN can make us hold.
constexpr size_t kMaxResolvedServices = 512;

/// One resolved service of another node (IPv4 address only: every node has one, link-local
/// at worst, and it needs no interface scope to be used as a WireGuard endpoint).
struct DiscoveredService {
  std::string name;  ///< mDNS service name (normally the node id)
  std::string address;
  uint16_t port = 0;
  int interface_index = 0;
  std::vector<std::string> txt;  ///< raw "key=value" entries
};

class AvahiDiscovery {
 public:
  struct Callbacks {
    std::function<void(const DiscoveredService&)> on_found;  ///< new or changed record
    std::function<void(const std::string& name)> on_removed;
    /// Something worth a journal line; `problem`: a warning rather than news.
    std::function<void(const std::string& message, bool problem)> on_event;
  };

  AvahiDiscovery(const AvahiPoll* poll, Callbacks callbacks);
  ~AvahiDiscovery();
  AvahiDiscovery(const AvahiDiscovery&) = delete;
  AvahiDiscovery& operator=(const AvahiDiscovery&) = delete;

  /// Publishes (or re-publishes with new TXT) our service as `name` on `port`, and browses.
  void publish(const std::string& name, uint16_t port, std::vector<std::string> txt);
  /// Withdraws our service and stops browsing (e.g. the node switches cluster).
  void withdraw();

  /// True while avahi-daemon is connected and running.
  bool running() const;

 private:
  static void client_callback(AvahiClient* client, AvahiClientState state, void* self);
  static void group_callback(AvahiEntryGroup* group, AvahiEntryGroupState state, void* self);
  static void browse_callback(AvahiServiceBrowser*, AvahiIfIndex, AvahiProtocol, AvahiBrowserEvent,
                              const char* name, const char* type, const char* domain,
                              AvahiLookupResultFlags, void* self);
  static void resolve_callback(AvahiServiceResolver*, AvahiIfIndex, AvahiProtocol,
                               AvahiResolverEvent, const char* name, const char* type,
                               const char* domain, const char* host, const AvahiAddress*,
                               uint16_t port, AvahiStringList* txt, AvahiLookupResultFlags,
                               void* self);

  void connect();
  void on_client_state(AvahiClient* client, AvahiClientState state);
  void register_service();
  void start_browsing();
  void drop_client_objects();
  void report(const std::string& message, bool problem);

  const AvahiPoll* poll_;
  Callbacks callbacks_;
  AvahiClient* client_ = nullptr;
  AvahiEntryGroup* group_ = nullptr;
  AvahiServiceBrowser* browser_ = nullptr;
  // Resolvers by "interface/name"; kept open so a changed TXT record is reported again.
  std::map<std::string, AvahiServiceResolver*> resolvers_;

  bool publishing_ = false;
  std::string wanted_name_;  ///< the name asked for
  std::string name_;         ///< the name in use (an alternative after a collision)
  uint16_t port_ = 0;
  std::vector<std::string> txt_;
};

}  // namespace clusterlive
