// DNS probe: one lookup per resolver, driven together, then judged.
#include "probes/dns/dns_probe.hpp"

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "probes/dns/answer_comparison.hpp"
#include "probes/dns/ares_channel.hpp"
#include "probes/resolve.hpp"

namespace gwprobe::probes::dns {

using core::Diagnosis;
using core::Status;

namespace {

constexpr std::string_view kSystem = "system resolver";
constexpr std::string_view kReference = "reference";

Status status_of(Diagnosis d) {
  if (d == Diagnosis::ok) return Status::pass;
  if (d == Diagnosis::probe_cancelled || d == Diagnosis::probe_error) return Status::error;
  return Status::fail;
}

std::vector<std::string> address_texts(const Resolution& r) {
  std::vector<std::string> out;
  out.reserve(r.addresses.size());
  for (const auto& a : r.addresses) out.push_back(a.to_string());
  return out;
}

core::ProbeResult run(const core::Target& target, const DnsOptions& options,
                      const ProbeContext& context) {
  core::ProbeResult result;
  const auto started = std::chrono::steady_clock::now();
  const std::string& host = target.host;

  if (const auto literal = IpAddress::parse(host)) {
    result = core::make_result(Status::pass, Diagnosis::ok,
                               host + " is an IP address: nothing to resolve");
    result.set_fact("addresses", std::vector<std::string>{literal->to_string()});
    return result;
  }

  std::vector<DnsServer> references;
  for (const auto& text : options.reference_resolvers) {
    auto server = parse_dns_server(text);
    if (!server)
      return core::make_result(Status::error, Diagnosis::probe_error, server.error().message);
    references.push_back(*server);
  }

  // answers[i] is filled from lookups[lookup_of[i]] unless the hosts file answered it.
  std::vector<ResolverAnswer> answers;
  std::vector<std::unique_ptr<AresLookup>> lookups;
  std::vector<std::size_t> lookup_of;
  answers.reserve(1 + references.size());
  lookups.reserve(1 + references.size());
  constexpr auto kNone = static_cast<std::size_t>(-1);

  bool hosts_answered = false;
  if (options.use_system_resolver) {
    ResolverAnswer system{std::string(kSystem), {}};
    auto from_file = lookup_hosts_file(options.hosts_file, host);
    if (!from_file.empty()) {
      // What the gateway gets: the hosts file wins, and DNS is never asked.
      hosts_answered = true;
      system.resolution.source = AnswerSource::hosts_file;
      system.resolution.server = options.hosts_file;
      system.resolution.addresses = std::move(from_file);
      lookup_of.push_back(kNone);
    } else {
      ChannelConfig channel;
      channel.resolv_conf = options.resolv_conf;
      channel.port = options.system_resolver_port;
      channel.attempt_timeout = options.attempt_timeout;
      channel.tries = options.tries;
      lookups.push_back(std::make_unique<AresLookup>(host, channel));
      lookup_of.push_back(lookups.size() - 1);
    }
    answers.push_back(std::move(system));
  }
  for (const auto& server : references) {
    ChannelConfig channel;
    channel.servers = {server};
    channel.attempt_timeout = options.attempt_timeout;
    channel.tries = options.tries;
    lookups.push_back(std::make_unique<AresLookup>(host, channel));
    lookup_of.push_back(lookups.size() - 1);
    answers.push_back(ResolverAnswer{std::string(kReference), {}});
  }

  std::vector<AresLookup*> running;
  running.reserve(lookups.size());
  for (const auto& lookup : lookups) running.push_back(lookup.get());
  drive_lookups(running, context.deadline, context.cancel);
  for (std::size_t i = 0; i < answers.size(); ++i) {
    if (lookup_of[i] != kNone) answers[i].resolution = lookups[lookup_of[i]]->resolution();
  }
  result.set_phase(core::phase::resolve, std::chrono::steady_clock::now() - started);

  const auto judgement = judge_answers(answers, options.private_answers_expected);
  result.status = status_of(judgement.diagnosis);
  result.diagnosis = judgement.diagnosis;
  result.message = judgement.message;

  if (!answers.empty()) {
    const Resolution& primary = answers.front().resolution;
    if (!primary.addresses.empty()) result.set_fact("addresses", address_texts(primary));
    if (!primary.cname_chain.empty()) result.set_fact("cname_chain", primary.cname_chain);
    if (primary.min_ttl) result.set_fact("min_ttl", static_cast<std::int64_t>(*primary.min_ttl));
    if (!primary.server.empty()) result.set_fact("server", primary.server);
    if (primary.timeouts > 0) {
      result.set_fact("timed_out_tries", static_cast<std::int64_t>(primary.timeouts));
    }
  }
  if (options.use_system_resolver) result.set_fact("answered_by_hosts_file", hosts_answered);
  std::vector<std::string> per_resolver;
  per_resolver.reserve(answers.size());
  for (const auto& answer : answers) {
    per_resolver.push_back(answer.label() + ": " + answer.summary());
  }
  result.set_fact("answers", std::move(per_resolver));
  if (judgement.geo_difference) result.set_fact("geo_difference", true);
  return result;
}

}  // namespace

core::ProbeResult run_dns_probe(const core::Target& target, const DnsOptions& options,
                                const ProbeContext& context) noexcept {
  try {
    auto result = run(target, options, context);
    result.kind = DnsOptions::kind;
    result.target = target.to_string();
    return result;
  } catch (...) {
    core::ProbeResult failed;  // status error, PROBE_ERROR by default
    try {
      failed.message = "internal error in the DNS probe (out of memory?)";
    } catch (...) {
    }
    return failed;
  }
}

}  // namespace gwprobe::probes::dns
