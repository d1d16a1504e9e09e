#include "criu/criu_stats.h"

#include <cstdio>

#include "sys/file_io.h"

namespace clusterlive::criu {
namespace {

// Protobuf wire types (https://protobuf.dev/programming-guides/encoding/).
constexpr uint32_t kWireVarint = 0;
constexpr uint32_t kWireFixed64 = 1;
constexpr uint32_t kWireLength = 2;
constexpr uint32_t kWireFixed32 = 5;

// A bounded reader over a protobuf message: every read checks the bytes left and reports a
// failure by returning false, never by reading past the end.
class WireReader {
 public:
  explicit WireReader(std::string_view bytes) : bytes_(bytes) {}

  bool at_end() const { return position_ == bytes_.size(); }

  bool varint(uint64_t& value) {
    value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (at_end()) return false;
      auto byte = static_cast<uint8_t>(bytes_[position_++]);
      // The tenth byte may carry only the top bit of a 64-bit value.
      if (shift == 63 && byte > 1) return false;
      value |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) return true;
    }
    return false;  // more than ten bytes
  }

  bool bytes(size_t count, std::string_view& out) {
    if (count > bytes_.size() - position_) return false;
    out = bytes_.substr(position_, count);
    position_ += count;
    return true;
  }

  /// Reads a field's key. False at a malformed key (or field number 0).
  bool key(uint32_t& field, uint32_t& wire_type) {
    uint64_t raw = 0;
    if (!varint(raw) || (raw >> 3) == 0 || (raw >> 3) > 0x1fffffff) return false;
    field = static_cast<uint32_t>(raw >> 3);
    wire_type = static_cast<uint32_t>(raw & 7);
    return true;
  }

  /// Skips the value of a field we do not know. Groups (wire types 3, 4) are refused.
  bool skip(uint32_t wire_type) {
    uint64_t ignored = 0;
    std::string_view skipped;
    switch (wire_type) {
      case kWireVarint:
        return varint(ignored);
      case kWireFixed64:
        return bytes(8, skipped);
      case kWireFixed32:
        return bytes(4, skipped);
      case kWireLength:
        return varint(ignored) && ignored <= bytes_.size() &&
               bytes(static_cast<size_t>(ignored), skipped);
      default:
        return false;
    }
  }

  /// Reads a length-delimited value.
  bool length_delimited(std::string_view& out) {
    uint64_t length = 0;
    if (!varint(length) || length > bytes_.size()) return false;
    return bytes(static_cast<size_t>(length), out);
  }

 private:
  std::string_view bytes_;
  size_t position_ = 0;
};

// Reads a message whose fields are all varints: `slot(field)` says where field `field` goes
// (nullptr: unknown, skipped). False on malformed input or a known field of another type.
template <typename SlotFor>
bool read_varint_message(std::string_view bytes, SlotFor slot) {
  WireReader reader(bytes);
  while (!reader.at_end()) {
    uint32_t field = 0;
    uint32_t wire_type = 0;
    if (!reader.key(field, wire_type)) return false;
    uint64_t* target = slot(field);
    if (target == nullptr) {
      if (!reader.skip(wire_type)) return false;
      continue;
    }
    if (wire_type != kWireVarint || !reader.varint(*target)) return false;
  }
  return true;
}

bool read_dump(std::string_view bytes, DumpStats& stats) {
  return read_varint_message(bytes, [&stats](uint32_t field) -> uint64_t* {
    switch (field) {
      case 1:
        return &stats.freezing_time_us;
      case 2:
        return &stats.frozen_time_us;
      case 3:
        return &stats.memdump_time_us;
      case 4:
        return &stats.memwrite_time_us;
      case 5:
        return &stats.pages_scanned;
      case 6:
        return &stats.pages_skipped_parent;
      case 7:
        return &stats.pages_written;
      case 9:
        return &stats.pages_lazy;
      case 12:
        return &stats.shpages_scanned;
      case 13:
        return &stats.shpages_skipped_parent;
      case 14:
        return &stats.shpages_written;
      default:
        return nullptr;  // irmap_resolve, page_pipes, page_pipe_bufs, later fields
    }
  });
}

