// Capability ids for rendezvous URLs.
#include "gateway/protocol/capability.hpp"

#include <charconv>

#include "gateway/protocol/crypto.hpp"

namespace gwprobe::gateway::protocol {

namespace {
constexpr std::size_t kRandomBytes = 16;  // 128 bits, as the reference asks
constexpr std::size_t kMacHexChars = 32;  // 128 bits of the HMAC are plenty for a 30 s ticket

std::int64_t to_ms(core::Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

bool is_hex(std::string_view s) {
  return !s.empty() && s.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}
}  // namespace

std::string_view to_string(CapabilityFault fault) {
  switch (fault) {
    case CapabilityFault::none:
      return "none";
    case CapabilityFault::malformed:
      return "malformed";
    case CapabilityFault::forged:
      return "forged";
    case CapabilityFault::expired:
      return "expired";
    case CapabilityFault::already_used:
      return "already_used";
  }
  return "unknown";
}

CapabilityIssuer::CapabilityIssuer(const core::Clock& clock, std::chrono::milliseconds ttl)
    : clock_(clock), ttl_(ttl), secret_(random_bytes(32)) {}

std::string CapabilityIssuer::mac(std::string_view random_hex, std::string_view expiry_hex,
                                  CapabilityPurpose purpose) const {
  const std::string message =
      std::string(purpose == CapabilityPurpose::accept ? "accept" : "request") + "|" +
      std::string(random_hex) + "|" + std::string(expiry_hex);
  return hex_encode(hmac_sha256(secret_, message)).substr(0, kMacHexChars);
}

std::string CapabilityIssuer::issue(CapabilityPurpose purpose) {
  const std::string random_hex = hex_encode(random_bytes(kRandomBytes));
  char buf[24];
  const auto expiry = to_ms(clock_.now()) + ttl_.count();
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, expiry, 16);
  (void)ec;
  const std::string expiry_hex(buf, end);
  return random_hex + "." + expiry_hex + "." + mac(random_hex, expiry_hex, purpose);
}

CapabilityFault CapabilityIssuer::redeem(std::string_view id, CapabilityPurpose purpose) {
  const auto dot1 = id.find('.');
  const auto dot2 = dot1 == std::string_view::npos ? dot1 : id.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos) return CapabilityFault::malformed;
  const std::string_view random_hex = id.substr(0, dot1);
  const std::string_view expiry_hex = id.substr(dot1 + 1, dot2 - dot1 - 1);
  const std::string_view given_mac = id.substr(dot2 + 1);
  if (random_hex.size() != kRandomBytes * 2 || !is_hex(random_hex) || !is_hex(expiry_hex) ||
      expiry_hex.size() > 15 || given_mac.size() != kMacHexChars) {
    return CapabilityFault::malformed;
  }
  if (!constant_time_equal(mac(random_hex, expiry_hex, purpose), given_mac)) {
    return CapabilityFault::forged;
  }
  std::int64_t expiry = 0;
  std::from_chars(expiry_hex.data(), expiry_hex.data() + expiry_hex.size(), expiry, 16);
  const auto now = to_ms(clock_.now());
  if (now >= expiry) return CapabilityFault::expired;
  std::lock_guard lock(mutex_);
  forget_expired(now);
  if (!used_.emplace(std::string(random_hex), expiry).second) return CapabilityFault::already_used;
  return CapabilityFault::none;
}

std::size_t CapabilityIssuer::remembered() const {
  std::lock_guard lock(mutex_);
  return used_.size();
}

void CapabilityIssuer::forget_expired(std::int64_t now_ms) {
  for (auto it = used_.begin(); it != used_.end();) {
    it = it->second <= now_ms ? used_.erase(it) : std::next(it);
  }
}

}  // namespace gwprobe::gateway::protocol
