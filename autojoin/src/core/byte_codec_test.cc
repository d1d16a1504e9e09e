#include "core/byte_codec.h"

#include <gtest/gtest.h>

#include "core/hex.h"

namespace clusterlive {
namespace {

TEST(ByteCodec, WritesBigEndianKnownAnswer) {
  ByteWriter writer;
  writer.put_u8(0x01);
  writer.put_u16(0x0203);
  writer.put_u32(0x04050607);
  writer.put_u64(0x08090a0b0c0d0e0fULL);
  writer.put_short_string("hi");
  EXPECT_EQ(to_hex(writer.bytes()), "0102030405060708090a0b0c0d0e0f026869");
}

TEST(ByteCodec, ReadsBackWhatWasWritten) {
  ByteWriter writer;
  writer.put_u16(65535);
  writer.put_u64(UINT64_MAX - 1);
  writer.put_short_string("node-1");
  ByteReader reader(writer.bytes());
  uint16_t a = 0;
  uint64_t b = 0;
  std::string text;
  ASSERT_TRUE(reader.get_u16(a));
  ASSERT_TRUE(reader.get_u64(b));
  ASSERT_TRUE(reader.get_short_string(text, 63));
  EXPECT_EQ(a, 65535);
  EXPECT_EQ(b, UINT64_MAX - 1);
  EXPECT_EQ(text, "node-1");
  EXPECT_EQ(reader.remaining(), 0u);
  EXPECT_FALSE(reader.failed());
}

TEST(ByteCodec, ReaderFailsInsteadOfOverReading) {
  const std::vector<uint8_t> three = {1, 2, 3};
  ByteReader reader(three);
  uint32_t value = 0;
  EXPECT_FALSE(reader.get_u32(value));
  EXPECT_TRUE(reader.failed());
  uint8_t byte = 0;
  EXPECT_FALSE(reader.get_u8(byte)) << "a failed reader stays failed";
}

TEST(ByteCodec, StringLongerThanLimitOrInputFails) {
  const std::vector<uint8_t> claims_ten = {10, 'a', 'b'};
  std::string text;
  ByteReader short_input(claims_ten);
  EXPECT_FALSE(short_input.get_short_string(text, 63));
  ByteReader over_limit(claims_ten);
  EXPECT_FALSE(over_limit.get_short_string(text, 5));
}

TEST(Hex, RoundTripAndRejects) {
  EXPECT_EQ(to_hex(*from_hex("00ffA0")), "00ffa0");
  EXPECT_FALSE(from_hex("abc"));
  EXPECT_FALSE(from_hex("zz"));
  EXPECT_TRUE(is_lower_hex("0af9"));
  EXPECT_FALSE(is_lower_hex("0AF9"));
  EXPECT_FALSE(is_lower_hex(""));
}

}  // namespace
}  // namespace clusterlive
