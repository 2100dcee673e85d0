// The fixed RunReport behind the golden files: a realistic mix of outcomes (pass, warnings on the
// optional 9350 ports, TLS interception with issuer facts, NXDOMAIN, a skipped dependent check,
// an idle cut, a probe error) and one message full of unicode and hostile strings.
#pragma once

#include <chrono>
#include <string>

#include "core/report.hpp"

namespace gwprobe::reports::testdata {

/// A message a hostile or broken peer could make a probe repeat: markup, CDATA end, quotes, a
/// Markdown table breaker, an ANSI escape, a bell, a bidi override, invalid UTF-8 bytes, a
/// newline, and ordinary non-ASCII text that must survive.
inline const std::string kHostileMessage =
    "data source said: ERROR: relation \"sales|2024\" does not exist ]]> "
    "</script><script>alert('x')</script> & <b>bold</b> `tick` *star* _under_ "
    "\x1b[31mred\x1b[0m\x07 \xff\xfe\xc0\xaf naïve Straße 東京 \xe2\x80\xae"
    "evil\xe2\x80\xac\n"
    "second line";

inline core::ProbeResult sample_result(std::string id, std::string kind, std::string target,
                                       std::string endpoint, core::Status status,
                                       core::Diagnosis diagnosis, double ms) {
  core::ProbeResult r;
  r.id = std::move(id);
  r.kind = std::move(kind);
  r.target = std::move(target);
  r.endpoint = std::move(endpoint);
  r.status = status;
  r.diagnosis = diagnosis;
  r.duration = std::chrono::microseconds(static_cast<long long>(ms * 1000));
  return r;
}

inline std::chrono::microseconds ms(double v) {
  return std::chrono::microseconds(static_cast<long long>(v * 1000));
}

inline core::RunReport sample_report() {
  using core::Diagnosis;
  using core::Status;
  namespace phase = core::phase;
  core::RunReport report;
  report.tool_version = "0.1.0";
  report.profile = "contoso";
  report.profile_source = "/etc/gwprobe/contoso.toml";
  report.started_at =
      std::chrono::system_clock::time_point(std::chrono::milliseconds(1715679000250));
  report.duration = ms(243'216.4);
  report.verdict = core::Verdict::not_ready;
  report.notes = {{"proxy", "http://proxy.contoso.local:3128 (from HTTPS_PROXY)"},
                  {"resolvers", "10.0.0.53 (system), 192.0.2.53 (reference)"}};

  const std::string login = "login.microsoftonline.com";
  auto r = sample_result("dns:" + login, "dns", login, login, Status::pass, Diagnosis::ok, 14.2);
  r.message = "2 addresses from 10.0.0.53";
  r.set_phase(phase::resolve, ms(14.2));
  r.set_fact("addresses", std::vector<std::string>{"203.0.113.10", "203.0.113.11"});
  r.set_fact("ttl", std::int64_t{300});
  r.set_fact("server", std::string("10.0.0.53"));
  report.results.push_back(r);

  r = sample_result("tcp:" + login + ":443", "tcp", login + ":443", login, Status::pass,
                    Diagnosis::ok, 21.8);
  r.message = "connected to 203.0.113.10:443";
  r.set_phase(phase::connect, ms(21.8));
  report.results.push_back(r);

  r = sample_result("tls:" + login + ":443", "tls", login + ":443", login, Status::fail,
                    Diagnosis::tls_intercepted, 63.4);
  r.message =
      "certificate issued by \"Contoso TLS Inspection CA\", not a Microsoft or DigiCert root";
  r.advice =
      "Exclude *.microsoftonline.com and *.servicebus.windows.net from TLS inspection on the "
      "proxy or firewall: the gateway only accepts Microsoft's own certificates.";
  r.set_phase(phase::connect, ms(20.1));
  r.set_phase(phase::tls, ms(43.3));
  r.set_fact("tls_version", std::string("TLSv1.3"));
  r.set_fact("cipher", std::string("TLS_AES_256_GCM_SHA384"));
  r.set_fact("issuer", std::string("CN=Contoso TLS Inspection CA,O=Contoso Ltd"));
  r.set_fact("chain", std::vector<std::string>{"CN=login.microsoftonline.com",
                                               "CN=Contoso TLS Inspection CA,O=Contoso Ltd"});
  r.set_fact("cert_not_after_unix", std::int64_t{1767225600});
  report.results.push_back(r);

  const std::string relay_ep = "*.servicebus.windows.net";
  const std::string relay = "contoso-relay.servicebus.windows.net";
  r = sample_result("dns:" + relay, "dns", relay, relay_ep, Status::pass, Diagnosis::ok, 9.8);
  r.message = "1 address via 2 CNAMEs";
  r.set_phase(phase::resolve, ms(9.8));
  r.set_fact("cname_chain", std::vector<std::string>{"ns-sb2-prod-db3-001.cloudapp.net",
                                                     "ns-sb2-prod-db3-001.trafficmanager.net"});
  r.set_fact("addresses", std::vector<std::string>{"203.0.113.40"});
  report.results.push_back(r);

  for (const auto& [port, took] : {std::pair{443, 18.9}, std::pair{5671, 19.4}}) {
    r = sample_result("tcp:" + relay + ":" + std::to_string(port), "tcp",
                      relay + ":" + std::to_string(port), relay_ep, Status::pass, Diagnosis::ok,
                      took);
    r.message = "connected to 203.0.113.40:" + std::to_string(port);
    r.set_phase(phase::connect, ms(took));
    report.results.push_back(r);
  }
  for (const int port : {9350, 9351}) {
    r = sample_result("tcp:" + relay + ":" + std::to_string(port), "tcp",
                      relay + ":" + std::to_string(port), relay_ep, Status::warn,
                      Diagnosis::tcp_filtered, 3000.6);
    r.required = false;
    r.message = "no answer from 203.0.113.40:" + std::to_string(port) + " within 3.0 s";
    r.advice =
        "Optional while the gateway runs in HTTPS mode. For the faster direct TCP mode, allow "
        "outbound TCP 9350-9354 to *.servicebus.windows.net.";
    report.results.push_back(r);
  }

  r = sample_result("websocket:" + relay + ":443", "websocket", "wss://" + relay + "/$hc/gw-1",
                    relay_ep, Status::pass, Diagnosis::ok, 142.7);
  r.message = "101 Switching Protocols; echo frame returned";
  r.set_phase(phase::connect, ms(19.2));
  r.set_phase(phase::proxy, ms(11.6));
  r.set_phase(phase::tls, ms(44.9));
  r.set_phase(phase::upgrade, ms(52.3));
  r.set_phase(phase::first_byte, ms(14.7));
  report.results.push_back(r);

  r = sample_result("idle:" + relay + ":443", "idle", relay + ":443", relay_ep, Status::fail,
                    Diagnosis::idle_cut, 242'118.0);
  r.message = "connection reset after 240 s idle (needs 300 s)";
  r.advice =
      "Raise the idle timeout of the proxy, NAT or firewall on this path to at least 300 s "
      "(Azure NAT Gateway and Load Balancer default to 4 minutes).";
  r.set_phase(phase::connect, ms(19.0));
  r.set_phase(phase::tls, ms(45.1));
  r.set_fact("idle_cut_seconds", std::int64_t{240});
  r.set_fact("cut_bracket_seconds", std::vector<std::string>{"235", "245"});
  r.set_fact("cut_by", std::string("RST"));
  report.results.push_back(r);

  const std::string fe_ep = "*.frontend.clouddatahub.net";
  const std::string fe = "contoso.frontend.clouddatahub.net";
  r = sample_result("dns:" + fe, "dns", fe, fe_ep, Status::fail, Diagnosis::dns_nxdomain, 31.0);
  r.message = "10.0.0.53 says " + fe + " does not exist; 192.0.2.53 resolves it";
  r.advice =
      "Add a conditional forwarder for clouddatahub.net to a resolver that knows the public "
      "zone, or fix the split-DNS zone that shadows it.";
  r.set_phase(phase::resolve, ms(31.0));
  r.set_fact("rcode", std::string("NXDOMAIN"));
  r.set_fact("server", std::string("10.0.0.53"));
  report.results.push_back(r);

  r = sample_result("tcp:" + fe + ":443", "tcp", fe + ":443", fe_ep, Status::skip,
                    Diagnosis::skipped, 0);
  r.message = "not run: dns:" + fe + " failed";
  report.results.push_back(r);

  r = sample_result("e2e:relay.contoso.local/sales", "e2e", "wss://relay.contoso.local/$hc/sales",
                    "relay (end to end)", Status::fail, Diagnosis::e2e_query_failed, 388.5);
  r.message = kHostileMessage;
  r.advice = "Check the query and the data source on the gateway; the error above is its own.";
  r.set_phase(phase::connect, ms(0.4));
  r.set_phase(phase::tls, ms(3.1));
  r.set_phase(phase::upgrade, ms(2.2));
  r.set_phase(phase::first_byte, ms(375.0));
  r.set_fact("rows", std::int64_t{0});
  r.set_fact("query_ms", 371.25);
  r.set_fact("trailer_ok", false);
  report.results.push_back(r);

  r = sample_result("capture:any", "capture", "any", "", Status::error, Diagnosis::probe_error,
                    0.4);
  r.message = "cannot open a capture on any: permission denied";
  r.advice = "Run as root or grant CAP_NET_RAW to capture packets when a check fails.";
  report.results.push_back(r);

  report.counts = core::count_results(report.results);
  report.findings = {
      {Diagnosis::tls_intercepted,
       Status::fail,
       "TLS inspection by \"Contoso TLS Inspection CA\" re-signs login.microsoftonline.com",
       "Exclude *.microsoftonline.com and *.servicebus.windows.net from TLS inspection; the "
       "gateway pins Microsoft's certificates and cannot work through re-signed TLS.",
       {"tls:" + login + ":443"}},
      {Diagnosis::dns_nxdomain,
       Status::fail,
       fe + " does not resolve on the system resolver (10.0.0.53)",
       "Forward clouddatahub.net to a resolver that knows the public zone.",
       {"dns:" + fe}},
      {Diagnosis::idle_cut,
       Status::fail,
       "Idle connections to the relay are cut after 240 s; the gateway needs 300 s",
       "Raise the idle timeout on the proxy, NAT or firewall to at least 300 s.",
       {"idle:" + relay + ":443"}},
      {Diagnosis::tcp_filtered,
       Status::warn,
       "TCP 9350-9351 to " + relay + " is filtered (optional in HTTPS mode)",
       "Nothing to do while the gateway runs in HTTPS mode.",
       {"tcp:" + relay + ":9350", "tcp:" + relay + ":9351"}},
  };
  return report;
}

/// Every check passed: the READY case.
inline core::RunReport ready_report() {
  core::RunReport report;
  report.tool_version = "0.1.0";
  report.profile = "local";
  report.profile_source = "embedded";
  report.started_at =
      std::chrono::system_clock::time_point(std::chrono::milliseconds(1715679000000));
  report.duration = ms(35.0);
  report.verdict = core::Verdict::ready;
  auto r = sample_result("tcp:127.0.0.1:8443", "tcp", "127.0.0.1:8443", "127.0.0.1",
                         core::Status::pass, core::Diagnosis::ok, 0.3);
  r.set_phase(core::phase::connect, ms(0.3));
  report.results.push_back(r);
  report.counts = core::count_results(report.results);
  return report;
}

/// A run that selected nothing (or was interrupted before any check finished).
inline core::RunReport empty_report() {
  core::RunReport report;
  report.tool_version = "0.1.0";
  report.profile = "local";
  report.started_at =
      std::chrono::system_clock::time_point(std::chrono::milliseconds(1715679000000));
  report.verdict = core::Verdict::not_ready;
  report.interrupted = true;
  return report;
}

}  // namespace gwprobe::reports::testdata
