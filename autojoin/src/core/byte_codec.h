// Big-endian binary writer and a bounds-checked reader for peer input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace clusterlive {

/// Appends big-endian integers and length-prefixed strings to a byte buffer.
class ByteWriter {
 public:
  /// Appends one byte.
  void put_u8(uint8_t value);
  /// Appends a 16-bit big-endian integer.
  void put_u16(uint16_t value);
  /// Appends a 32-bit big-endian integer.
  void put_u32(uint32_t value);
  /// Appends a 64-bit big-endian integer.
  void put_u64(uint64_t value);
  /// Appends bytes as they are (the reader must know their length).
  void put_bytes(std::span<const uint8_t> bytes);
  /// Appends a string preceded by its length in one byte. Callers keep
  /// strings at most 255 bytes long (checked by validation before encoding).
  void put_short_string(std::string_view text);
  /// Appends a string preceded by its length in two bytes.
  void put_string16(std::string_view text);

  /// The bytes written so far.
  const std::vector<uint8_t>& bytes() const { return bytes_; }
  /// Number of bytes written so far.
  size_t size() const { return bytes_.size(); }
  /// Moves the buffer out.
  std::vector<uint8_t> release() { return std::move(bytes_); }

 private:
  std::vector<uint8_t> bytes_;
};

/// Reads what ByteWriter wrote, never past the end of its input. The first
/// failed read sets failed(); every later read fails too, so a decoder can
/// read a whole structure and check once.
class ByteReader {
 public:
  explicit ByteReader(std::span<const uint8_t> input) : input_(input) {}

  /// Reads one byte; false if the input is exhausted.
  bool get_u8(uint8_t& value);
  /// Reads a 16-bit big-endian integer.
  bool get_u16(uint16_t& value);
  /// Reads a 32-bit big-endian integer.
  bool get_u32(uint32_t& value);
  /// Reads a 64-bit big-endian integer.
  bool get_u64(uint64_t& value);
  /// Fills `out` completely from the input.
  bool get_bytes(std::span<uint8_t> out);
  /// Reads a one-byte length then that many bytes; fails if the length
  /// exceeds `max_length` (a limit on what a peer may make us allocate).
  bool get_short_string(std::string& text, size_t max_length);

  /// True once any read has failed.
  bool failed() const { return failed_; }
  /// Bytes not read yet.
  size_t remaining() const { return input_.size() - position_; }
  /// Offset of the next byte to read.
  size_t position() const { return position_; }

 private:
  bool take(size_t count, const uint8_t*& start);

  std::span<const uint8_t> input_;
  size_t position_ = 0;
  bool failed_ = false;
};

}  // namespace clusterlive
