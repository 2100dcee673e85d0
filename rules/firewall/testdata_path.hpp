// Test helper: rulesets exported from real nftables/iptables
// (scripts/capture-firewall-rulesets.sh).
#pragma once

#include <string>

#include "rules/bgp/source_text.hpp"
#include "rules/firewall/firewall_check.hpp"

namespace gwprobe::rules::firewall::testing {

inline std::string testdata_path(const std::string& name) {
  return std::string(GWPROBE_SOURCE_DIR) + "/rules/firewall/testdata/" + name;
}

inline bgp::SourceText testdata(const std::string& name) {
  auto source = bgp::read_source_text(testdata_path(name));
  if (!source) return bgp::SourceText{name, ""};
  source->name = name;
  return *source;
}

/// Loads a captured ruleset; an empty ruleset (and a test failure) when it does not parse.
inline Ruleset ruleset(const std::string& name) {
  auto loaded = load_ruleset(testdata(name));
  if (!loaded) return Ruleset{};
  return *loaded;
}

}  // namespace gwprobe::rules::firewall::testing
