// The WebSocket probe: transport (direct, tunnel, forward request), TLS, upgrade, verdict, and
// the ping round trip.
#include "probes/websocket/websocket_probe.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <string>

#include "core/duration.hpp"
#include "probes/proxy/tunnel.hpp"
#include "probes/tcp/tcp_probe.hpp"
#include "probes/tls/tls_probe.hpp"

namespace gwprobe::probes::websocket {

namespace {

using core::Diagnosis;
using core::Status;

constexpr std::size_t kNonceBytes = 8;

std::string random_hex() {
  std::array<unsigned char, kNonceBytes> bytes{};
  RAND_bytes(bytes.data(), static_cast<int>(bytes.size()));
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (auto b : bytes) {
    out += kDigits[b >> 4];
    out += kDigits[b & 15];
  }
  return out;
}

std::string base64(const std::string& in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(in.data()),
                                static_cast<int>(in.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

/// "relay.example" or "relay.example:9443" (the port only when not the scheme's default).
std::string host_header(const core::Target& target, bool tls) {
  const std::uint16_t default_port = tls ? 443 : 80;
  if (target.port == default_port) return core::Target{target.host, 0}.to_string();
  return target.to_string();
}

UpgradePath path_of(const WebSocketOptions& options) {
  if (options.use_tls) return UpgradePath::tls_end_to_end;
  if (options.forward_proxy) return UpgradePath::forward_proxy;
  return options.proxy ? UpgradePath::plain_tunnel : UpgradePath::plain_direct;
}

std::string_view describe(UpgradePath path, bool proxied) {
  switch (path) {
    case UpgradePath::tls_end_to_end:
      return proxied ? "wss through a CONNECT tunnel" : "wss direct";
    case UpgradePath::plain_direct:
      return "ws direct";
    case UpgradePath::plain_tunnel:
      return "ws through a CONNECT tunnel";
    case UpgradePath::forward_proxy:
      return "ws as a forward-proxy request";
  }
  return "";
}

std::string_view to_string(Answerer a) {
  switch (a) {
    case Answerer::server:
      return "server";
    case Answerer::proxy:
      return "proxy";
    case Answerer::unknown:
      break;
  }
  return "unknown";
}

/// The bytes under the WebSocket, or null with `into` saying why.
std::optional<Transport> open_transport(const core::Target& target, const WebSocketOptions& options,
                                        const ProbeContext& context, core::ProbeResult& into) {
  if (options.forward_proxy) {
    const auto& proxy = *options.proxy;
    into.set_fact(proxy::fact::proxy, proxy.url.redacted());
    if (!proxy.source.empty()) into.set_fact(proxy::fact::proxy_source, proxy.source);
    core::ProbeResult leg;
    auto connection =
        tcp::connect_tcp(core::Target{proxy.url.host, proxy.url.port}, options.tcp, context, leg);
    for (const auto& p : leg.phases) into.set_phase(p.name, p.duration);
    if (!connection) {
      const bool cancelled = leg.diagnosis == Diagnosis::probe_cancelled;
      core::set_verdict(into, cancelled ? Diagnosis::probe_cancelled : Diagnosis::proxy_unreachable,
                        "cannot connect to the proxy " + proxy.url.redacted() + ": " + leg.message);
      return std::nullopt;
    }
    return Transport(std::make_unique<tls::SocketStream>(std::move(connection.fd)));
  }
  if (options.use_tls) {
    tls::TlsOptions tls_options = options.tls;
    tls_options.proxy = options.proxy;
    tls_options.tcp = options.tcp;
    const auto open = tls::transport_for(target, tls_options, context);
    auto session = tls::run_tls_over(target, tls_options, context, open, into);
    if (!session) return std::nullopt;  // run_tls_over said why
    if (into.status != Status::pass && into.status != Status::warn) {
      // The chain is intercepted or untrusted: the gateway would stop here, and so do we.
      session->shutdown();
      return std::nullopt;
    }
    return Transport(std::move(*session));
  }
  std::unique_ptr<tls::ByteStream> stream;
  if (options.proxy) {
    stream = proxy::open_tunnel(target, *options.proxy, context, into);
  } else {
    auto connection = tcp::connect_tcp(target, options.tcp, context, into);
    if (connection) stream = std::make_unique<tls::SocketStream>(std::move(connection.fd));
  }
  if (!stream) return std::nullopt;
  return Transport(std::move(stream));
}

std::optional<std::size_t> open(const core::Target& target, const WebSocketOptions& options,
                                const ProbeContext& context, WebSocketGroup& group,
                                core::ProbeResult& into) {
  if (into.kind.empty()) into.kind = std::string(WebSocketOptions::kind);
  if (into.target.empty()) into.target = target.to_string();
  if (auto valid = validate(options); !valid) {
    core::set_verdict(into, Diagnosis::probe_error,
                      "invalid WebSocket options: " + valid.error().message);
    return std::nullopt;
  }
  const auto path = path_of(options);
  const std::string host = host_header(target, options.use_tls);
  const std::string url = std::string(options.use_tls ? "wss://" : "ws://") + host + options.path;
  into.set_fact(fact::url, url);
  into.set_fact(fact::path_kind, std::string(describe(path, options.proxy.has_value())));

  UpgradeRequest request;
  request.host = host;
  request.target = options.forward_proxy ? "http://" + host + options.path : options.path;
  if (options.token) {
    auto token = options.token();
    if (!token) {
      core::set_verdict(into, Diagnosis::probe_error,
                        "cannot make the relay token: " + token.error().message);
      return std::nullopt;
    }
    request.secret_headers.emplace_back("ServiceBusAuthorization", token->token);
    into.set_fact(fact::token, "ServiceBusAuthorization: " + token->description);
  } else {
    into.set_fact(fact::token, std::string("none configured"));
  }
  const bool proxy_credentials = options.forward_proxy && options.proxy->has_credentials();
  if (proxy_credentials) {
    const auto& u = options.proxy->url;
    request.secret_headers.emplace_back(
        "Proxy-Authorization", core::Secret("Basic " + base64(u.user + ":" + u.password.reveal())));
  }

  auto transport = open_transport(target, options, context, into);
  if (!transport) return std::nullopt;
  const std::size_t id = group.add(std::move(*transport));

  const auto started = core::SteadyClock::now();
  auto answer = group.upgrade(id, request, context.deadline, context.cancel);
  into.set_phase(core::phase::upgrade, core::SteadyClock::now() - started);
  if (!answer) {
    const auto& e = answer.error();
    if (e.kind == core::FailureKind::cancelled) {
      core::set_verdict(into, Diagnosis::probe_cancelled, url + ": cancelled during the upgrade");
    } else {
      core::set_verdict(into, Diagnosis::ws_upgrade_denied,
                        url + ": " + e.message +
                            (e.kind == core::FailureKind::timeout
                                 ? " (something on the path holds or drops upgrade requests)"
                                 : std::string()) +
                            (e.cause.empty() ? std::string() : " (" + e.cause + ")"));
    }
    return std::nullopt;
  }

  into.set_fact(fact::http_status, static_cast<std::int64_t>(answer->status));
  into.set_fact(fact::status_line,
                "HTTP/1.1 " + std::to_string(answer->status) + " " + answer->reason);
  if (const auto server = answer->header("Server"); !server.empty()) {
    into.set_fact(fact::server, server);
  }
  if (const auto via = answer->header("Via"); !via.empty()) into.set_fact(fact::via, via);
  if (answer->status == 101) {
    into.set_fact(fact::answered_by, std::string("server"));
    return id;
  }
  const auto verdict =
      judge_upgrade_answer(*answer, path, static_cast<bool>(options.token), proxy_credentials);
  into.set_fact(fact::answered_by, std::string(to_string(verdict.answered_by)));
  core::set_verdict(into, verdict.diagnosis, url + ": " + verdict.reason);
  return std::nullopt;
}

/// How an ended connection is worded: "closed (FIN)", "reset (RST)", "closed with 1001 ...".

constexpr int kPolicyViolation = 1008;  // RFC 6455: the relay's "token expired or invalid"

core::ProbeResult probe(const core::Target& target, const WebSocketOptions& options,
                        const ProbeContext& context) {
  core::ProbeResult result;
  result.kind = std::string(WebSocketOptions::kind);
  result.target = target.to_string();
  WebSocketGroup group;
  const auto id = open_websocket(target, options, context, group, result);
  if (!id) return result;
  const std::string url = result.fact_text(fact::url);
  const auto upgrade_took = [&] {
    for (const auto& p : result.phases) {
      if (p.name == core::phase::upgrade) return core::format_duration(p.duration);
    }
    return std::string("?");
  }();

  group.watch(*id);
  const std::string nonce = "gwprobe " + random_hex();
  const auto ping_sent = core::SteadyClock::now();
  group.ping(*id, nonce);
  std::optional<core::SteadyClock::duration> rtt;
  std::optional<ConnectionEvent> ended;
  bool echoed = !options.echo;
  bool echo_sent = false;
  const std::string echo_text = "gwprobe echo " + random_hex();
  while ((!rtt || !echoed) && !ended) {
    if (context.cancel.cancelled() || context.deadline.expired()) break;
    for (const auto& e : group.wait(context.deadline.when(), context.cancel)) {
      if (e.kind == ConnectionEvent::Kind::pong && e.detail == nonce && !rtt) {
        rtt = e.at - ping_sent;
      } else if (e.kind == ConnectionEvent::Kind::message && e.detail == echo_text) {
        echoed = true;
      } else if (e.kind == ConnectionEvent::Kind::ended) {
        ended = e;
      }
    }
    if (rtt && !echoed && !echo_sent) {
      group.send_text(*id, echo_text);
      echo_sent = true;
    }
  }

  if (rtt) {
    result.set_phase(core::phase::transfer, *rtt);
    result.set_fact(fact::ping_rtt_ms, core::to_ms(*rtt));
  }
  if (ended) result.set_fact(fact::end, describe_end(*ended));
  if (rtt && echoed) {
    group.close(*id);
    core::set_verdict(result, Diagnosis::ok,
                      url + ": 101 in " + upgrade_took + ", ping answered in " +
                          core::format_duration(*rtt) + (options.echo ? ", echo returned" : ""));
    return result;
  }
  if (context.cancel.cancelled() && !ended) {
    core::set_verdict(result, Diagnosis::probe_cancelled, url + ": cancelled after the upgrade");
    return result;
  }
  if (ended && ended->end.kind == EndKind::close_frame && ended->close_code == kPolicyViolation) {
    core::set_verdict(result, Diagnosis::relay_auth_failed,
                      url + ": the relay accepted the upgrade, then " + describe_end(*ended) +
                          ": the token was refused or expired");
    return result;
  }
  std::string what = !rtt ? "the ping got no pong" : "the echo did not come back";
  if (ended) {
    what += ": the connection was " + describe_end(*ended) + " after the 101";
  } else {
    what += " before the deadline";
  }
  core::set_verdict(result, Diagnosis::ws_frames_blocked,
                    url + ": 101 in " + upgrade_took + ", but " + what);
  return result;
}

}  // namespace

std::optional<std::size_t> open_websocket(const core::Target& target,
                                          const WebSocketOptions& options,
                                          const ProbeContext& context, WebSocketGroup& group,
                                          core::ProbeResult& into) noexcept {
  try {
    return open(target, options, context, group, into);
  } catch (const std::exception& e) {
    try {
      core::set_verdict(into, Diagnosis::probe_error,
                        std::string("WebSocket probe failed: ") + e.what());
    } catch (...) {
    }
  } catch (...) {
    into.status = Status::error;
    into.diagnosis = Diagnosis::probe_error;
  }
  return std::nullopt;
}

core::ProbeResult run_websocket_probe(const core::Target& target, const WebSocketOptions& options,
                                      const ProbeContext& context) noexcept {
  try {
    return probe(target, options, context);
  } catch (...) {
    core::ProbeResult failed;
    try {
      failed.message = "internal error in the WebSocket probe";
    } catch (...) {
    }
    return failed;
  }
}

}  // namespace gwprobe::probes::websocket
