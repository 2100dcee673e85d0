// IPv4/IPv6 addresses and inclusive address ranges, with CIDR parsing and printing: the
// arithmetic under ruleset evaluation and service-tag coverage.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace gwprobe::rules::firewall {

enum class IpFamily { v4, v6 };

/// An address as a 128-bit number (IPv4 in the low 32 bits), so ranges are plain intervals.
struct IpAddress {
  IpFamily family = IpFamily::v4;
  std::uint64_t hi = 0;
  std::uint64_t lo = 0;

  static std::optional<IpAddress> parse(std::string_view text);
  std::string to_string() const;
  /// The next address, or nullopt after the last one of the family.
  std::optional<IpAddress> next() const;
  int bits() const { return family == IpFamily::v4 ? 32 : 128; }
  friend auto operator<=>(const IpAddress&, const IpAddress&) = default;
};

/// first..last inclusive, one family.
struct IpRange {
  IpAddress first;
  IpAddress last;

  static IpRange single(const IpAddress& address) { return {address, address}; }
  /// `prefix_length` bits of `address` (host bits ignored, as nft and iptables do).
  static IpRange prefix(const IpAddress& address, int prefix_length);
  bool contains(const IpAddress& address) const { return first <= address && address <= last; }
  /// "10.0.0.0/8", "192.0.2.7", or "10.0.0.5-10.0.0.9".
  std::string to_string() const;
  friend bool operator==(const IpRange&, const IpRange&) = default;
};

/// Parses "10.0.0.0/8", "2001:db8::/32", "192.0.2.7" or "10.0.0.5-10.0.0.9".
core::Result<IpRange> parse_ip_range(std::string_view text);

/// The fewest CIDR blocks that cover exactly `range`.
std::vector<std::string> to_cidrs(const IpRange& range);

/// Sorted, overlapping and adjacent ranges merged (per family).
std::vector<IpRange> merge_ranges(std::vector<IpRange> ranges);

/// The parts of `range` that no range of `covered` (merged) contains.
std::vector<IpRange> subtract_ranges(const IpRange& range, const std::vector<IpRange>& covered);

}  // namespace gwprobe::rules::firewall
