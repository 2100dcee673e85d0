// Plan building: the only place that knows how profile endpoints map onto probes.
#include "cli/plan_builder.hpp"

#include <map>

#include "core/target.hpp"
#include "gateway/client/query_client.hpp"
#include "probes/idle/idle_options.hpp"

namespace gwprobe::cli {

namespace {

class PlanAssembler {
 public:
  explicit PlanAssembler(const PlanSettings& settings) : settings_(settings) {}

  bool wants(const std::string& kind) const {
    return settings_.only_kinds.empty() || settings_.only_kinds.count(kind) > 0;
  }

  /// Adds a spec, or merges it into an existing one with the same id; returns its index.
  std::optional<std::size_t> add(probes::ProbeSpec spec) {
    if (const auto found = index_.find(spec.id); found != index_.end()) {
      auto& existing = plan_[found->second];
      existing.required = existing.required || spec.required;
      return found->second;
    }
    index_[spec.id] = plan_.size();
    plan_.push_back(std::move(spec));
    return plan_.size() - 1;
  }

  std::vector<probes::ProbeSpec> take() { return std::move(plan_); }

  /// The index of the check with this id, if planned.
  std::optional<std::size_t> find(const std::string& id) const {
    const auto found = index_.find(id);
    if (found == index_.end()) return std::nullopt;
    return found->second;
  }

