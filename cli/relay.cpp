// `gwprobe relay`: run the bundled Hybrid Connections relay; `relay token` mints a SAS token for
// scripts; `relay init` makes a throwaway CA, server certificate and keys for the demo.
#include <sys/resource.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli/command.hpp"
#include "cli/output_file.hpp"
#include "core/duration.hpp"
#include "core/url.hpp"
#include "gateway/protocol/keys_file.hpp"
#include "gateway/protocol/sas.hpp"
#include "gateway/relay/demo_pki.hpp"
#include "gateway/relay/relay_server.hpp"

namespace gwprobe::cli {
namespace {

namespace protocol = gateway::protocol;
namespace relay = gateway::relay;

struct RelayRunOptions {
  std::string listen = "127.0.0.1:9443";
  std::string dir;
  std::string cert_file;
  std::string key_file;
  std::string keys_file;
  std::string routing = "round-robin";
  std::string ping_interval = "20s";
  int max_missed_pongs = 2;
  double max_load = 0.9;
  std::size_t max_message_bytes = 16u << 20;
  std::size_t max_pending_accepts = 128;
  std::string handshake_timeout = "10s";
  std::string accept_timeout = "30s";
  std::size_t auth_failures = 20;
  std::size_t max_connections = 20000;
  int threads = 1;
  bool verbose = false;
};

struct RelayTokenOptions {
  std::string keys_file;
  std::string key_file;
  std::string rule;
  std::string uri;
  std::string ttl = "1h";
  std::string style = "node";
};

struct RelayInitOptions {
  std::string dir;
  std::string name = "localhost";
  bool force = false;
};

std::chrono::milliseconds duration_option(const std::string& flag, const std::string& text) {
  auto d = core::parse_duration(text);
  if (!d) usage_error(flag + ": " + d.error().message);
  if (d->count() <= 0) usage_error(flag + ": must be greater than zero");
  return *d;
}

/// "127.0.0.1:9443", "[::1]:9443" or "localhost:9443" (localhost means 127.0.0.1).
std::pair<std::string, std::uint16_t> parse_listen(const std::string& text) {
  std::string host;
  std::string port;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      usage_error("--listen: expected ADDRESS:PORT, e.g. 127.0.0.1:9443 or [::1]:9443");
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos)
      usage_error("--listen: expected ADDRESS:PORT, e.g. 127.0.0.1:9443");
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  if (host == "localhost") host = "127.0.0.1";
  int value = -1;
  try {
    std::size_t used = 0;
    value = std::stoi(port, &used);
    if (used != port.size()) value = -1;
  } catch (const std::exception&) {
    value = -1;
  }
  if (host.empty() || value < 0 || value > 65535)
    usage_error("--listen: bad address or port in '" + text + "'");
  return {host, static_cast<std::uint16_t>(value)};
}

int run_relay(const RelayRunOptions& o) {
  relay::RelayConfig config;
  std::tie(config.listen_address, config.port) = parse_listen(o.listen);
  const std::filesystem::path dir(o.dir);
  config.cert_file =
      !o.cert_file.empty() ? o.cert_file : (o.dir.empty() ? "" : (dir / "server.pem").string());
  config.key_file =
      !o.key_file.empty() ? o.key_file : (o.dir.empty() ? "" : (dir / "server.key").string());
  const std::string keys_path =
      !o.keys_file.empty() ? o.keys_file : (o.dir.empty() ? "" : (dir / "keys.toml").string());
  if (config.cert_file.empty() || config.key_file.empty()) {
    usage_error("the relay needs --cert and --key (or --dir from 'gwprobe relay init')");
  }
  if (keys_path.empty())
    usage_error("the relay needs --keys-file (or --dir from 'gwprobe relay init')");
  if (o.routing == "round-robin") {
    config.routing = relay::Routing::round_robin;
  } else if (o.routing == "failover") {
    config.routing = relay::Routing::failover;
  } else {
    usage_error("--routing: expected round-robin or failover, got '" + o.routing + "'");
  }
  if (!(o.max_load > 0.0 && o.max_load <= 1.0))
    usage_error("--max-load: expected a fraction in (0, 1]");
  if (o.max_missed_pongs < 1) usage_error("--max-missed-pongs: must be at least 1");
  if (o.threads < 1 || o.threads > 64) usage_error("--threads: expected 1..64");
  config.ping_interval = duration_option("--ping-interval", o.ping_interval);
  config.max_missed_pongs = o.max_missed_pongs;
  config.max_load = o.max_load;
  config.limits.max_message_bytes = o.max_message_bytes;
  config.limits.max_pending_accepts_per_cluster = o.max_pending_accepts;
  config.limits.handshake_timeout = duration_option("--handshake-timeout", o.handshake_timeout);
  config.limits.accept_timeout = duration_option("--accept-timeout", o.accept_timeout);
  config.limits.auth_failures_allowed = o.auth_failures;
  if (o.max_connections < 1) usage_error("--max-connections: must be at least 1");
  config.limits.max_connections = o.max_connections;
  config.threads = o.threads;
  config.handle_signals = true;

  auto log = std::make_shared<relay::JsonLog>(
      [](std::string_view line) {
        std::fwrite(line.data(), 1, line.size(), stderr);
        std::fflush(stderr);
      },
      o.verbose ? relay::JsonLog::Level::debug : relay::JsonLog::Level::info);
  auto keys = protocol::load_keys_file(keys_path);
  if (!keys) {
    throw CliError(
        keys.error().kind == core::FailureKind::not_found ? exit_code::usage : exit_code::usage,
        keys.error().message);
  }
  for (const auto& warning : keys->warnings)
    log->warn("keys_file_permissions", {{"message", warning}});
  config.keys = std::move(keys->keys);

  // Every listener is a file descriptor: use all the process may have.
  rlimit files{};
  if (::getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &files);
  }
  if (::getrlimit(RLIMIT_NOFILE, &files) == 0 &&
      files.rlim_cur < static_cast<rlim_t>(config.limits.max_connections) + 64) {
    log->warn("fd_limit",
              {{"soft_limit", static_cast<std::int64_t>(files.rlim_cur)},
               {"max_connections", config.limits.max_connections},
               {"message", "file-descriptor limit below --max-connections; raise ulimit -n"}});
  }
  auto server = relay::RelayServer::create(std::move(config), log);
  if (!server) {
    throw CliError(
        server.error().kind == core::FailureKind::network ? exit_code::not_ready : exit_code::usage,
        server.error().message);
  }
  (*server)->run();
  return exit_code::ready;
}

