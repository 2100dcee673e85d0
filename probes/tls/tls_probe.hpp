// The TLS probe: a handshake on a connection gwprobe owns (direct, or over any ByteStream such
// as a proxy tunnel), the chain's facts, and the verdicts: version, trust/interception, pins,
// expiry and name.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/cancel.hpp"
#include "core/deadline.hpp"
#include "core/probe_result.hpp"
#include "core/target.hpp"
#include "probes/probe.hpp"
#include "probes/tls/byte_stream.hpp"
#include "probes/tls/openssl_errors.hpp"
#include "probes/tls/openssl_handles.hpp"
#include "probes/tls/tls_options.hpp"

namespace gwprobe::probes::tls {

/// An established TLS connection: the SSL object and the stream under it (both owned). The
/// WebSocket probe carries on over it; every read and write is bounded by a deadline and woken
/// by a cancel token, like the handshake.
class TlsSession {
 public:
  TlsSession(std::unique_ptr<ByteStream> stream, SslPtr ssl) noexcept;
  TlsSession(TlsSession&&) noexcept = default;
  TlsSession& operator=(TlsSession&& other) noexcept;
  ~TlsSession() = default;

  SSL* ssl() const noexcept { return ssl_.get(); }
  ByteStream& stream() noexcept { return *stream_; }

  std::string version() const;              ///< "TLSv1.3"
  std::string cipher() const;               ///< IANA name, "TLS_AES_256_GCM_SHA384"
  std::string alpn() const;                 ///< the selected protocol, "" when none
  std::vector<X509Ptr> peer_chain() const;  ///< as presented, leaf first

  /// Reads at least one byte; 0 means the peer closed the TLS session.
  core::Result<std::size_t> read_some(std::span<std::byte> into, const core::Deadline& deadline,
                                      const core::CancelToken& cancel);
  core::Result<void> write_all(std::span<const std::byte> data, const core::Deadline& deadline,
                               const core::CancelToken& cancel);
  /// Sends close_notify without waiting for the peer's (best effort, never blocks).
  void shutdown() noexcept;

 private:
  std::unique_ptr<ByteStream> stream_;  // declared first: destroyed after the SSL that uses it
  SslPtr ssl_;
};

/// How one handshake attempt is made.
struct HandshakeSettings {
  std::string sni;  ///< "" = send no server_name
  int min_version = TLS1_2_VERSION;
  int max_version = 0;  ///< 0 = the highest the library supports (TLS 1.3)
  /// Security level 0 and legacy ciphers: only for the one retry that tells TLS_VERSION_TOO_OLD
  /// from TLS_HANDSHAKE_FAILED, never for a connection that carries data.
  bool legacy = false;
  std::vector<std::string> alpn;
};

struct HandshakeResult {
  std::optional<TlsSession> session;  ///< set when the handshake completed
  OpenSslFailure failure;             ///< what stopped it otherwise (map with from_openssl)
  std::chrono::nanoseconds duration{0};
};

/// A TLS client handshake over `stream`: non-blocking, each wait bounded by `deadline` and woken
/// by `cancel`. Certificate verification is off on purpose: the chain is judged afterwards, so a
/// bad chain still yields its facts.
HandshakeResult tls_handshake(std::unique_ptr<ByteStream> stream, const HandshakeSettings& settings,
                              const core::Deadline& deadline,
                              const core::CancelToken& cancel) noexcept;

/// Opens a fresh transport for one handshake attempt: a connected socket for a direct probe, a
/// CONNECT tunnel (as a ByteStream) through a proxy. It records its own phases and facts into
/// `into`; on failure it also sets status, diagnosis and message there and returns null.
using TransportOpener = std::function<std::unique_ptr<ByteStream>(core::ProbeResult& into)>;

/// The TLS check over transports from `open`: a TLS 1.2+ handshake (SNI, ALPN), then the chain,
/// trust/interception, pin, version, expiry and name verdicts, all recorded into `into` with the
/// "tls" phase. When the modern handshake is turned down, a second transport is opened for one
/// TLS 1.0/1.1 attempt to tell TLS_VERSION_TOO_OLD from TLS_HANDSHAKE_FAILED. Returns the
/// session of a completed TLS 1.2+ handshake (whatever the verdict) so that a caller such as
/// the WebSocket probe can carry on over it; nullopt otherwise. Never throws.
std::optional<TlsSession> run_tls_over(const core::Target& target, const TlsOptions& options,
                                       const ProbeContext& context, const TransportOpener& open,
                                       core::ProbeResult& into) noexcept;

/// The transport the TLS probe (and the WebSocket and idle probes) run over: a CONNECT tunnel
/// through options.proxy when set, else a direct tcp::connect_tcp. The returned opener refers to
/// its arguments, which must outlive it.
TransportOpener transport_for(const core::Target& target, const TlsOptions& options,
                              const ProbeContext& context);

/// The TLS probe: transport_for + run_tls_over, phases resolve, connect (proxy) and tls in one
/// result.
core::ProbeResult run_tls_probe(const core::Target& target, const TlsOptions& options,
                                const ProbeContext& context) noexcept;

}  // namespace gwprobe::probes::tls
