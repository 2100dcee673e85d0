// Parsing and printing BGP standard communities.
#include "rules/bgp/community.hpp"

#include <charconv>

#include <fmt/format.h>

#include "rules/bgp/source_text.hpp"

namespace gwprobe::rules::bgp {

std::string Community::to_string() const {
  return fmt::format("{}:{}", asn, value);
}

namespace {

bool parse_half(std::string_view text, std::uint16_t* out) {
  text = trim(text);
  if (text.empty() || text.size() > 5) return false;
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value > 0xffffu) return false;
  *out = static_cast<std::uint16_t>(value);
  return true;
}

}  // namespace

core::Result<Community> parse_community(std::string_view text) {
  std::string_view body = trim(text);
  char separator = ':';
  if (body.size() >= 2 && body.front() == '(' && body.back() == ')') {
    body = body.substr(1, body.size() - 2);
    separator = ',';
  }
  const auto split = body.find(separator);
  Community community;
  if (split == std::string_view::npos ||
      body.find(separator, split + 1) != std::string_view::npos ||
      !parse_half(body.substr(0, split), &community.asn) ||
      !parse_half(body.substr(split + 1), &community.value)) {
    return core::fail(core::FailureKind::invalid_input,
                      fmt::format("'{}' is not a BGP community (expected ASN:value with both "
                                  "parts 0-65535, e.g. 12076:51004)",
                                  trim(text)));
  }
  return community;
}

}  // namespace gwprobe::rules::bgp