 private:
  const PlanSettings& settings_;
  std::vector<probes::ProbeSpec> plan_;
  std::map<std::string, std::size_t> index_;
};

std::vector<std::size_t> deps_of(std::optional<std::size_t> index) {
  if (!index) return {};
  return {*index};
}

/// The checks named in `ids` and everything they depend on, in plan order, with the dependency
/// indices renumbered for the smaller plan.
core::Result<std::vector<probes::ProbeSpec>> select_checks(std::vector<probes::ProbeSpec> plan,
                                                           const std::set<std::string>& ids) {
  std::vector<bool> keep(plan.size(), false);
  for (const auto& id : ids) {
    bool found = false;
    for (std::size_t i = 0; i < plan.size(); ++i) {
      if (plan[i].id == id) {
        keep[i] = true;
        found = true;
      }
    }
    if (!found) {
      constexpr std::size_t kListedIds = 12;  // enough to spot a typo, short enough for one line
      std::string known;
      for (std::size_t i = 0; i < plan.size() && i < kListedIds; ++i) {
        known += (known.empty() ? "" : ", ") + plan[i].id;
      }
      if (plan.size() > kListedIds) known += ", ...";
      return core::fail(core::FailureKind::not_found,
                        "unknown check '" + id +
                            "' (the profile's checks: " + (known.empty() ? "none" : known) + ")");
    }
  }
  // Dependencies always point at earlier specs, so one backwards pass closes the set.
  for (std::size_t i = plan.size(); i-- > 0;) {
    if (!keep[i]) continue;
    for (const auto dep : plan[i].depends_on) {
      if (dep < i) keep[dep] = true;
    }
  }
  std::vector<std::size_t> new_index(plan.size(), 0);
  std::vector<probes::ProbeSpec> out;
  for (std::size_t i = 0; i < plan.size(); ++i) {
    if (!keep[i]) continue;
    new_index[i] = out.size();
    auto& spec = plan[i];
    for (auto& dep : spec.depends_on) dep = new_index[dep];
    out.push_back(std::move(spec));
  }
  return out;
}

}  // namespace

probes::tls::TlsOptions tls_options_from(const rules::TlsSettings& settings) {
  probes::tls::TlsOptions options;
  options.min_version = probes::tls::parse_min_version(settings.min_version)
                            .value_or(probes::tls::MinVersion::tls1_2);
  options.expected_root_sha1 = settings.expected_root_sha1;
  options.expected_root_sha256 = settings.expected_root_sha256;
  options.expected_root_names = settings.expected_root_names;
  options.ca_file = settings.ca_file;
  // A profile with only a CA file (local, lab) trusts that file alone; with fingerprints, the
  // roots come from the system trust store.
  options.use_system_store = settings.ca_file.empty() || !settings.expected_root_sha1.empty() ||
                             !settings.expected_root_sha256.empty();
  options.spki_pins = settings.spki_pins;
  options.expiry_warning_days = settings.expiry_warning_days;
  return options;
}

const std::vector<std::string>& plannable_kinds() {
  // "bgp" is not a probe: check_run evaluates the profile's route filter when it is selected.
  static const std::vector<std::string> kinds = {"dns",       "tcp", "proxy", "tls",
                                                 "websocket", "e2e", "idle",  "bgp"};
  return kinds;
}

core::Result<std::vector<probes::ProbeSpec>> build_plan(const rules::Profile& profile,
                                                        const PlanSettings& settings) {
  for (const auto& kind : settings.only_kinds) {
    bool known = false;
    for (const auto& k : plannable_kinds()) known = known || k == kind;
    if (!known) {
      std::string valid;
      for (const auto& k : plannable_kinds()) valid += (valid.empty() ? "" : ", ") + k;
      return core::fail(core::FailureKind::invalid_input,
                        "unknown check kind '" + kind + "' in --only (valid: " + valid + ")");
    }
  }
  const auto timeout = settings.timeout.value_or(profile.timeout);
  PlanAssembler plan(settings);
  const bool idle_wanted = (settings.with_idle || profile.idle.run) && plan.wants("idle");
  const auto idle_required = settings.idle_required.value_or(profile.idle.required);
  bool idle_planned = false;

  const auto spec = [&](const std::string& kind, const core::Target& target,
                        const rules::Endpoint& ep, bool required) {
    probes::ProbeSpec s;
    s.id = kind + ":" + target.to_string();
    s.target = target;
    s.endpoint = ep.name;
    s.required = required;
    s.timeout = timeout;
    return s;
  };

  for (const auto& endpoint : profile.endpoints) {
    const std::string host = endpoint.probe_host.empty() ? endpoint.host : endpoint.probe_host;
    const bool required = endpoint.is_required(profile.https_mode);
    bool any_direct = false;
    for (const auto port : endpoint.ports) {
      any_direct = any_direct || !probes::proxy::proxy_for(settings.proxy, {host, port}).proxy;
    }

    // Through a proxy the proxy resolves the name: a local answer matters for the direct path
    // only, which the proxy check compares anyway.
    std::optional<std::size_t> dns_index;
    if (any_direct && plan.wants("dns") && !core::is_ip_literal(host)) {
      probes::ProbeSpec dns = spec("dns", core::Target{host, 0}, endpoint, required);
      dns.id = "dns:" + host;
      probes::dns::DnsOptions options;
      options.reference_resolvers = profile.dns.reference_resolvers;
      options.reference_resolvers.insert(options.reference_resolvers.end(),
                                         settings.extra_resolvers.begin(),
                                         settings.extra_resolvers.end());
      options.private_answers_expected = profile.dns.private_answers_expected;
      options.resolv_conf = settings.resolver.resolv_conf;
      options.hosts_file = settings.resolver.hosts_file;
      options.system_resolver_port = settings.resolver.port;
      dns.options = options;
      dns_index = plan.add(std::move(dns));
    }

    for (const auto port : endpoint.ports) {
      const core::Target target{host, port};
      const auto via = probes::proxy::proxy_for(settings.proxy, target);

      // The transport: TCP directly, or a CONNECT tunnel through the proxy.
      std::optional<std::size_t> transport_index;
      if (via.proxy && plan.wants("proxy")) {
        probes::ProbeSpec proxy = spec("proxy", target, endpoint, required);
        probes::proxy::ProxyOptions options;
        options.proxy = *via.proxy;
        options.compare_direct = true;
        proxy.options = options;
        transport_index = plan.add(std::move(proxy));
      } else if (!via.proxy && plan.wants("tcp")) {
        probes::ProbeSpec tcp = spec("tcp", target, endpoint, required);
        tcp.options = probes::tcp::TcpOptions{};
        tcp.depends_on = deps_of(dns_index);
        transport_index = plan.add(std::move(tcp));
      }
      const auto after_transport =
          transport_index ? transport_index : (via.proxy ? std::nullopt : dns_index);

      std::optional<std::size_t> tls_index;
      if (endpoint.tls && plan.wants("tls")) {
        probes::ProbeSpec tls = spec("tls", target, endpoint, required);
        auto options = tls_options_from(profile.tls);
        options.proxy = via.proxy;
        tls.options = options;
        tls.depends_on = deps_of(after_transport);
        tls_index = plan.add(std::move(tls));
      }

      probes::websocket::WebSocketOptions ws;
      if (endpoint.websocket) {
        ws.path = endpoint.websocket_path;
        ws.use_tls = endpoint.tls;
        ws.tls = tls_options_from(profile.tls);
        ws.proxy = via.proxy;
        // ws:// through an http:// proxy goes as a forward request, where the proxy can see
        // (and strip) the upgrade; wss:// always tunnels.
        ws.forward_proxy = !endpoint.tls && via.proxy && via.proxy->url.scheme == "http";
        const std::string url = std::string(endpoint.tls ? "wss://" : "ws://") +
                                target.to_string() + endpoint.websocket_path;
        if (settings.relay_token_for) ws.token = settings.relay_token_for(url);
      }
      std::optional<std::size_t> ws_index;
      if (endpoint.websocket && plan.wants("websocket")) {
        probes::ProbeSpec check = spec("websocket", target, endpoint, required);
        check.options = ws;
        // A forward request needs no tunnel: it does not wait for the CONNECT check.
        check.depends_on =
            deps_of(tls_index ? tls_index : (ws.forward_proxy ? std::nullopt : after_transport));
        ws_index = plan.add(std::move(check));
      }
      if (endpoint.websocket && idle_wanted) {
        probes::ProbeSpec idle = spec("idle", target, endpoint, required);
        probes::idle::IdleOptions options;
        options.websocket = ws;
        options.required = idle_required;
        if (settings.idle_progress) {
          options.progress = [report = settings.idle_progress,
                              id = idle.id](const probes::idle::IdleProgress& p) { report(id, p); };
        }
        // The ladder's holds, plus room to open its connections.
        idle.timeout = probes::idle::longest_wait(options) + 2 * timeout;
        idle.options = options;
        idle.depends_on = deps_of(ws_index ? ws_index : tls_index ? tls_index : after_transport);
        plan.add(std::move(idle));
        idle_planned = true;
      }
    }
  }

  // The end-to-end query through the relay, after the gateway's own path to it (the WebSocket
  // check of the relay's host and port, else its TLS or transport check) when that is planned.
  if (!profile.relay.url.empty() && !profile.relay.query.empty() && plan.wants("e2e")) {
    gateway::client::QueryOptions query;
    query.relay_url = profile.relay.url;
    query.tls = tls_options_from(profile.tls);
    query.datasource = profile.relay.datasource;
    query.sql = profile.relay.query;
    query.sealed_credentials = settings.sealed_credentials;
    query.token_for = settings.relay_send_token_for;
    if (auto url = core::parse_url(profile.relay.url)) {
      query.proxy = probes::proxy::proxy_for(settings.proxy, {url->host, url->port}).proxy;
    }
    auto prepared = gateway::client::prepare_query(query);
    if (!prepared) {
      return core::fail(core::FailureKind::invalid_input,
                        "[relay] of profile " + profile.name + ": " + prepared.error().message);
    }
    rules::Endpoint relay;
    relay.name = "Relay";
    for (const auto& endpoint : profile.endpoints) {
      const std::string host = endpoint.probe_host.empty() ? endpoint.host : endpoint.probe_host;
      for (const auto port : endpoint.ports) {
        if (core::Target{host, port}.to_string() == prepared->target.to_string()) {
          relay.name = endpoint.name;
        }
      }
    }
    probes::ProbeSpec e2e = spec("e2e", prepared->target, relay, true);
    e2e.options = prepared->options;
    const std::string at = prepared->target.to_string();
    for (const auto* kind : {"websocket:", "tls:", "proxy:", "tcp:"}) {
      if (auto index = plan.find(kind + at)) {
        e2e.depends_on = {*index};
        break;
      }
    }
    plan.add(std::move(e2e));
  }

  if (idle_wanted && !idle_planned) {
    // No endpoint says where the gateway's WebSocket goes: the relay URL does.
    auto url = core::parse_url(profile.relay.url);
    if (profile.relay.url.empty() || !url) {
      return core::fail(core::FailureKind::invalid_input,
                        "the idle check needs an endpoint with websocket = true or a [relay] url "
                        "in profile " +
                            profile.name);
    }
    const core::Target target{url->host, url->port};
    rules::Endpoint relay;
    relay.name = "Relay";
    probes::ProbeSpec idle = spec("idle", target, relay, true);
    probes::idle::IdleOptions options;
    options.websocket.use_tls = url->scheme == "wss";
    options.websocket.tls = tls_options_from(profile.tls);
    options.websocket.path =
        url->path + (url->path.find('?') == std::string::npos ? "?" : "&") + "sb-hc-action=listen";
    options.websocket.proxy = probes::proxy::proxy_for(settings.proxy, target).proxy;
    options.websocket.forward_proxy = !options.websocket.use_tls && options.websocket.proxy &&
                                      options.websocket.proxy->url.scheme == "http";
    if (settings.relay_token_for) {
      options.websocket.token = settings.relay_token_for(url->origin() + options.websocket.path);
    }
    options.required = idle_required;
    if (settings.idle_progress) {
      options.progress = [report = settings.idle_progress,
                          id = idle.id](const probes::idle::IdleProgress& p) { report(id, p); };
    }
    idle.timeout = probes::idle::longest_wait(options) + 2 * timeout;
    idle.options = options;
    plan.add(std::move(idle));
  }
  if (!settings.only_ids.empty()) return select_checks(plan.take(), settings.only_ids);
  return plan.take();
}

std::vector<core::Note> proxy_notes(const rules::Profile& profile, const PlanSettings& settings) {
  std::vector<core::Note> notes;
  notes.push_back({"proxy", settings.proxy.describe()});
  if (!settings.proxy.proxy) return notes;
  if (!settings.proxy.no_proxy_variable.empty()) {
    std::string entries;
    for (const auto& e : settings.proxy.no_proxy.entries) {
      entries += (entries.empty() ? "" : ", ") + e.text;
    }
    notes.push_back({"no_proxy", settings.proxy.no_proxy_variable + ": " + entries});
  }
  for (const auto& w : settings.proxy.warnings) notes.push_back({"proxy warning", w});
  std::map<std::string, bool> seen;
  for (const auto& endpoint : profile.endpoints) {
    const std::string host = endpoint.probe_host.empty() ? endpoint.host : endpoint.probe_host;
    for (const auto port : endpoint.ports) {
      const core::Target target{host, port};
      const auto via = probes::proxy::proxy_for(settings.proxy, target);
      if (via.proxy || seen[target.to_string()]) continue;
      seen[target.to_string()] = true;
      notes.push_back({"proxy bypass", target.to_string() + " direct: " + via.reason});
    }
  }
  return notes;
}

}  // namespace gwprobe::cli
