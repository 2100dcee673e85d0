// DNS probe: asks the system resolver (hosts file first) and each reference resolver for A and
// AAAA, and judges their answers (answer_comparison.hpp).
#pragma once

#include "core/probe_result.hpp"
#include "core/target.hpp"
#include "probes/dns/dns_options.hpp"
#include "probes/probe.hpp"

namespace gwprobe::probes::dns {

/// Resolves target.host (the port is ignored; plans give 0) with every resolver the options
/// name, all at once, within context.deadline and woken by context.cancel. Diagnoses
/// DNS_NXDOMAIN, DNS_NODATA, DNS_TIMEOUT, DNS_SERVFAIL, DNS_REFUSED, DNS_PRIVATE_ANSWER,
/// DNS_MISMATCH (defined at judge_answers) or OK. Phase "resolve"; facts "addresses",
/// "cname_chain", "min_ttl", "server" (of the primary answer), "answered_by_hosts_file",
/// "answers" (one line per resolver), "geo_difference". Never throws.
core::ProbeResult run_dns_probe(const core::Target& target, const DnsOptions& options,
                                const ProbeContext& context) noexcept;

}  // namespace gwprobe::probes::dns
