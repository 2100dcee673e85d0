// Text and JSON renderings of firewall checks and allowlist coverage, for `gwprobe firewall`.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "rules/firewall/firewall_check.hpp"
#include "rules/firewall/service_tags.hpp"

namespace gwprobe::rules::firewall {

/// Everything one `gwprobe firewall --ruleset` run found.
struct FirewallReport {
  std::string ruleset_source;
  std::string ruleset_format;     ///< "nft JSON" or "iptables-save (ip)"
  std::string destinations_from;  ///< "profile local (3 endpoints)", "--dest"
  FirewallCheckOptions options;   ///< service_tags/resolver not rendered
  std::vector<DestinationVerdict> verdicts;
  std::vector<core::ProbeResult> results;  ///< firewall_results(verdicts)
  std::vector<std::string> notes;          ///< the ruleset's notes

  int required_blocked() const;
  int warnings() const;  ///< unknown verdicts, optional destinations blocked
};

std::string format_firewall_text(const FirewallReport& report);
/// {"schema":"gwprobe.firewall/v1", "ruleset", "path", "results":[...], "destinations":[...]}
nlohmann::ordered_json firewall_to_json(const FirewallReport& report);

struct AllowlistReport {
  std::string allowlist_source;
  std::string service_tags_source;
  long change_number = 0;
  std::vector<std::string> regions;
  std::vector<TagCoverage> coverage;

  /// A needed tag missing from the file, or with prefixes the allowlist lacks.
  bool any_uncovered() const;
};

std::string format_allowlist_text(const AllowlistReport& report);
nlohmann::ordered_json allowlist_to_json(const AllowlistReport& report);

}  // namespace gwprobe::rules::firewall
