#include "core/node_record.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "core/hex.h"
#include "core/test_support.h"

namespace clusterlive {
namespace {

using testing::other_secret;
using testing::test_record;
using testing::test_secret;

class NodeRecordTest : public ::testing::Test {
 protected:
  RecordDecodeResult decode(const std::vector<std::string>& entries) {
    return decode_txt_record(entries, secret_.cluster_id(), secret_.record_mac_key());
  }
  std::vector<std::string> encoded() {
    return encode_txt_record(test_record(), secret_.record_mac_key());
  }
  // Replaces the entry starting with `key=`.
  std::vector<std::string> with_entry(const std::string& key, const std::string& value) {
    std::vector<std::string> entries = encoded();
    for (std::string& entry : entries) {
      if (entry.rfind(key + "=", 0) == 0) entry = key + "=" + value;
    }
    return entries;
  }

  ClusterSecret secret_ = test_secret();
};

// Known answer: the whole TXT record of test_record() under test_secret().
// A change here changes what every node publishes: bump the version.
TEST_F(NodeRecordTest, EncodingKnownAnswer) {
  const std::vector<std::string> expected = {
      "v=1",
      "cid=3e8396470a6f6b66",
      "nid=node-3a9f01",
      "wg=QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXWFlaW1xdXl8=",
      "addr=fd3e:8396:470a:0:6f8a:7778:5c79:f16d",
      "caps=criu,nfs-server",
      "ctr=1763740800000",
      "mac=3e57266bb8521bc06644bab69dfc0b0472e43963cc6dd6e58f4c64b7fd8fb376",
  };
  EXPECT_EQ(encoded(), expected);
}

// The MAC above was cross-checked with Python's hmac (SHA-256) over these bytes
// with the record key of cluster_secret_test.cc.
TEST_F(NodeRecordTest, MacInputKnownAnswer) {
  EXPECT_EQ(to_hex(record_mac_input(test_record())),
            "0015"
            "636c75737465726c6976652f7265636f72642f7631"  // "clusterlive/record/v1"
            "00000001"                                    // version
            "0010"
            "33653833393634373061366636623636"  // cluster id
            "000b"
            "6e6f64652d336139663031"                                            // node id
            "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"  // wg key
            "fd3e8396470a00006f8a77785c79f16d"                                  // mesh address
            "0002"
            "0004"
            "63726975"
            "000a"
            "6e66732d736572766572"  // capabilities
            "0000019aa724d400");
}

TEST_F(NodeRecordTest, RoundTrip) {
  RecordDecodeResult result = decode(encoded());
  ASSERT_EQ(result.status, RecordStatus::ok);
  EXPECT_EQ(result.record, test_record());
}

TEST_F(NodeRecordTest, EntryOrderDoesNotMatter) {
  std::vector<std::string> entries = encoded();
  std::reverse(entries.begin(), entries.end());
  EXPECT_EQ(decode(entries).status, RecordStatus::ok);
}

TEST_F(NodeRecordTest, EveryEntryFitsDnsSdLimit) {
  NodeRecord record = test_record();
  record.capabilities.clear();
  for (size_t i = 0; i < kMaxCapabilities; ++i) {
    record.capabilities.push_back("capability-with-long-name-" + std::to_string(i));
  }
  // 16 long names overflow the 255-byte entry: refuse rather than truncate.
  EXPECT_TRUE(encode_txt_record(record, secret_.record_mac_key()).empty());
  for (const std::string& entry : encoded()) EXPECT_LE(entry.size(), kMaxTxtEntryBytes);
}

TEST_F(NodeRecordTest, EncodeRefusesInvalidRecords) {
  NodeRecord bad_id = test_record();
  bad_id.node_id = "Node_1";
  EXPECT_TRUE(encode_txt_record(bad_id, secret_.record_mac_key()).empty());
  NodeRecord bad_address = test_record();
  bad_address.mesh_address[15] ^= 1;
  EXPECT_TRUE(encode_txt_record(bad_address, secret_.record_mac_key()).empty());
  NodeRecord repeated_capability = test_record();
  repeated_capability.capabilities = {"criu", "criu"};
  EXPECT_TRUE(encode_txt_record(repeated_capability, secret_.record_mac_key()).empty());
}

TEST_F(NodeRecordTest, RejectsOversized) {
  std::vector<std::string> entries = encoded();
  entries.push_back("x=" + std::string(kMaxTxtEntryBytes, 'a'));
  EXPECT_EQ(decode(entries).status, RecordStatus::oversized);
  std::vector<std::string> many = encoded();
  many.resize(kMaxTxtEntries + 1, "pad=1");
  EXPECT_EQ(decode(many).status, RecordStatus::oversized);
}

TEST_F(NodeRecordTest, RejectsMalformed) {
  EXPECT_EQ(decode({}).status, RecordStatus::malformed);
  std::vector<std::string> missing = encoded();
  missing.pop_back();  // no mac
  EXPECT_EQ(decode(missing).status, RecordStatus::malformed);
  std::vector<std::string> repeated = encoded();
  repeated.push_back(repeated[2]);
  EXPECT_EQ(decode(repeated).status, RecordStatus::malformed);
  std::vector<std::string> no_equals = encoded();
  no_equals.push_back("flag");
  EXPECT_EQ(decode(no_equals).status, RecordStatus::malformed);
  std::vector<std::string> unknown_key = encoded();
  unknown_key.push_back("extra=1");
  EXPECT_EQ(decode(unknown_key).status, RecordStatus::malformed);

  EXPECT_EQ(decode(with_entry("cid", "0123")).status, RecordStatus::malformed);
  EXPECT_EQ(decode(with_entry("nid", "-bad")).status, RecordStatus::malformed);
  EXPECT_EQ(decode(with_entry("wg", "notbase64")).status, RecordStatus::malformed);
  EXPECT_EQ(decode(with_entry("addr", "10.0.0.1")).status, RecordStatus::malformed);
  EXPECT_EQ(decode(with_entry("addr", "FD00::1")).status, RecordStatus::malformed)
      << "one spelling per address";
  EXPECT_EQ(decode(with_entry("caps", "criu,,nfs")).status, RecordStatus::malformed);
  EXPECT_EQ(decode(with_entry("ctr", "-1")).status, RecordStatus::malformed);
  EXPECT_EQ(decode(with_entry("ctr", "007")).status, RecordStatus::malformed);
  EXPECT_EQ(decode(with_entry("ctr", "18446744073709551616")).status, RecordStatus::malformed);
  EXPECT_EQ(decode(with_entry("mac", "00")).status, RecordStatus::malformed);
  std::string nul_entry = "nid=node";
  nul_entry.push_back('\0');
  std::vector<std::string> with_nul = encoded();
  with_nul[2] = nul_entry;
  EXPECT_EQ(decode(with_nul).status, RecordStatus::malformed);
}

TEST_F(NodeRecordTest, RejectsUnsupportedVersion) {
  EXPECT_EQ(decode(with_entry("v", "2")).status, RecordStatus::unsupported_version);
  // A newer version may carry keys we do not know: still only "unsupported".
  std::vector<std::string> v2 = with_entry("v", "2");
  v2.push_back("newkey=x");
  EXPECT_EQ(decode(v2).status, RecordStatus::unsupported_version);
}

TEST_F(NodeRecordTest, ForeignClusterIsReportedNotTrusted) {
  ClusterSecret other = other_secret();
  std::vector<std::string> foreign = encode_txt_record(test_record(other), other.record_mac_key());
  RecordDecodeResult result = decode(foreign);
  EXPECT_EQ(result.status, RecordStatus::foreign_cluster);
  EXPECT_EQ(result.record.cluster_id, other.cluster_id());
  EXPECT_EQ(result.record.node_id, "node-3a9f01");
}

TEST_F(NodeRecordTest, RejectsBadMac) {
  // Every field change, keeping the old MAC, must fail the MAC.
  EXPECT_EQ(decode(with_entry("ctr", "1763740800001")).status, RecordStatus::bad_mac);
  EXPECT_EQ(decode(with_entry("caps", "criu")).status, RecordStatus::bad_mac);
  EXPECT_EQ(decode(with_entry("nid", "node-3a9f02")).status, RecordStatus::bad_mac);
  EXPECT_EQ(decode(with_entry("wg", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")).status,
            RecordStatus::bad_mac);
  // A record MAC'd with a wrong key (someone who knows only the cluster id).
  MacKey wrong_key{};
  EXPECT_EQ(decode(encode_txt_record(test_record(), wrong_key)).status, RecordStatus::bad_mac);
}

TEST_F(NodeRecordTest, BitFlipInAnyByteIsRejected) {
  std::vector<std::string> entries = encoded();
  for (size_t e = 0; e < entries.size(); ++e) {
    for (size_t i = 0; i < entries[e].size(); ++i) {
      for (int bit = 0; bit < 8; ++bit) {
        std::vector<std::string> tampered = entries;
        tampered[e][i] = static_cast<char>(tampered[e][i] ^ (1 << bit));
        RecordStatus status = decode(tampered).status;
        EXPECT_NE(status, RecordStatus::ok) << "entry " << e << " byte " << i << " bit " << bit;
      }
    }
  }
}

TEST_F(NodeRecordTest, TruncationOfAnyEntryIsRejected) {
  std::vector<std::string> entries = encoded();
  for (size_t e = 0; e < entries.size(); ++e) {
    for (size_t length = 0; length < entries[e].size(); ++length) {
      std::vector<std::string> cut = entries;
      cut[e].resize(length);
      EXPECT_NE(decode(cut).status, RecordStatus::ok) << "entry " << e << " cut at " << length;
    }
  }
}

}  // namespace
}  // namespace clusterlive
