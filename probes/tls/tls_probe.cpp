// run_tls_probe: the direct TLS probe (connect_tcp, then run_tls_over on the socket).
#include "probes/tls/tls_probe.hpp"

#include "probes/tcp/tcp_probe.hpp"

namespace gwprobe::probes::tls {

core::ProbeResult run_tls_probe(const core::Target& target, const TlsOptions& options,
                                const ProbeContext& context) noexcept {
  core::ProbeResult result;
  result.kind = std::string(TlsOptions::kind);
  result.target = target.to_string();
  const TransportOpener direct = [&](core::ProbeResult& into) -> std::unique_ptr<ByteStream> {
    tcp::TcpConnection connection = tcp::connect_tcp(target, options.tcp, context, into);
    if (!connection) return nullptr;
    return std::make_unique<SocketStream>(std::move(connection.fd));
  };
  auto session = run_tls_over(target, options, context, direct, result);
  if (session) session->shutdown();
  return result;
}

}  // namespace gwprobe::probes::tls
