// The firewall check: every required destination x port of the gateway against a ruleset,
// with the deciding rule, as verdicts and as ProbeResults (FW_BLOCKS_REQUIRED). Pure, apart from
// the resolver callback the caller supplies.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/probe_result.hpp"
#include "core/result.hpp"
#include "rules/firewall/evaluate.hpp"
#include "rules/firewall/ruleset.hpp"
#include "rules/firewall/service_tags.hpp"

namespace gwprobe::rules::firewall {

/// A destination the gateway must reach (from a profile endpoint, or --dest).
struct FirewallDestination {
  std::string name;        ///< "Azure Relay"
  std::string host;        ///< as documented; may be a wildcard ("*.servicebus.windows.net")
  std::string probe_host;  ///< a concrete name to resolve for wildcards ("" = host)
  std::vector<std::uint16_t> ports;
  bool required = true;
};

/// Host name -> addresses (IP literals as text). The CLI wires the DNS layer here; tests pass
/// literals or service tags instead.
using Resolver = std::function<core::Result<std::vector<std::string>>(const std::string& host)>;

struct FirewallCheckOptions {
  Path path = Path::output;
  std::string oif;  ///< interface of the default route ("" = unknown)
  std::string iif;  ///< forward path: where the gateway's traffic comes in ("" = unknown)
  std::optional<IpAddress> source;
  bool check_replies = true;
  const ServiceTags* service_tags = nullptr;  ///< ranges for hosts a tag covers
  std::vector<std::string> regions;           ///< azure names, for regional tags
  Resolver resolver;                          ///< may be empty
};

/// The verdict for one address range (every address in it gets the same verdict).
struct RangeVerdict {
  IpRange range;
  Verdict verdict;
};

struct PortVerdict {
  std::uint16_t port = 0;
  /// accept only if every range is accepted; drop/reject if any range is blocked (the first
  /// blocked range's verdict); otherwise unknown.
  Verdict verdict;
  std::vector<RangeVerdict> ranges;  ///< adjacent ranges with equal verdicts merged
  std::vector<IpRange> blocked;      ///< ranges dropped or rejected
  std::size_t unknown_ranges = 0;
};

struct DestinationVerdict {
  FirewallDestination destination;
  std::vector<IpRange> addresses;  ///< empty when the host could not be turned into addresses
  std::string address_origin;      ///< "literal", "resolved", "service tags ..."
  std::string unresolved_because;  ///< set when addresses is empty
  std::vector<PortVerdict> ports;
};

/// Evaluates every destination x port.
std::vector<DestinationVerdict> check_firewall(const Ruleset& ruleset,
                                               const std::vector<FirewallDestination>& destinations,
                                               const FirewallCheckOptions& options);

/// One ProbeResult per destination x port (kind "firewall", id "firewall:host:port"): OK when
/// accepted, FW_BLOCKS_REQUIRED (fail, or warn for optional destinations) when dropped or
/// rejected, FW_VERDICT_UNKNOWN (warn) when static evaluation cannot tell. Facts: verdict, rule,
/// reject_type, expected_tcp (what the TCP probe would see), addresses, address_origin.
std::vector<core::ProbeResult> firewall_results(const std::vector<DestinationVerdict>& verdicts);

/// check_firewall + firewall_results: what `gwprobe check` calls for a profile and a ruleset.
std::vector<core::ProbeResult> evaluate_firewall(
    const Ruleset& ruleset, const std::vector<FirewallDestination>& destinations,
    const FirewallCheckOptions& options);

/// Reads a ruleset file of either format: nft JSON (`nft -j list ruleset`) or iptables-save.
core::Result<Ruleset> load_ruleset(const bgp::SourceText& source);

/// "host:443,5671-5672" (or "[v6]:443") -> a required destination named after the host.
core::Result<FirewallDestination> parse_destination(std::string_view text);

}  // namespace gwprobe::rules::firewall
