// run_probe: the one dispatch from a ProbeSpec's options to its probe function.
#include "probes/probe.hpp"

#include <exception>
#include <string>
#include <type_traits>

#include "probes/dns/dns_probe.hpp"
#include "probes/e2e/e2e_probe.hpp"
#include "probes/idle/idle_probe.hpp"
#include "probes/proxy/proxy_probe.hpp"
#include "probes/tcp/tcp_probe.hpp"
#include "probes/tls/tls_probe.hpp"
#include "probes/websocket/websocket_probe.hpp"

namespace gwprobe::probes {

namespace {

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

}  // namespace

std::string_view kind_of(const ProbeOptions& options) noexcept {
  if (options.valueless_by_exception()) return "unknown";
  return std::visit(
      [](const auto& o) -> std::string_view { return std::decay_t<decltype(o)>::kind; }, options);
}

core::ProbeResult run_probe(const ProbeSpec& spec, const ProbeContext& context) noexcept {
  core::ProbeResult result;  // status error, PROBE_ERROR until a probe says otherwise
  try {
    // One line per probe kind.
    result = std::visit(
        Overloaded{
            [&](const dns::DnsOptions& o) { return dns::run_dns_probe(spec.target, o, context); },
            [&](const tcp::TcpOptions& o) { return tcp::run_tcp_probe(spec.target, o, context); },
            [&](const tls::TlsOptions& o) { return tls::run_tls_probe(spec.target, o, context); },
            [&](const proxy::ProxyOptions& o) {
              return proxy::run_proxy_probe(spec.target, o, context);
            },
            [&](const websocket::WebSocketOptions& o) {
              return websocket::run_websocket_probe(spec.target, o, context);
            },
            [&](const idle::IdleOptions& o) {
              return idle::run_idle_probe(spec.target, o, context);
            },
            [&](const e2e::E2eOptions& o) { return e2e::run_e2e_probe(spec.target, o, context); },
        },
        spec.options);
  } catch (const std::exception& e) {
    result = core::ProbeResult{};
    try {
      result.message = std::string("internal error: ") + e.what();
    } catch (...) {
    }
  } catch (...) {
    result = core::ProbeResult{};
  }
  try {
    result.kind = kind_of(spec.options);
    result.target = spec.target.to_string();
  } catch (...) {
    result.status = core::Status::error;
    result.diagnosis = core::Diagnosis::probe_error;
  }
  return result;
}

}  // namespace gwprobe::probes
