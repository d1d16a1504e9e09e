// Shared fixtures for the core's unit tests: a fixed secret and a valid record.
#pragma once

#include <string>

#include "core/cluster_secret.h"
#include "core/mesh_address.h"
#include "core/node_record.h"

namespace clusterlive::testing {

/// The secret 00 01 02 ... 1f: known-answer vectors are computed from it.
inline ClusterSecret test_secret() {
  ClusterSecret::Bytes bytes{};
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(i);
  return ClusterSecret(bytes);
}

/// Another cluster's secret: ff fe fd ... e0.
inline ClusterSecret other_secret() {
  ClusterSecret::Bytes bytes{};
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(0xff - i);
  return ClusterSecret(bytes);
}

/// A valid record of node-3a9f01 in `secret`'s cluster; key bytes 0x40..0x5f.
inline NodeRecord test_record(const ClusterSecret& secret = test_secret()) {
  NodeRecord record;
  record.cluster_id = secret.cluster_id();
  record.node_id = "node-3a9f01";
  for (size_t i = 0; i < record.wireguard_public_key.size(); ++i) {
    record.wireguard_public_key[i] = static_cast<uint8_t>(0x40 + i);
  }
  record.mesh_address = *mesh_address(record.cluster_id, record.node_id);
  record.capabilities = {"criu", "nfs-server"};
  record.counter = 1763740800000;
  return record;
}

}  // namespace clusterlive::testing
