// Strict decimal numbers, as peers, /proc files and caches write them.
#pragma once

#include <charconv>
#include <optional>
#include <string_view>

namespace clusterlive {

/// Parses `text` as a decimal number of type T: digits only (no sign, spaces or other
/// characters) and no overflow; nullopt otherwise. With `canonical`, a leading zero (other
/// than "0" itself) is refused too, so every value has exactly one spelling (what a signed
/// record needs).
template <typename T>
std::optional<T> parse_decimal(std::string_view text, bool canonical = false) {
  if (text.empty()) return std::nullopt;
  if (canonical && text.size() > 1 && text.front() == '0') return std::nullopt;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  T value{};
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

}  // namespace clusterlive
