#include "avahi/avahi_discovery.h"

#include <avahi-common/alternative.h>
#include <avahi-common/error.h>
#include <avahi-common/malloc.h>
#include <avahi-common/timeval.h>
#include <net/if.h>

namespace clusterlive {
namespace {

std::string interface_name(AvahiIfIndex index) {
  char name[IF_NAMESIZE] = {};
  if (index < 0 || !if_indextoname(static_cast<unsigned>(index), name)) return {};
  return name;
}

std::vector<std::string> txt_entries(AvahiStringList* list) {
  std::vector<std::string> entries;
  for (AvahiStringList* item = list; item; item = avahi_string_list_get_next(item)) {
    entries.emplace_back(reinterpret_cast<const char*>(avahi_string_list_get_text(item)),
                         avahi_string_list_get_size(item));
  }
  return entries;
}

AvahiStringList* to_string_list(const std::vector<std::string>& entries) {
  AvahiStringList* list = nullptr;
  // avahi_string_list_add prepends: add in reverse to publish in our order.
  for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
    list = avahi_string_list_add_arbitrary(list, reinterpret_cast<const uint8_t*>(it->data()),
                                           it->size());
  }
  return list;
}

}  // namespace

AvahiDiscovery::AvahiDiscovery(const AvahiPoll* poll, Callbacks callbacks)
    : poll_(poll), callbacks_(std::move(callbacks)) {
  connect();
}

AvahiDiscovery::~AvahiDiscovery() {
  drop_client_objects();
  if (client_) avahi_client_free(client_);
}

void AvahiDiscovery::report(const std::string& message, bool problem) {
  if (callbacks_.on_event) callbacks_.on_event(message, problem);
}

void AvahiDiscovery::connect() {
  int error = 0;
  // NO_FAIL: if avahi-daemon is not (yet) running, wait for it in CONNECTING state.
  client_ = avahi_client_new(poll_, AVAHI_CLIENT_NO_FAIL, client_callback, this, &error);
  if (!client_) report(std::string("avahi client: ") + avahi_strerror(error), true);
}

bool AvahiDiscovery::running() const {
  return client_ && avahi_client_get_state(client_) == AVAHI_CLIENT_S_RUNNING;
}

void AvahiDiscovery::publish(const std::string& name, uint16_t port, std::vector<std::string> txt) {
  if (!publishing_ || name != wanted_name_) name_ = name;
  wanted_name_ = name;
  port_ = port;
  txt_ = std::move(txt);
  publishing_ = true;
  if (running()) {
    register_service();
    start_browsing();
  }
}

void AvahiDiscovery::withdraw() {
  publishing_ = false;
  drop_client_objects();
}

void AvahiDiscovery::drop_client_objects() {
  for (auto& [key, resolver] : resolvers_) avahi_service_resolver_free(resolver);
  resolvers_.clear();
  if (browser_) avahi_service_browser_free(browser_);
  browser_ = nullptr;
  if (group_) avahi_entry_group_free(group_);
  group_ = nullptr;
}

void AvahiDiscovery::client_callback(AvahiClient* client, AvahiClientState state, void* self) {
  static_cast<AvahiDiscovery*>(self)->on_client_state(client, state);
}

void AvahiDiscovery::on_client_state(AvahiClient* client, AvahiClientState state) {
  client_ = client;  // may be called from inside avahi_client_new, before it returned
  switch (state) {
    case AVAHI_CLIENT_S_RUNNING:
      report("avahi-daemon running: publishing and browsing " + std::string(kServiceType), false);
      if (publishing_) {
        register_service();
        start_browsing();
      }
      break;
    case AVAHI_CLIENT_S_COLLISION:
    case AVAHI_CLIENT_S_REGISTERING:
      // The host name is being (re)registered, e.g. after a host name collision: our
      // service goes back in once the client is running again.
      if (group_) avahi_entry_group_reset(group_);
      break;
    case AVAHI_CLIENT_CONNECTING:
      // No daemon yet, or (NO_FAIL) it went away: objects of a lost connection are invalid,
      // and everything is made again once the client is running.
      drop_client_objects();
      report("waiting for avahi-daemon (mDNS discovery paused; seeds and hellos go on)", true);
      break;
    case AVAHI_CLIENT_FAILURE: {
      int error = avahi_client_errno(client);
      report(std::string("avahi client failed: ") + avahi_strerror(error) + "; reconnecting", true);
      // Objects of the lost connection are invalid; start over with a new client, which
      // (NO_FAIL) waits for avahi-daemon to come back. Freed from a zero timeout, not from
      // inside the client's own callback.
      drop_client_objects();
      struct timeval now_tv;
      avahi_elapse_time(&now_tv, 0, 0);  // a null timeval would mean "never"
      poll_->timeout_new(
          poll_, &now_tv,
          [](AvahiTimeout* timeout, void* data) {
            auto* discovery = static_cast<AvahiDiscovery*>(data);
            discovery->poll_->timeout_free(timeout);
            if (discovery->client_) avahi_client_free(discovery->client_);
            discovery->client_ = nullptr;
            discovery->connect();
          },
          this);
      break;
    }
  }
}

