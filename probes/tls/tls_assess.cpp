// run_tls_over: the handshake attempts and the verdicts on what they produced. The order in which
// findings are reported (one diagnosis per result; every one found is listed in the fact
// "tls_problems"): interception, untrusted, pin mismatch, version below the profile's minimum,
// expired / not yet valid, name mismatch, expiring soon.
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <exception>
#include <string>
#include <vector>

#include "probes/tls/cert_facts.hpp"
#include "probes/tls/interception.hpp"
#include "probes/tls/tls_probe.hpp"
#include "probes/tls/trust_store.hpp"

namespace gwprobe::probes::tls {

namespace {

using core::Diagnosis;
using core::ProbeResult;
using core::Status;

constexpr std::size_t kNamesInMessages = 3;

constexpr const char* kTooOldAdvice =
    "Enable TLS 1.2 (better 1.3) on the server, or on the proxy or TLS-inspection device in the "
    "path if that is what answers.";

struct Finding {
  Diagnosis diagnosis;
  std::string reason;
  std::string advice;
};

void finish(ProbeResult& into, Diagnosis diagnosis, std::string message, std::string advice = {}) {
  into.diagnosis = diagnosis;
  if (diagnosis == Diagnosis::ok) {
    into.status = Status::pass;
  } else if (diagnosis == Diagnosis::probe_cancelled || diagnosis == Diagnosis::probe_error) {
    into.status = Status::error;
  } else if (diagnosis == Diagnosis::tls_cert_expiring) {
    into.status = Status::warn;
  } else {
    into.status = Status::fail;
  }
  into.message = std::move(message);
  into.advice = std::move(advice);
}

std::string_view to_string(ChainTrust t) {
  switch (t) {
    case ChainTrust::expected:
      return "expected";
    case ChainTrust::not_judged:
      return "not_judged";
    case ChainTrust::intercepted:
      return "intercepted";
    case ChainTrust::untrusted:
      return "untrusted";
  }
  return "untrusted";
}

bool name_matches(X509* leaf, const std::string& name) {
  if (core::is_ip_literal(name)) return X509_check_ip_asc(leaf, name.c_str(), 0) == 1;
  return X509_check_host(leaf, name.c_str(), name.size(), X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS,
                         nullptr) == 1;
}

std::string names_of(const CertFacts& leaf) {
  if (leaf.sans.empty()) return leaf.subject_cn.empty() ? "no name" : "CN=" + leaf.subject_cn;
  std::string out;
  for (std::size_t i = 0; i < leaf.sans.size() && i < kNamesInMessages; ++i) {
    if (i > 0) out += ", ";
    out += leaf.sans[i];
  }
  if (leaf.sans.size() > kNamesInMessages) out += ", ...";
  return out;
}

std::string days(std::int64_t n) {
  return std::to_string(n) + (n == 1 || n == -1 ? " day" : " days");
}

/// Facts of the negotiated session.
void record_session_facts(const TlsSession& session, ProbeResult& into) {
  into.set_fact("tls_version", session.version());
  into.set_fact("tls_cipher", session.cipher());
  into.set_fact("tls_alpn", session.alpn());
}

/// Everything after a completed TLS 1.2+ handshake.
void assess(const TlsSession& session, const std::string& label, const std::string& name,
            const TlsOptions& options, const TrustMaterial& trust, ProbeResult& into) {
  record_session_facts(session, into);
  const auto chain = session.peer_chain();
  std::vector<X509*> presented;
  presented.reserve(chain.size());
  for (const auto& c : chain) presented.push_back(c.get());
  if (presented.empty()) {
    finish(into, Diagnosis::tls_untrusted, label + ": the server presented no certificate",
           "Configure a certificate on the server.");
    return;
  }

  const auto presented_facts = chain_facts(presented);
  const auto verification = verify_chain(presented, trust);
  const auto expected = expected_roots_for(options, trust, presented);
  const auto verdict = judge_chain(verification, expected);
  const bool verified = verification.problem == VerifyProblem::none;
  const auto& checked = verified ? verification.path : presented_facts;

  record_chain_facts(presented_facts, checked, into);
  into.set_fact("tls_verify_result", verified ? std::string("ok") : verification.error_text);
  if (verified) {
    into.set_fact("trust_anchor", verification.path.back().display_name());
    into.set_fact("trust_anchor_sha256", verification.path.back().sha256);
  }
  into.set_fact("tls_trust", std::string(to_string(verdict.trust)));
  into.set_fact("tls_trust_rule", std::string(to_string(verdict.rule)));
  if (!expected.empty()) into.set_fact("expected_roots", expected.describe());

  // "issuer" and "not_after" are the keys rules/diagnosis.hpp reads for its advice and titles.
  into.set_fact("issuer", verdict.issuing_ca);

  std::vector<Finding> findings;
  if (verdict.trust == ChainTrust::intercepted) {
    into.set_fact("issuing_ca", verdict.issuing_ca);
    findings.push_back({Diagnosis::tls_intercepted, verdict.reason, verdict.advice});
  } else if (verdict.trust == ChainTrust::untrusted) {
    findings.push_back({Diagnosis::tls_untrusted, verdict.reason, verdict.advice});
  }

  if (!options.spki_pins.empty()) {
    std::vector<std::string> pins;
    for (const auto& p : options.spki_pins) {
      if (auto n = normalize_spki_pin(p)) pins.push_back(*n);
    }
    const bool pinned =
        chain_matches_pins(presented_facts, pins) || chain_matches_pins(verification.path, pins);
    into.set_fact("tls_pin_match", pinned);
    if (!pinned) {
      findings.push_back({Diagnosis::tls_pin_mismatch,
                          "no certificate in the chain matches the " + std::to_string(pins.size()) +
                              " SPKI pin(s) of the profile",
                          "If the service's keys changed legitimately, update the pins in the "
                          "profile; otherwise something on the path re-signs the connection."});
    }
  }

  if (options.min_version == MinVersion::tls1_3 && SSL_version(session.ssl()) < TLS1_3_VERSION) {
    findings.push_back(
        {Diagnosis::tls_version_too_old,
         "negotiated " + session.version() + " but the profile requires TLS 1.3 or later",
         kTooOldAdvice});
  }

  const auto expiry = check_expiry(checked, WallClock::now(), options.expiry_warning_days);
  const CertFacts& dated = checked[std::min(expiry.index, checked.size() - 1)];
  into.set_fact("not_after", format_rfc3339(dated.not_after_unix));
  if (expiry.state == ExpiryCheck::State::expired) {
    findings.push_back({Diagnosis::tls_cert_expired,
                        "certificate '" + dated.display_name() + "' expired on " +
                            format_rfc3339(dated.not_after_unix) + " (" + days(-expiry.days_left) +
                            " ago)",
                        "Renew the certificate (if it comes from a TLS-inspection device, that "
                        "device's certificate)."});
  } else if (expiry.state == ExpiryCheck::State::not_yet_valid) {
    findings.push_back({Diagnosis::tls_cert_expired,
                        "certificate '" + dated.display_name() + "' is not valid before " +
                            format_rfc3339(dated.not_before_unix),
                        "Check this machine's clock, or the certificate's start date."});
  }

  const bool name_ok = name_matches(presented[0], name);
  into.set_fact("tls_name_matches", name_ok);
  if (!name_ok) {
    findings.push_back(
        {Diagnosis::tls_name_mismatch,
         "the certificate is for " + names_of(presented_facts[0]) + ", not '" + name + "'",
         "Probe the name the service's certificate is issued for, or fix the "
         "certificate's subjectAltName."});
  }

  if (expiry.state == ExpiryCheck::State::expiring) {
    findings.push_back({Diagnosis::tls_cert_expiring,
                        "certificate '" + dated.display_name() + "' expires on " +
                            format_rfc3339(dated.not_after_unix) + " (in " +
                            days(expiry.days_left) + ")",
                        "Renew the certificate before it expires."});
  }

  std::vector<std::string> codes;
  codes.reserve(findings.size());
  for (const auto& f : findings) codes.emplace_back(core::to_code(f.diagnosis));
  into.set_fact("tls_problems", codes);

  if (findings.empty()) {
    finish(into, Diagnosis::ok,
           label + ": " + session.version() + " (" + session.cipher() + "); " + verdict.reason +
               "; valid until " + format_rfc3339(dated.not_after_unix) + " (" +
               days(expiry.days_left) + " left)");
    return;
  }
  finish(into, findings.front().diagnosis, label + ": " + findings.front().reason,
         findings.front().advice);
}

std::optional<TlsSession> run(const core::Target& target, const TlsOptions& options,
                              const ProbeContext& context, const TransportOpener& open,
                              ProbeResult& into) {
  if (into.kind.empty()) into.kind = std::string(TlsOptions::kind);
  if (into.target.empty()) into.target = target.to_string();
  if (auto valid = validate(options); !valid) {
    finish(into, Diagnosis::probe_error, "invalid TLS options: " + valid.error().describe());
    return std::nullopt;
  }
  auto trust = load_trust_material(options);
  if (!trust) {
    finish(into, Diagnosis::probe_error, trust.error().describe());
    return std::nullopt;
  }

  const std::string name = options.servername.empty() ? target.host : options.servername;
  const std::string sni = core::is_ip_literal(name) ? std::string() : name;
  const std::string label =
      name == target.host ? target.to_string() : target.to_string() + " (" + name + ")";
  into.set_fact("tls_servername", name);
  into.set_fact("tls_sni", sni);

  auto stream = open(into);
  if (!stream) return std::nullopt;  // the opener said why (connect, proxy)

  HandshakeSettings modern;
  modern.sni = sni;
  modern.min_version = TLS1_2_VERSION;
  modern.alpn = options.alpn;
  auto hs = tls_handshake(std::move(stream), modern, context.deadline, context.cancel);
  into.set_phase(core::phase::tls, hs.duration);
  if (hs.session) {
    assess(*hs.session, label, name, options, *trust, into);
    return std::move(hs.session);
  }

  const TlsFailure failure = from_openssl(hs.failure);
  if (!hs.failure.error_text.empty()) into.set_fact("tls_error", hs.failure.error_text);
  if (!hs.failure.alert_received.empty()) into.set_fact("tls_alert", hs.failure.alert_received);
  into.set_fact("tls_bytes_received", static_cast<std::int64_t>(hs.failure.bytes_received));

  if (failure.retry_with_legacy_versions && !context.deadline.expired() &&
      !context.cancel.cancelled()) {
    // A second connection, allowed TLS 1.0/1.1 only, to tell "too old" from "broken". Its
    // connect phases go to a scratch result: the report keeps the first connection's.
    ProbeResult scratch;
    if (auto legacy_stream = open(scratch)) {
      HandshakeSettings legacy;
      legacy.sni = sni;
      legacy.min_version = TLS1_VERSION;
      legacy.max_version = TLS1_1_VERSION;
      legacy.legacy = true;
      legacy.alpn = options.alpn;
      auto old = tls_handshake(std::move(legacy_stream), legacy, context.deadline, context.cancel);
      if (old.session) {
        record_session_facts(*old.session, into);
        const auto chain = old.session->peer_chain();
        std::vector<X509*> presented;
        presented.reserve(chain.size());
        for (const auto& c : chain) presented.push_back(c.get());
        const auto facts = chain_facts(presented);
        record_chain_facts(facts, facts, into);
        old.session->shutdown();
        finish(into, Diagnosis::tls_version_too_old,
               label + ": only " + old.session->version() +
                   " could be negotiated; the gateway needs TLS 1.2 or later. TLS 1.2+ attempt: " +
                   failure.reason,
               kTooOldAdvice);
        return std::nullopt;
      }
      into.set_fact("tls_legacy_attempt", from_openssl(old.failure).reason);
    } else {
      into.set_fact("tls_legacy_attempt", "could not reconnect: " + scratch.message);
    }
  }

  const bool cancelled = failure.diagnosis == Diagnosis::probe_cancelled;
  finish(into, failure.diagnosis, label + ": " + failure.reason,
         cancelled ? std::string()
                   : std::string("Check that the port serves TLS and that nothing on the path "
                                 "(proxy, firewall, TLS-inspection device) breaks the handshake."));
  return std::nullopt;
}

}  // namespace

std::optional<TlsSession> run_tls_over(const core::Target& target, const TlsOptions& options,
                                       const ProbeContext& context, const TransportOpener& open,
                                       core::ProbeResult& into) noexcept {
  try {
    return run(target, options, context, open, into);
  } catch (const std::exception& e) {
    finish(into, Diagnosis::probe_error, std::string("TLS probe failed: ") + e.what());
  } catch (...) {
    finish(into, Diagnosis::probe_error, "TLS probe failed: unknown exception");
  }
  ERR_clear_error();
  return std::nullopt;
}

}  // namespace gwprobe::probes::tls
