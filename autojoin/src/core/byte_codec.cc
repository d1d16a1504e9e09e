#include "core/byte_codec.h"

#include <algorithm>

namespace clusterlive {

void ByteWriter::put_u8(uint8_t value) { bytes_.push_back(value); }

void ByteWriter::put_u16(uint16_t value) {
  put_u8(static_cast<uint8_t>(value >> 8));
  put_u8(static_cast<uint8_t>(value));
}

void ByteWriter::put_u32(uint32_t value) {
  put_u16(static_cast<uint16_t>(value >> 16));
  put_u16(static_cast<uint16_t>(value));
}

void ByteWriter::put_u64(uint64_t value) {
  put_u32(static_cast<uint32_t>(value >> 32));
  put_u32(static_cast<uint32_t>(value));
}

void ByteWriter::put_bytes(std::span<const uint8_t> bytes) {
  bytes_.insert(bytes_.end(), bytes.begin(), bytes.end());
}

void ByteWriter::put_short_string(std::string_view text) {
  put_u8(static_cast<uint8_t>(text.size()));
  bytes_.insert(bytes_.end(), text.begin(), text.end());
}

void ByteWriter::put_string16(std::string_view text) {
  put_u16(static_cast<uint16_t>(text.size()));
  bytes_.insert(bytes_.end(), text.begin(), text.end());
}

bool ByteReader::take(size_t count, const uint8_t*& start) {
  if (failed_ || count > remaining()) {
    failed_ = true;
    return false;
  }
  start = input_.data() + position_;
  position_ += count;
  return true;
}

bool ByteReader::get_u8(uint8_t& value) {
  const uint8_t* p = nullptr;
  if (!take(1, p)) return false;
  value = p[0];
  return true;
}

bool ByteReader::get_u16(uint16_t& value) {
  const uint8_t* p = nullptr;
  if (!take(2, p)) return false;
  value = static_cast<uint16_t>((p[0] << 8) | p[1]);
  return true;
}

bool ByteReader::get_u32(uint32_t& value) {
  const uint8_t* p = nullptr;
  if (!take(4, p)) return false;
  value = (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
  return true;
}

bool ByteReader::get_u64(uint64_t& value) {
  uint32_t high = 0;
  uint32_t low = 0;
  if (!get_u32(high) || !get_u32(low)) return false;
  value = (uint64_t{high} << 32) | low;
  return true;
}

bool ByteReader::get_bytes(std::span<uint8_t> out) {
  const uint8_t* p = nullptr;
  if (!take(out.size(), p)) return false;
  std::copy(p, p + out.size(), out.begin());
  return true;
}

bool ByteReader::get_short_string(std::string& text, size_t max_length) {
  uint8_t length = 0;
  if (!get_u8(length)) return false;
  if (length > max_length) {
    failed_ = true;
    return false;
  }
  const uint8_t* p = nullptr;
  if (!take(length, p)) return false;
  text.assign(reinterpret_cast<const char*>(p), length);
  return true;
}

}  // namespace clusterlive
