// Single-use capability ids for rendezvous URLs. Rendezvous handshakes carry no token
// (reference A.2), so the sb-hc-id in an accept/request address is the only credential: a
// random 128-bit value, an expiry and an HMAC under a per-process secret, redeemable once.
#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/clock.hpp"

namespace gwprobe::gateway::protocol {

/// What a capability is for; part of the MAC, so an accept id cannot open a request rendezvous.
enum class CapabilityPurpose { accept, request };

enum class CapabilityFault { none, malformed, forged, expired, already_used };
std::string_view to_string(CapabilityFault fault);

/// Issues and redeems capability ids "<32 hex random>.<expiry ms hex>.<32 hex MAC>".
/// Thread-safe. Remembers redeemed ids until they expire, so memory stays bounded by the issue
/// rate times the TTL.
class CapabilityIssuer {
 public:
  static constexpr std::chrono::seconds kDefaultTtl{30};

  explicit CapabilityIssuer(const core::Clock& clock, std::chrono::milliseconds ttl = kDefaultTtl);

  std::string issue(CapabilityPurpose purpose);

  /// Checks the MAC (constant time), the expiry and single use; marks the id used on success.
  CapabilityFault redeem(std::string_view id, CapabilityPurpose purpose);

  std::chrono::milliseconds ttl() const { return ttl_; }
  std::size_t remembered() const;

 private:
  std::string mac(std::string_view random_hex, std::string_view expiry_hex,
                  CapabilityPurpose purpose) const;
  void forget_expired(std::int64_t now_ms);

  const core::Clock& clock_;
  std::chrono::milliseconds ttl_;
  std::string secret_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::int64_t> used_;  // random part -> expiry (ms)
};

}  // namespace gwprobe::gateway::protocol
