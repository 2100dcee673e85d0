// Reading `iptables-save` / `ip6tables-save` output into a Ruleset: every rule is translated into
// the nft expressions iptables-nft itself would load, so one evaluator serves both formats.
#pragma once

#include "core/result.hpp"
#include "rules/bgp/source_text.hpp"
#include "rules/firewall/ruleset.hpp"

namespace gwprobe::rules::firewall {

/// Parses iptables-save output (any of the raw, mangle, nat, filter and security tables).
/// Matches and targets it cannot translate (ipset, addrtype, recent, ...) become expressions the
/// evaluator reports as unknown. Malformed input fails with invalid_input
/// "file:line:column: what was expected".
core::Result<Ruleset> parse_iptables_save(const bgp::SourceText& source);

/// True when `text` looks like iptables-save output rather than nft JSON.
bool looks_like_iptables_save(std::string_view text);

}  // namespace gwprobe::rules::firewall