void AvahiDiscovery::register_service() {
  if (!group_) {
    group_ = avahi_entry_group_new(client_, group_callback, this);
    if (!group_) {
      report(std::string("avahi entry group: ") + avahi_strerror(avahi_client_errno(client_)),
             true);
      return;
    }
  }
  avahi_entry_group_reset(group_);
  for (int attempt = 0; attempt < 16; ++attempt) {
    AvahiStringList* txt = to_string_list(txt_);
    int result = avahi_entry_group_add_service_strlst(
        group_, AVAHI_IF_UNSPEC, AVAHI_PROTO_UNSPEC, static_cast<AvahiPublishFlags>(0),
        name_.c_str(), kServiceType, nullptr, nullptr, port_, txt);
    avahi_string_list_free(txt);
    if (result == AVAHI_ERR_COLLISION) {
      char* alternative = avahi_alternative_service_name(name_.c_str());
      report("mDNS service name " + name_ + " is taken; trying " + alternative, true);
      name_ = alternative;
      avahi_free(alternative);
      continue;
    }
    if (result < 0) {
      report(std::string("publishing our mDNS service: ") + avahi_strerror(result), true);
      return;
    }
    result = avahi_entry_group_commit(group_);
    if (result < 0)
      report(std::string("committing our mDNS service: ") + avahi_strerror(result), true);
    return;
  }
}

void AvahiDiscovery::group_callback(AvahiEntryGroup* group, AvahiEntryGroupState state,
                                    void* self) {
  auto* discovery = static_cast<AvahiDiscovery*>(self);
  switch (state) {
    case AVAHI_ENTRY_GROUP_ESTABLISHED:
      discovery->report("mDNS service published as " + discovery->name_, false);
      break;
    case AVAHI_ENTRY_GROUP_COLLISION: {
      // Another host announced the same service name: rename and publish again.
      char* alternative = avahi_alternative_service_name(discovery->name_.c_str());
      discovery->report(
          "mDNS service name collision on " + discovery->name_ + "; renaming to " + alternative,
          true);
      discovery->name_ = alternative;
      avahi_free(alternative);
      discovery->group_ = group;
      discovery->register_service();
      break;
    }
    case AVAHI_ENTRY_GROUP_FAILURE:
      discovery->report(std::string("mDNS publication failed: ") +
                            avahi_strerror(avahi_client_errno(avahi_entry_group_get_client(group))),
                        true);
      break;
    case AVAHI_ENTRY_GROUP_UNCOMMITED:
    case AVAHI_ENTRY_GROUP_REGISTERING:
      break;
  }
}

void AvahiDiscovery::start_browsing() {
  if (browser_) return;
  browser_ =
      avahi_service_browser_new(client_, AVAHI_IF_UNSPEC, AVAHI_PROTO_INET, kServiceType, nullptr,
                                static_cast<AvahiLookupFlags>(0), browse_callback, this);
  if (!browser_) {
    report(std::string("browsing mDNS: ") + avahi_strerror(avahi_client_errno(client_)), true);
  }
}

void AvahiDiscovery::browse_callback(AvahiServiceBrowser*, AvahiIfIndex interface,
                                     AvahiProtocol protocol, AvahiBrowserEvent event,
                                     const char* name, const char* type, const char* domain,
                                     AvahiLookupResultFlags flags, void* self) {
  auto* discovery = static_cast<AvahiDiscovery*>(self);
  const std::string key = name ? std::to_string(interface) + "/" + name : std::string();
  switch (event) {
    case AVAHI_BROWSER_NEW: {
      // Our own service, and anything on loopback, is not another node.
      if (flags & (AVAHI_LOOKUP_RESULT_OUR_OWN | AVAHI_LOOKUP_RESULT_LOCAL)) return;
      if (interface_name(interface) == "lo") return;
      if (discovery->resolvers_.count(key)) return;
      if (discovery->resolvers_.size() >= kMaxResolvedServices) {
        discovery->report(
            "too many _clusterlive._tcp services on the LAN; ignoring " + std::string(name), true);
        return;
      }
      AvahiServiceResolver* resolver = avahi_service_resolver_new(
          discovery->client_, interface, protocol, name, type, domain, AVAHI_PROTO_INET,
          static_cast<AvahiLookupFlags>(0), resolve_callback, discovery);
      if (resolver) discovery->resolvers_[key] = resolver;
      break;
    }
    case AVAHI_BROWSER_REMOVE: {
      auto found = discovery->resolvers_.find(key);
      if (found == discovery->resolvers_.end()) return;
      avahi_service_resolver_free(found->second);
      discovery->resolvers_.erase(found);
      if (discovery->callbacks_.on_removed) discovery->callbacks_.on_removed(name);
      break;
    }
    case AVAHI_BROWSER_FAILURE:
      discovery->report(std::string("mDNS browsing failed: ") +
                            avahi_strerror(avahi_client_errno(discovery->client_)),
                        true);
      break;
    case AVAHI_BROWSER_CACHE_EXHAUSTED:
    case AVAHI_BROWSER_ALL_FOR_NOW:
      break;
  }
}

void AvahiDiscovery::resolve_callback(AvahiServiceResolver*, AvahiIfIndex interface, AvahiProtocol,
                                      AvahiResolverEvent event, const char* name, const char*,
                                      const char*, const char*, const AvahiAddress* address,
                                      uint16_t port, AvahiStringList* txt, AvahiLookupResultFlags,
                                      void* self) {
  auto* discovery = static_cast<AvahiDiscovery*>(self);
  // A failed resolution (timeout) is retried by avahi while the resolver lives; nothing to do.
  if (event != AVAHI_RESOLVER_FOUND || !address || address->proto != AVAHI_PROTO_INET) return;
  char text[AVAHI_ADDRESS_STR_MAX] = {};
  avahi_address_snprint(text, sizeof text, address);
  DiscoveredService service;
  service.name = name ? name : "";
  service.address = text;
  service.port = port;
  service.interface_index = interface;
  service.txt = txt_entries(txt);
  if (discovery->callbacks_.on_found) discovery->callbacks_.on_found(service);
}

}  // namespace clusterlive
