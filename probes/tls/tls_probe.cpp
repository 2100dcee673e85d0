// run_tls_probe: the TLS probe on its own transport: connect_tcp (direct), or a CONNECT tunnel
// when options.proxy is set; then run_tls_over on it.
#include "probes/tls/tls_probe.hpp"

#include "probes/proxy/tunnel.hpp"
#include "probes/tcp/tcp_probe.hpp"

namespace gwprobe::probes::tls {

TransportOpener transport_for(const core::Target& target, const TlsOptions& options,
                              const ProbeContext& context) {
  if (options.proxy) {
    return [&target, &options, &context](core::ProbeResult& into) {
      return proxy::open_tunnel(target, *options.proxy, context, into);
    };
  }
  return [&target, &options, &context](core::ProbeResult& into) -> std::unique_ptr<ByteStream> {
    tcp::TcpConnection connection = tcp::connect_tcp(target, options.tcp, context, into);
    if (!connection) return nullptr;
    return std::make_unique<SocketStream>(std::move(connection.fd));
  };
}

core::ProbeResult run_tls_probe(const core::Target& target, const TlsOptions& options,
                                const ProbeContext& context) noexcept {
  core::ProbeResult result;
  result.kind = std::string(TlsOptions::kind);
  result.target = target.to_string();
  TransportOpener open;
  try {
    open = transport_for(target, options, context);
  } catch (...) {
    result.message = "internal error in the TLS probe";  // status error, PROBE_ERROR
    return result;
  }
  auto session = run_tls_over(target, options, context, open, result);
  if (session) session->shutdown();
  if (options.proxy && !result.message.empty() && result.diagnosis == core::Diagnosis::ok) {
    result.message += " (through " + options.proxy->url.redacted() + ")";
  }
  return result;
}

}  // namespace gwprobe::probes::tls
