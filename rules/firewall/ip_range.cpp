// Address arithmetic on 128-bit numbers held as two 64-bit halves.
#include "rules/firewall/ip_range.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cstring>

#include <fmt/format.h>

namespace gwprobe::rules::firewall {

namespace {

// All-ones in the low `n` bits of a 128-bit value (n in 0..128).
void low_mask(int n, std::uint64_t* hi, std::uint64_t* lo) {
  if (n <= 0) {
    *hi = 0;
    *lo = 0;
  } else if (n < 64) {
    *hi = 0;
    *lo = (std::uint64_t{1} << n) - 1;
  } else if (n == 64) {
    *hi = 0;
    *lo = ~std::uint64_t{0};
  } else if (n < 128) {
    *hi = (std::uint64_t{1} << (n - 64)) - 1;
    *lo = ~std::uint64_t{0};
  } else {
    *hi = ~std::uint64_t{0};
    *lo = ~std::uint64_t{0};
  }
}

IpAddress max_of(IpFamily family) {
  IpAddress a{family, 0, 0};
  low_mask(family == IpFamily::v4 ? 32 : 128, &a.hi, &a.lo);
  return a;
}

}  // namespace

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  if (text.empty() || text.size() > 64) return std::nullopt;
  const std::string s(text);
  if (s.find(':') == std::string::npos) {
    in_addr v4{};
    if (::inet_pton(AF_INET, s.c_str(), &v4) != 1) return std::nullopt;
    return IpAddress{IpFamily::v4, 0, ntohl(v4.s_addr)};
  }
  in6_addr v6{};
  if (::inet_pton(AF_INET6, s.c_str(), &v6) != 1) return std::nullopt;
  IpAddress a{IpFamily::v6, 0, 0};
  for (int i = 0; i < 8; ++i) a.hi = (a.hi << 8) | v6.s6_addr[i];
  for (int i = 8; i < 16; ++i) a.lo = (a.lo << 8) | v6.s6_addr[i];
  return a;
}

std::string IpAddress::to_string() const {
  char buffer[INET6_ADDRSTRLEN] = {};
  if (family == IpFamily::v4) {
    in_addr v4{};
    v4.s_addr = htonl(static_cast<std::uint32_t>(lo));
    ::inet_ntop(AF_INET, &v4, buffer, sizeof buffer);
  } else {
    in6_addr v6{};
    for (int i = 0; i < 8; ++i) v6.s6_addr[i] = static_cast<std::uint8_t>(hi >> (56 - 8 * i));
    for (int i = 0; i < 8; ++i) v6.s6_addr[8 + i] = static_cast<std::uint8_t>(lo >> (56 - 8 * i));
    ::inet_ntop(AF_INET6, &v6, buffer, sizeof buffer);
  }
  return buffer;
}

std::optional<IpAddress> IpAddress::next() const {
  if (*this == max_of(family)) return std::nullopt;
  IpAddress n = *this;
  if (++n.lo == 0) ++n.hi;
  return n;
}

IpRange IpRange::prefix(const IpAddress& address, int prefix_length) {
  const int host_bits = address.bits() - std::clamp(prefix_length, 0, address.bits());
  std::uint64_t mhi = 0;
  std::uint64_t mlo = 0;
  low_mask(host_bits, &mhi, &mlo);
  IpRange r{address, address};
  r.first.hi &= ~mhi;
  r.first.lo &= ~mlo;
  r.last.hi = r.first.hi | mhi;
  r.last.lo = r.first.lo | mlo;
  if (address.family == IpFamily::v4) {
    r.first.hi = r.last.hi = 0;
    r.last.lo &= 0xffffffffu;
  }
  return r;
}

std::string IpRange::to_string() const {
  if (first == last) return first.to_string();
  const auto cidrs = to_cidrs(*this);
  if (cidrs.size() == 1) return cidrs.front();
  return first.to_string() + "-" + last.to_string();
}

core::Result<IpRange> parse_ip_range(std::string_view text) {
  const auto bad = [&](std::string_view why) {
    return core::fail(core::FailureKind::invalid_input,
                      fmt::format("'{}' is not an address, CIDR prefix or range ({})", text, why));
  };
  if (const auto slash = text.find('/'); slash != std::string_view::npos) {
    const auto address = IpAddress::parse(text.substr(0, slash));
    if (!address) return bad("bad address");
    const std::string_view length_text = text.substr(slash + 1);
    int length = 0;
    if (length_text.empty() || length_text.size() > 3) return bad("bad prefix length");
    for (const char c : length_text) {
      if (c < '0' || c > '9') return bad("bad prefix length");
      length = length * 10 + (c - '0');
    }
    if (length > address->bits()) return bad("prefix length too long");
    return IpRange::prefix(*address, length);
  }
  if (const auto dash = text.find('-'); dash != std::string_view::npos) {
    const auto first = IpAddress::parse(text.substr(0, dash));
    const auto last = IpAddress::parse(text.substr(dash + 1));
    if (!first || !last) return bad("bad address");
    if (first->family != last->family) return bad("mixed families");
    if (*last < *first) return bad("end before start");
    return IpRange{*first, *last};
  }
  const auto address = IpAddress::parse(text);
  if (!address) return bad("bad address");
  return IpRange::single(*address);
}

std::vector<std::string> to_cidrs(const IpRange& range) {
  std::vector<std::string> out;
  IpAddress start = range.first;
  const int bits = start.bits();
  for (;;) {
    // The largest block that starts at `start` (aligned) and ends within the range.
    int length = bits;
    for (int candidate = 0; candidate <= bits; ++candidate) {
      const IpRange block = IpRange::prefix(start, candidate);
      if (block.first == start && block.last <= range.last) {
        length = candidate;
        break;
      }
    }
    const IpRange block = IpRange::prefix(start, length);
    out.push_back(length == bits ? start.to_string()
                                 : fmt::format("{}/{}", start.to_string(), length));
    if (block.last == range.last) break;
    const auto next = block.last.next();
    if (!next) break;
    start = *next;
  }
  return out;
}

std::vector<IpRange> merge_ranges(std::vector<IpRange> ranges) {
  std::sort(ranges.begin(), ranges.end(),
            [](const IpRange& a, const IpRange& b) { return a.first < b.first; });
  std::vector<IpRange> out;
  for (const auto& r : ranges) {
    if (!out.empty() && out.back().last.family == r.first.family) {
      const auto after = out.back().last.next();
      if (!after || r.first <= *after) {
        out.back().last = std::max(out.back().last, r.last);
        continue;
      }
    }
    out.push_back(r);
  }
  return out;
}

std::vector<IpRange> subtract_ranges(const IpRange& range, const std::vector<IpRange>& covered) {
  std::vector<IpRange> out;
  // `cursor` is the first address not yet accounted for; `done` once the range is exhausted
  // (a plain flag: GCC 12 warns falsely about std::optional<IpAddress> here).
  IpAddress cursor = range.first;
  bool done = false;
  for (const auto& c : merge_ranges(covered)) {
    if (done) break;
    if (c.first.family != range.first.family || c.last < cursor || range.last < c.first) {
      continue;
    }
    if (cursor < c.first) {
      IpAddress before = c.first;
      // c.first > cursor >= the family's first address, so c.first has a predecessor.
      if (before.lo-- == 0) --before.hi;
      out.push_back(IpRange{cursor, before});
    }
    const auto after = c.last.next();
    if (!after || range.last < *after) {
      done = true;
    } else {
      cursor = *after;
    }
  }
  if (!done) out.push_back(IpRange{cursor, range.last});
  return out;
}

}  // namespace gwprobe::rules::firewall
