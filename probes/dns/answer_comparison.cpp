// DNS answer comparison: classes, CNAME-chain overlap, and the message naming every resolver.
#include "probes/dns/answer_comparison.hpp"

#include <algorithm>
#include <cctype>

namespace gwprobe::probes::dns {

using core::Diagnosis;

namespace {

/// More addresses than this are summarised as "+N more": the message stays one readable line.
constexpr std::size_t kAddressesShown = 6;

enum class AnswerClass { public_answer, private_answer, negative, unavailable };

AnswerClass classify(const Resolution& r) {
  if (r.ok()) {
    const bool any_special =
        std::any_of(r.addresses.begin(), r.addresses.end(),
                    [](const IpAddress& a) { return !special_range(a).empty(); });
    return any_special ? AnswerClass::private_answer : AnswerClass::public_answer;
  }
  if (r.diagnosis == Diagnosis::dns_nxdomain || r.diagnosis == Diagnosis::dns_nodata) {
    return AnswerClass::negative;
  }
  return AnswerClass::unavailable;
}

bool same_name(std::string_view a, std::string_view b) {
  if (!a.empty() && a.back() == '.') a.remove_suffix(1);
  if (!b.empty() && b.back() == '.') b.remove_suffix(1);
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](unsigned char x, unsigned char y) {
           return std::tolower(x) == std::tolower(y);
         });
}

bool chains_share_a_name(const Resolution& a, const Resolution& b) {
  if (a.cname_chain.empty() && b.cname_chain.empty()) return true;
  for (const auto& x : a.cname_chain) {
    for (const auto& y : b.cname_chain) {
      if (same_name(x, y)) return true;
    }
  }
  return false;
}

bool same_addresses(const Resolution& a, const Resolution& b) {
  if (a.addresses.size() != b.addresses.size()) return false;
  return std::all_of(a.addresses.begin(), a.addresses.end(), [&b](const IpAddress& x) {
    return std::find(b.addresses.begin(), b.addresses.end(), x) != b.addresses.end();
  });
}

bool is_pair(AnswerClass a, AnswerClass b, AnswerClass x, AnswerClass y) {
  return (a == x && b == y) || (a == y && b == x);
}

}  // namespace

std::string ResolverAnswer::label() const {
  switch (resolution.source) {
    case AnswerSource::literal:
      return resolver + " (IP literal)";
    case AnswerSource::hosts_file:
      return resolver + " (hosts file " + resolution.server + ")";
    case AnswerSource::dns:
      break;
  }
  return resolution.server.empty() ? resolver : resolver + " " + resolution.server;
}

std::string ResolverAnswer::summary() const {
  if (!resolution.ok()) return resolution.error;
  std::string out;
  for (std::size_t i = 0; i < resolution.addresses.size() && i < kAddressesShown; ++i) {
    if (i > 0) out += ", ";
    out += resolution.addresses[i].to_string();
    if (const auto range = special_range(resolution.addresses[i]); !range.empty()) {
      out += " (" + std::string(range) + ")";
    }
  }
  if (resolution.addresses.size() > kAddressesShown) {
    out += " +" + std::to_string(resolution.addresses.size() - kAddressesShown) + " more";
  }
  if (!resolution.cname_chain.empty()) {
    out += " (CNAME ";
    for (std::size_t i = 0; i < resolution.cname_chain.size(); ++i) {
      if (i > 0) out += " -> ";
      out += resolution.cname_chain[i];
    }
    out += ")";
  }
  return out;
}

DnsJudgement judge_answers(std::span<const ResolverAnswer> answers, bool private_answers_expected) {
  DnsJudgement out;
  if (answers.empty()) {
    out.diagnosis = Diagnosis::probe_error;
    out.message = "no resolver to ask: the system resolver is off and no reference is given";
    return out;
  }
  for (const auto& answer : answers) {
    if (answer.resolution.diagnosis == Diagnosis::probe_cancelled) {
      out.diagnosis = Diagnosis::probe_cancelled;
      out.message = "cancelled while resolving";
      return out;
    }
  }

  const Resolution& primary = answers.front().resolution;
  const AnswerClass primary_class = classify(primary);
  bool mismatch = false;
  bool chains_differ = false;
  for (const auto& other : answers.subspan(1)) {
    const AnswerClass other_class = classify(other.resolution);
    if (primary_class == AnswerClass::unavailable || other_class == AnswerClass::unavailable) {
      continue;  // no opinion on one side: nothing to disagree with
    }
    if (primary_class == other_class) {
      if (primary_class == AnswerClass::negative) continue;
      if (primary_class == AnswerClass::private_answer && private_answers_expected) continue;
      if (!chains_share_a_name(primary, other.resolution)) {
        mismatch = chains_differ = true;
      } else if (!same_addresses(primary, other.resolution)) {
        out.geo_difference = out.geo_difference || primary_class == AnswerClass::public_answer;
      }
      continue;
    }
    if (private_answers_expected &&
        (is_pair(primary_class, other_class, AnswerClass::private_answer,
                 AnswerClass::public_answer) ||
         is_pair(primary_class, other_class, AnswerClass::private_answer, AnswerClass::negative))) {
      continue;
    }
    mismatch = true;
  }

  std::string listing;
  for (std::size_t i = 0; i < answers.size(); ++i) {
    if (i > 0) listing += "; ";
    listing += answers[i].label() + ": " + answers[i].summary();
    if (i > 0 && classify(answers[i].resolution) == AnswerClass::unavailable) {
      listing += " (not compared)";
    }
  }

  if (mismatch) {
    out.diagnosis = Diagnosis::dns_mismatch;
    out.message = std::string(chains_differ ? "resolvers disagree (CNAME targets differ): "
                                            : "resolvers disagree: ") +
                  listing;
    out.geo_difference = false;
    return out;
  }
  if (primary_class == AnswerClass::negative || primary_class == AnswerClass::unavailable) {
    out.diagnosis = primary.diagnosis;
    out.message = listing;
    return out;
  }
  if (primary_class == AnswerClass::private_answer && !private_answers_expected) {
    out.diagnosis = Diagnosis::dns_private_answer;
    out.message = "private answer: " + listing;
    return out;
  }
  out.diagnosis = Diagnosis::ok;
  out.message = listing;
  if (out.geo_difference) out.message += " (addresses differ by resolver: geo-DNS, not a mismatch)";
  return out;
}

}  // namespace gwprobe::probes::dns