bool read_restore(std::string_view bytes, RestoreStats& stats) {
  return read_varint_message(bytes, [&stats](uint32_t field) -> uint64_t* {
    switch (field) {
      case 1:
        return &stats.pages_compared;
      case 2:
        return &stats.pages_skipped_cow;
      case 3:
        return &stats.forking_time_us;
      case 4:
        return &stats.restore_time_us;
      case 5:
        return &stats.pages_restored;
      default:
        return nullptr;
    }
  });
}

uint32_t little_endian_u32(std::string_view bytes, size_t at) {
  uint32_t value = 0;
  for (size_t i = 0; i < 4; ++i) {
    value |= static_cast<uint32_t>(static_cast<uint8_t>(bytes[at + i])) << (8 * i);
  }
  return value;
}

CriuStats failure(std::string error) {
  CriuStats stats;
  stats.error = std::move(error);
  return stats;
}

std::string milliseconds(uint64_t microseconds) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f ms", static_cast<double>(microseconds) / 1000.0);
  return text;
}

}  // namespace

CriuStats parse_criu_stats(std::string_view bytes) {
  constexpr size_t kHeaderBytes = 12;  // two magic numbers and the entry's length
  if (bytes.size() < kHeaderBytes) return failure("not a CRIU statistics image: too short");
  if (little_endian_u32(bytes, 0) != kServiceMagic || little_endian_u32(bytes, 4) != kStatsMagic) {
    return failure("not a CRIU statistics image: wrong magic");
  }
  uint32_t length = little_endian_u32(bytes, 8);
  if (length > bytes.size() - kHeaderBytes) {
    return failure("CRIU statistics image truncated: entry of " + std::to_string(length) +
                   " bytes, " + std::to_string(bytes.size() - kHeaderBytes) + " present");
  }
  WireReader entry(bytes.substr(kHeaderBytes, length));
  CriuStats stats;
  while (!entry.at_end()) {
    uint32_t field = 0;
    uint32_t wire_type = 0;
    if (!entry.key(field, wire_type)) return failure("CRIU statistics entry malformed");
    if (field != 1 && field != 2) {
      if (!entry.skip(wire_type)) return failure("CRIU statistics entry malformed");
      continue;
    }
    std::string_view message;
    if (wire_type != kWireLength || !entry.length_delimited(message)) {
      return failure("CRIU statistics entry malformed");
    }
    if (field == 1) {
      DumpStats dump;
      if (!read_dump(message, dump)) return failure("CRIU dump statistics malformed");
      stats.dump = dump;
    } else {
      RestoreStats restore;
      if (!read_restore(message, restore)) return failure("CRIU restore statistics malformed");
      stats.restore = restore;
    }
  }
  return stats;
}

CriuStats read_criu_stats(const std::string& path) {
  ReadResult read = read_file_bounded(path, kMaxStatsFileBytes);
  if (read.status == ReadStatus::not_found) return failure(path + ": no such file");
  if (read.status != ReadStatus::ok) return failure(read.error);
  CriuStats stats = parse_criu_stats(read.text);
  if (!stats.ok()) stats.error = path + ": " + stats.error;
  return stats;
}

std::string describe(const DumpStats& stats) {
  return "written " + std::to_string(stats.pages_written) + " pages, skipped " +
         std::to_string(stats.pages_skipped_parent) + " from parent, scanned " +
         std::to_string(stats.pages_scanned) + ", frozen " + milliseconds(stats.frozen_time_us) +
         ", memory dump " + milliseconds(stats.memdump_time_us) + ", memory write " +
         milliseconds(stats.memwrite_time_us);
}

std::string describe(const RestoreStats& stats) {
  return "restored " + std::to_string(stats.pages_restored) + " pages, forking " +
         milliseconds(stats.forking_time_us) + ", restore " + milliseconds(stats.restore_time_us);
}

}  // namespace clusterlive::criu
