// Lower-case hexadecimal text <-> bytes.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace clusterlive {

/// Formats bytes as lower-case hex, two characters per byte.
std::string to_hex(std::span<const uint8_t> bytes);

/// Parses hex text (either case, even length, nothing else); nullopt otherwise.
std::optional<std::vector<uint8_t>> from_hex(std::string_view text);

/// True if `text` is non-empty and only lower-case hex digits.
bool is_lower_hex(std::string_view text);

}  // namespace clusterlive
