// Reading `nft -j list ruleset` (libnftables JSON, schema version 1) into a Ruleset.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "core/result.hpp"
#include "rules/bgp/source_text.hpp"
#include "rules/firewall/ruleset.hpp"

namespace gwprobe::rules::firewall {

/// Parses nft's JSON ruleset. Checks the structure (every object's kind, every rule's family,
/// table, chain and expression list, that every rule's chain exists) and fails with
/// invalid_input "file:line:column: what was expected". Expressions are kept as JSON for the
/// evaluator; ones it does not know make verdicts unknown rather than the file invalid.
core::Result<Ruleset> parse_nft_json(const bgp::SourceText& source);

/// A rule's expressions in nft's own syntax, for messages: "ip daddr @relay_v4 tcp dport
/// { 443, 5671-5672 } accept". Falls back to JSON for expressions it does not render.
std::string nft_rule_text(const nlohmann::json& expr);

}  // namespace gwprobe::rules::firewall
