// The DNS probe's judgement, pure: from each resolver's answer to one diagnosis and message.
// This is where DNS_MISMATCH is defined.
#pragma once

#include <span>
#include <string>

#include "core/diagnosis.hpp"
#include "probes/resolve.hpp"

namespace gwprobe::probes::dns {

/// One resolver's answer for the probed name.
struct ResolverAnswer {
  std::string resolver;  ///< "system resolver" or "reference"
  Resolution resolution;

  /// Who answered: "system resolver 127.0.0.1:5353", "system resolver (hosts file /etc/hosts)",
  /// "reference 1.1.1.1:53".
  std::string label() const;
  /// What it said: "40.1.2.3, 2603:1030::5 (CNAME a.example -> b.example)",
  /// "10.1.2.3 (RFC 1918 private)", "NXDOMAIN (no such name)".
  std::string summary() const;
};

/// The verdict over all answers.
struct DnsJudgement {
  core::Diagnosis diagnosis = core::Diagnosis::ok;
  std::string message;
  /// Public answers differ only in their addresses (geo-DNS, load balancing): recorded as a
  /// fact, never a failure.
  bool geo_difference = false;
};

/// Judges the answers; answers[0] is the primary (the system resolver, or the first reference
/// when the system resolver is not asked), the rest are compared with it.
///
/// Each answer falls in one class: PUBLIC (addresses, none special), PRIVATE (at least one
/// private/loopback/link-local/CGNAT/ULA/unspecified address), NEGATIVE (NXDOMAIN or NODATA) or
/// UNAVAILABLE (timeout, SERVFAIL, REFUSED, closed port, local error: the resolver gave no
/// opinion about the name).
///
/// DNS_MISMATCH fires when the primary and a reference both gave an opinion and
///   (a) their classes differ: one answers public and the other NXDOMAIN/NODATA or private,
///       or one answers private and the other NXDOMAIN/NODATA; or
///   (b) both answered with addresses but their CNAME chains share no name (one resolver sends
///       the name somewhere else, e.g. an internal override or a hosts-file pin; an empty chain
///       against a non-empty one shares none).
/// It does not fire for two public answers whose addresses differ while their chains share a
/// name, or both have none (geo-DNS: `geo_difference`), nor when either side is UNAVAILABLE (an
/// unreachable reference is not a disagreement; an unavailable system resolver gets its own
/// code, DNS_TIMEOUT/DNS_SERVFAIL/DNS_REFUSED, which points at the right fix). With
/// `private_answers_expected`, a private answer agrees with a public or negative one (a private
/// endpoint seen from inside and outside).
///
/// Otherwise: a NEGATIVE or UNAVAILABLE primary gives its own code; a PRIVATE primary gives
/// DNS_PRIVATE_ANSWER unless expected; else OK. A cancelled lookup makes the whole probe
/// PROBE_CANCELLED. The message lists every resolver's answer, primary first.
DnsJudgement judge_answers(std::span<const ResolverAnswer> answers, bool private_answers_expected);

}  // namespace gwprobe::probes::dns
