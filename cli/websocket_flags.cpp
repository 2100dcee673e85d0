// WebSocket flags -> target and options.
#include "cli/websocket_flags.hpp"

#include "cli/command.hpp"
#include "cli/plan_builder.hpp"
#include "cli/relay_token.hpp"

namespace gwprobe::cli {

void add_websocket_flags(CLI::App& command, WebSocketFlags& flags) {
  command
      .add_option("url", flags.url,
                  "wss://HOST[:PORT]/PATH (the relay listener URL, e.g. "
                  "'wss://ns.servicebus.windows.net/$hc/NAME?sb-hc-action=listen'), ws://..., or "
                  "HOST[:PORT] with --path")
      ->required();
  command.add_option("--path", flags.path,
                     "Request target for a HOST[:PORT] target (default /$hc/gwprobe?"
                     "sb-hc-action=listen)");
  command.add_flag("--ws", flags.plain, "Plain ws:// for a HOST[:PORT] target (default wss://)");
  command.add_option("--servername", flags.servername, "SNI and name to verify (default: HOST)");
  command.add_option("--ca-file", flags.ca_file,
                     "Trust only these CA certificates (PEM) for wss://");
  command
      .add_option("--roots", flags.roots,
                  "Profile whose expected roots judge the relay's chain (default public)")
      ->capture_default_str();
  command.add_option("--sas-key-name", flags.sas_key_name,
                     "SAS rule name: send the relay token in ServiceBusAuthorization");
  command.add_option("--sas-key-file", flags.sas_key_file,
                     "File holding the SAS rule's key (never printed)");
  command.add_flag("--tunnel", flags.tunnel,
                   "ws:// through an http:// proxy as a CONNECT tunnel instead of a forward "
                   "request");
  add_proxy_flags(command, flags.proxy);
}

WebSocketTarget websocket_target(const WebSocketFlags& flags) {
  static constexpr const char* kDefaultPath = "/$hc/gwprobe?sb-hc-action=listen";
  WebSocketTarget out;
  bool tls = !flags.plain;
  std::string path = flags.path.empty() ? kDefaultPath : flags.path;
  if (flags.url.find("://") != std::string::npos) {
    auto url = core::parse_url(flags.url);
    if (!url) usage_error("url: " + url.error().message);
    if (url->scheme != "wss" && url->scheme != "ws") {
      usage_error("url: expected wss:// or ws://, not " + url->scheme + "://");
    }
    if (url->has_credentials()) usage_error("url: a WebSocket URL carries no user or password");
    tls = url->scheme == "wss";
    if (!flags.path.empty()) usage_error("--path: the URL already has a path");
    path = url->path;
    out.target = core::Target{url->host, url->port};
  } else {
    auto target = core::parse_target(flags.url, tls ? 443 : 80);
    if (!target) usage_error(target.error().message);
    out.target = *target;
  }
  if (path.empty() || path.front() != '/') usage_error("--path: must start with '/'");

  auto& o = out.options;
  o.path = path;
  o.use_tls = tls;
  if (tls) {
    rules::TlsSettings settings;
    if (flags.ca_file.empty()) {
      auto profile = rules::load_profile(flags.roots);
      if (!profile) usage_error("--roots: " + profile.error().describe());
      settings = profile->tls;
    } else {
      settings.ca_file = flags.ca_file;
    }
    o.tls = tls_options_from(settings);
    o.tls.servername = flags.servername;
  }
  o.proxy = probes::proxy::proxy_for(resolve_proxy(flags.proxy, {}), out.target).proxy;
  o.forward_proxy = !tls && o.proxy && o.proxy->url.scheme == "http" && !flags.tunnel;
  out.url = std::string(tls ? "wss://" : "ws://") + out.target.to_string() + path;
  if (flags.sas_key_name.empty() != flags.sas_key_file.empty()) {
    usage_error("--sas-key-name and --sas-key-file go together");
  }
  if (!flags.sas_key_name.empty()) {
    o.token = relay_token_source(out.url, flags.sas_key_name, flags.sas_key_file);
  }
  if (auto valid = probes::websocket::validate(o); !valid) usage_error(valid.error().message);
  return out;
}

}  // namespace gwprobe::cli