std::string read_trimmed(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) usage_error(std::string("cannot read ") + what + " '" + path + "'");
  std::ostringstream text;
  text << in.rdbuf();
  std::string s = text.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  if (s.empty()) usage_error(std::string(what) + " '" + path + "' is empty");
  return s;
}

int run_token(const RelayTokenOptions& o) {
  if (o.uri.empty())
    usage_error("relay token: --uri is required (e.g. wss://localhost:9443/$hc/gwprobe-demo)");
  if (o.rule.empty()) usage_error("relay token: --rule is required (the key name, 'skn')");
  if (o.keys_file.empty() == o.key_file.empty()) {
    usage_error(
        "relay token: give exactly one of --keys-file (with --rule) or --key-file (raw key)");
  }
  core::Secret key;
  if (!o.keys_file.empty()) {
    auto keys = protocol::load_keys_file(o.keys_file);
    if (!keys) usage_error(keys.error().message);
    const auto* rule = keys->keys.find(o.rule);
    if (rule == nullptr)
      usage_error("relay token: no rule named '" + o.rule + "' in " + o.keys_file);
    key = rule->key;
  } else {
    key = core::Secret(read_trimmed(o.key_file, "key file"));
  }
  const auto style = o.style == "dotnet" ? protocol::SdkStyle::dotnet : protocol::SdkStyle::node;
  if (o.style != "node" && o.style != "dotnet") usage_error("--style: expected node or dotnet");
  auto resource = protocol::sas_resource_uri(o.uri, style);
  if (!resource) usage_error("--uri: " + resource.error().message);
  const auto ttl = duration_option("--ttl", o.ttl);
  const auto expiry = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch() + ttl)
                          .count();
  // The token is the command's output: scripts capture it. It is printed nowhere else.
  std::printf("%s\n", protocol::create_sas_token(*resource, o.rule, key, expiry, style).c_str());
  return exit_code::ready;
}

void write_file(const std::filesystem::path& path, const std::string& content, mode_t mode,
                bool force) {
  if (!force && std::filesystem::exists(path)) {
    usage_error("relay init: '" + path.string() + "' exists (use --force to replace it)");
  }
  write_output_file(path, content, mode);
}

