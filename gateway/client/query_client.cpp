// The sender's URL and options for a query, and send_query.
#include "gateway/client/query_client.hpp"

#include <exception>
#include <utility>

#include "core/url.hpp"
#include "gateway/protocol/crypto.hpp"
#include "gateway/protocol/hc_url.hpp"

namespace gwprobe::gateway::client {

namespace {

core::Unexpected bad(std::string message) {
  return core::fail(core::FailureKind::invalid_input, std::move(message));
}

}  // namespace

core::Result<PreparedQuery> prepare_query(const QueryOptions& options) {
  auto url = core::parse_url(options.relay_url);
  if (options.relay_url.empty() || !url) {
    return bad("the relay URL \"" + options.relay_url +
               "\" is not a URL (expected wss://HOST[:PORT]/$hc/PATH)");
  }
  if (url->scheme != "wss" && url->scheme != "ws") {
    return bad("the relay URL must be wss:// (or ws://), not " + url->scheme + "://");
  }
  if (url->host.empty()) return bad("the relay URL has no host");
  std::string path = url->path.substr(0, url->path.find('?'));
  if (path.rfind("/$hc/", 0) == 0) path = path.substr(5);
  while (!path.empty() && path.front() == '/') path.erase(0, 1);
  while (!path.empty() && path.back() == '/') path.pop_back();
  if (path.empty()) {
    return bad("the relay URL names no Hybrid Connection path (expected wss://HOST/$hc/PATH)");
  }
  auto decoded = core::percent_decode(path);
  if (!decoded) return bad("the relay URL's path is malformed: " + decoded.error().message);
  if (options.sql.empty()) return bad("the query (SQL) is empty");

  PreparedQuery prepared;
  prepared.target = core::Target{url->host, url->port};
  const std::string origin = url->origin();
  prepared.relay_url = protocol::hc_url(origin, *decoded, protocol::HcAction::none);
  prepared.relay_url = prepared.relay_url.substr(0, prepared.relay_url.find('?'));
  const std::string sender_url =
      protocol::hc_url(origin, *decoded, protocol::HcAction::connect, protocol::random_guid());

  auto& e2e = prepared.options;
  e2e.websocket.use_tls = url->scheme == "wss";
  e2e.websocket.path = sender_url.substr(origin.size());
  e2e.websocket.tls = options.tls;
  e2e.websocket.proxy = options.proxy;
  e2e.websocket.forward_proxy =
      !e2e.websocket.use_tls && options.proxy && options.proxy->url.scheme == "http";
  if (options.token_for) e2e.websocket.token = options.token_for(sender_url);
  e2e.datasource = options.datasource;
  e2e.sql = options.sql;
  e2e.sealed_credentials = options.sealed_credentials;
  e2e.keep_rows = options.keep_rows;
  if (auto valid = probes::e2e::validate(e2e); !valid) return core::fail(valid.error());
  return prepared;
}

QueryOutcome send_query(const QueryOptions& options, const probes::ProbeContext& context) noexcept {
  try {
    auto prepared = prepare_query(options);
    if (!prepared) {
      QueryOutcome outcome;
      outcome.result.kind = std::string(probes::e2e::E2eOptions::kind);
      outcome.result.message = "invalid query options: " + prepared.error().message;
      return outcome;
    }
    return probes::e2e::exchange_query(prepared->target, prepared->options, context);
  } catch (...) {
    return {};
  }
}

}  // namespace gwprobe::gateway::client
