// BGP standard communities (RFC 1997): "ASN:value", each half 16 bits.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace gwprobe::rules::bgp {

/// Microsoft's ASN: every ExpressRoute community is 12076:x (S7).
inline constexpr std::uint16_t kMicrosoftAsn = 12076;

struct Community {
  std::uint16_t asn = 0;
  std::uint16_t value = 0;

  /// "12076:51004".
  std::string to_string() const;
  friend auto operator<=>(const Community&, const Community&) = default;
};

/// Parses "12076:51004" (az CLI, FRR) or "(12076,51004)" (BIRD), spaces allowed around the
/// numbers. invalid_input with the reason when it is not a standard community.
core::Result<Community> parse_community(std::string_view text);

}  // namespace gwprobe::rules::bgp