int run_init(const RelayInitOptions& o) {
  const std::filesystem::path dir(o.dir);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) usage_error("relay init: cannot create '" + o.dir + "': " + ec.message());
  auto pki = relay::make_demo_pki(o.name);
  if (!pki) usage_error("relay init: " + pki.error().message);
  protocol::KeyRing keys;
  const core::Secret gateway_key(protocol::generate_sas_key());
  const core::Secret client_key(protocol::generate_sas_key());
  (void)keys.add({"gateway", gateway_key, protocol::rights_of(protocol::Right::listen)});
  (void)keys.add({"client", client_key, protocol::rights_of(protocol::Right::send)});
  write_file(dir / "ca.pem", pki->ca_cert_pem, 0644, o.force);
  write_file(dir / "server.pem", pki->server_cert_pem, 0644, o.force);
  write_file(dir / "server.key", pki->server_key_pem, 0600, o.force);
  write_file(dir / "keys.toml", protocol::format_keys_toml(keys), 0600, o.force);
  write_file(dir / "gateway.key", gateway_key.reveal(), 0600, o.force);
  write_file(dir / "client.key", client_key.reveal(), 0600, o.force);
  std::printf(
      "Wrote %s/{ca.pem, server.pem, server.key, keys.toml, gateway.key, client.key}\n"
      "  rules: gateway (Listen, key in gateway.key), client (Send, key in client.key)\n"
      "  certificate: %s, localhost, 127.0.0.1, ::1 (trust ca.pem)\n"
      "Run:  gwprobe relay --dir %s\n",
      o.dir.c_str(), o.name.c_str(), o.dir.c_str());
  return exit_code::ready;
}

void setup_relay(CLI::App& root, Action& action) {
  auto* sub = root.add_subcommand(
      "relay", "Run the bundled Hybrid Connections relay (or mint tokens, init a demo)");
  auto run = std::make_shared<RelayRunOptions>();
  sub->add_option("--listen", run->listen, "ADDRESS:PORT to serve TLS on")->capture_default_str();
  sub->add_option("--dir", run->dir,
                  "Directory from 'relay init' (server.pem, server.key, keys.toml)");
  sub->add_option("--cert", run->cert_file, "PEM server certificate (chain)");
  sub->add_option("--key", run->key_file, "PEM private key");
  sub->add_option("--keys-file", run->keys_file, "SAS rules (TOML or JSON; keep it mode 0600)");
  sub->add_option("--routing", run->routing, "round-robin or failover")->capture_default_str();
  sub->add_option("--ping-interval", run->ping_interval, "Ping listeners this often")
      ->capture_default_str();
  sub->add_option("--max-missed-pongs", run->max_missed_pongs, "Evict a listener after this many")
      ->capture_default_str();
  sub->add_option("--max-load", run->max_load, "Skip members whose reported cpu or memory is above")
      ->capture_default_str();
  sub->add_option("--max-message-size", run->max_message_bytes, "Largest WebSocket message, bytes")
      ->capture_default_str();
  sub->add_option("--max-pending-accepts", run->max_pending_accepts, "Senders held per path")
      ->capture_default_str();
  sub->add_option("--handshake-timeout", run->handshake_timeout, "TCP accept to complete request")
      ->capture_default_str();
  sub->add_option("--accept-timeout", run->accept_timeout, "How long a sender waits for a listener")
      ->capture_default_str();
  sub->add_option("--auth-failures", run->auth_failures,
                  "Failed handshakes per source per 10 s before a 30 s block")
      ->capture_default_str();
  sub->add_option("--max-connections", run->max_connections, "TLS connections of all kinds")
      ->capture_default_str();
  sub->add_option("--threads", run->threads, "Event-loop threads")->capture_default_str();
  sub->add_flag("--verbose", run->verbose, "Debug-level log lines");

  auto* token_sub =
      sub->add_subcommand("token", "Print a SharedAccessSignature token for a relay URL");
  auto token = std::make_shared<RelayTokenOptions>();
  token_sub->add_option("--keys-file", token->keys_file, "The relay's keys file");
  token_sub->add_option("--key-file", token->key_file, "A file holding just the raw key");
  token_sub->add_option("--rule", token->rule, "Rule (key) name, e.g. gateway or client");
  token_sub->add_option("--uri", token->uri,
                        "Relay URL, e.g. wss://localhost:9443/$hc/gwprobe-demo");
  token_sub->add_option("--ttl", token->ttl, "Validity")->capture_default_str();
  token_sub->add_option("--style", token->style, "Encode as the node or dotnet SDK does")
      ->capture_default_str();
  token_sub->callback([token, &action] { action = [token] { return run_token(*token); }; });

  auto* init_sub =
      sub->add_subcommand("init", "Create a demo CA, server certificate and keys in DIR");
  auto init = std::make_shared<RelayInitOptions>();
  init_sub->add_option("dir", init->dir, "Directory to create")->required();
  init_sub->add_option("--name", init->name, "DNS name for the server certificate")
      ->capture_default_str();
  init_sub->add_flag("--force", init->force, "Replace existing files");
  init_sub->callback([init, &action] { action = [init] { return run_init(*init); }; });

  sub->callback([run, token_sub, init_sub, &action] {
    if (token_sub->parsed() || init_sub->parsed()) return;
    action = [run] { return run_relay(*run); };
  });
}

const bool registered = register_command({"relay", 60, setup_relay});

}  // namespace
}  // namespace gwprobe::cli
