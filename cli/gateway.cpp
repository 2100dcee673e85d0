// `gwprobe gateway`: run the gateway agent (`run`), make its identity key pair (`keygen`), seal
// a database password to it (`seal`) and write the demo's sample SQLite database (`sample-db`).
#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "cli/command.hpp"
#include "cli/interrupt.hpp"
#include "cli/output_file.hpp"
#include "cli/proxy_flags.hpp"
#include "core/duration.hpp"
#include "core/secret_file.hpp"
#include "core/target.hpp"
#include "core/url.hpp"
#include "gateway/agent/gateway_agent.hpp"
#include "gateway/datasource/datasource.hpp"
#include "gateway/protocol/sealed.hpp"
#include "gateway/relay/json_log.hpp"

namespace gwprobe::cli {
namespace {

namespace agent = gateway::agent;
namespace datasource = gateway::datasource;
namespace protocol = gateway::protocol;

struct GatewayRunOptions {
  std::string relay;
  std::string key_name;
  std::string key_file;
  std::string ca_file;
  std::string datasources_file;
  std::string sqlite_file;
  std::string identity_file;
  int workers = 4;
  std::string token_ttl = "1h";
  std::string load_interval = "10s";
  std::string query_timeout = "5m";
  ProxyFlags proxy;
  bool verbose = false;
};

struct KeygenOptions {
  std::string dir;
  bool force = false;
};

struct SealOptions {
  std::string public_key_file;
  std::string secret_file;
};

struct SampleDbOptions {
  std::string out;
  int rows = 5000;
};

std::string read_file_or_exit(const std::string& path, const char* what) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    usage_error(std::string(what) + " '" + path + "' does not exist or is not a file");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) usage_error(std::string("cannot read ") + what + " '" + path + "'");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

/// A secret file's first line (core::read_secret_file); never echoed.
core::Secret read_secret_file(const std::string& path, const char* what) {
  auto secret = core::read_secret_file(path, what);
  if (!secret) usage_error(secret.error().message);
  return std::move(*secret);
}

std::chrono::milliseconds duration_flag(const std::string& flag, const std::string& text) {
  auto d = core::parse_duration(text);
  if (!d) usage_error(flag + ": " + d.error().message);
  if (d->count() <= 0) usage_error(flag + ": must be greater than zero");
  return *d;
}

int run_gateway(const GatewayRunOptions& o) {
  if (o.relay.empty()) usage_error("gateway run: --relay is required (wss://HOST:PORT/$hc/PATH)");
  if (o.key_name.empty()) usage_error("gateway run: --key-name is required (a Listen rule)");
  if (o.key_file.empty()) usage_error("gateway run: --key-file is required");
  if (o.datasources_file.empty() == o.sqlite_file.empty()) {
    usage_error("gateway run: give exactly one of --datasources FILE or --datasource-sqlite FILE");
  }
  if (o.workers < 1 || o.workers > 1024) usage_error("--workers: expected 1..1024");
  if (!o.ca_file.empty()) (void)read_file_or_exit(o.ca_file, "--ca-file");

  agent::GatewayAgentOptions options;
  options.relay_url = o.relay;
  options.key_name = o.key_name;
  options.key = read_secret_file(o.key_file, "--key-file");
  options.ca_file = o.ca_file;
  options.workers = static_cast<std::size_t>(o.workers);
  options.token_ttl =
      std::chrono::duration_cast<std::chrono::seconds>(duration_flag("--token-ttl", o.token_ttl));
  options.load_interval = duration_flag("--load-interval", o.load_interval);
  options.query_timeout = duration_flag("--query-timeout", o.query_timeout);

  std::shared_ptr<const protocol::GatewayKey> identity;
  if (!o.identity_file.empty()) {
    auto key = protocol::GatewayKey::load(o.identity_file);
    if (!key) usage_error("--identity: " + key.error().message);
    identity = std::make_shared<const protocol::GatewayKey>(std::move(*key));
  }
  if (identity) {
    options.open_sealed = [identity](std::string_view sealed) { return identity->open(sealed); };
  }

  std::vector<datasource::DataSourceConfig> configs;
  if (!o.sqlite_file.empty()) {
    (void)read_file_or_exit(o.sqlite_file, "--datasource-sqlite");
    datasource::DataSourceConfig sample;
    sample.name = "sample";
    sample.kind = "sqlite";
    sample.path = o.sqlite_file;
    configs.push_back(std::move(sample));
  } else {
    auto loaded = datasource::load_datasources(o.datasources_file);
    if (!loaded) usage_error(loaded.error().message);
    configs = std::move(*loaded);
  }
  auto set = std::make_shared<agent::DataSourceSet>();
  for (const auto& config : configs) {
    auto source = datasource::open_datasource(config, identity.get());
    if (!source) usage_error("data source '" + config.name + "': " + source.error().message);
    if (auto added = set->add(std::move(*source)); !added) usage_error(added.error().message);
  }
  options.datasources = set;

  auto parsed = core::parse_url(o.relay);
  if (parsed) {
    const auto plan = resolve_proxy(o.proxy, rules::ProxySettings{});
    options.proxy = probes::proxy::proxy_for(plan, core::Target{parsed->host, parsed->port}).proxy;
  }
  if (auto ok = agent::validate(options); !ok) usage_error(ok.error().message);

  auto log = std::make_shared<gateway::relay::JsonLog>(
      [](std::string_view line) {
        std::fwrite(line.data(), 1, line.size(), stderr);
        std::fflush(stderr);
      },
      o.verbose ? gateway::relay::JsonLog::Level::debug : gateway::relay::JsonLog::Level::info);
  core::CancelToken stop;
  InterruptScope interrupts(stop);
  agent::GatewayAgent gateway_agent(std::move(options), log);
  auto ran = gateway_agent.run(stop);
  if (!ran) usage_error(ran.error().message);
  return exit_code::ready;
}

int run_keygen(const KeygenOptions& o) {
  const std::filesystem::path dir(o.dir);
  const auto private_path = dir / "gateway-identity.key";
  const auto public_path = dir / "gateway-identity.pub";
  std::error_code ec;
  for (const auto& p : {private_path, public_path}) {
    if (!o.force && std::filesystem::exists(p, ec)) {
      usage_error("gateway keygen: '" + p.string() + "' exists (use --force to replace it)");
    }
  }
  std::filesystem::create_directories(dir, ec);
  if (ec) usage_error("gateway keygen: cannot create '" + o.dir + "': " + ec.message());
  auto pair = protocol::generate_gateway_key();
  if (!pair) throw CliError(exit_code::internal, pair.error().message);
  write_output_file(private_path, pair->private_pem.reveal(), 0600);
  write_output_file(public_path, pair->public_pem, 0644);
  std::printf(
      "Wrote %s (private, mode 0600: keep it on the gateway) and %s (public: seal passwords "
      "with 'gwprobe gateway seal --public-key %s --secret-file FILE')\n",
      private_path.c_str(), public_path.c_str(), public_path.c_str());
  return exit_code::ready;
}

int run_seal(const SealOptions& o) {
  const auto public_pem = read_file_or_exit(o.public_key_file, "--public-key");
  const auto secret = read_secret_file(o.secret_file, "--secret-file");
  auto sealed = protocol::seal(public_pem, secret);
  if (!sealed) usage_error("--public-key: " + sealed.error().message);
  std::printf("%s\n", sealed->c_str());
  return exit_code::ready;
}

int run_sample_db(const SampleDbOptions& o) {
  if (o.rows < 0 || o.rows > 10'000'000) usage_error("--rows: expected 0..10000000");
  auto made = datasource::create_sample_database(o.out, o.rows);
  if (!made) usage_error("gateway sample-db: " + made.error().message);
  std::printf("Wrote %s (table sample, %d rows)\n", o.out.c_str(), o.rows);
  return exit_code::ready;
}

void setup_gateway(CLI::App& root, Action& action) {
  auto* sub = root.add_subcommand(
      "gateway", "Run the gateway agent that serves SQL queries through the relay (and its tools)");
  sub->require_subcommand(1);

  auto run = std::make_shared<GatewayRunOptions>();
  auto* run_sub = sub->add_subcommand("run", "Listen on the relay and serve queries");
  run_sub->add_option("--relay", run->relay,
                      "Relay URL, e.g. wss://localhost:9443/$hc/gwprobe-demo");
  run_sub->add_option("--key-name", run->key_name, "SAS rule with Listen (e.g. gateway)");
  run_sub->add_option("--key-file", run->key_file, "File holding that rule's key");
  run_sub->add_option("--ca-file", run->ca_file, "PEM CA bundle trusted for the relay");
  run_sub->add_option("--datasources", run->datasources_file, "Data-sources TOML file");
  run_sub->add_option("--datasource-sqlite", run->sqlite_file,
                      "Serve this SQLite file as data source 'sample' (no data-sources file)");
  run_sub->add_option("--identity", run->identity_file,
                      "Gateway private key (gateway keygen) to open sealed passwords");
  run_sub->add_option("--workers", run->workers, "Queries run at once")->capture_default_str();
  run_sub->add_option("--token-ttl", run->token_ttl, "Lifetime of each SAS token")
      ->capture_default_str();
  run_sub->add_option("--load-interval", run->load_interval, "How often load is reported")
      ->capture_default_str();
  run_sub->add_option("--query-timeout", run->query_timeout, "Longest a query may run")
      ->capture_default_str();
  add_proxy_flags(*run_sub, run->proxy);
  run_sub->add_flag("--verbose", run->verbose, "Debug-level log lines");
  run_sub->callback([run, &action] { action = [run] { return run_gateway(*run); }; });

  auto keygen = std::make_shared<KeygenOptions>();
  auto* keygen_sub = sub->add_subcommand(
      "keygen", "Write DIR/gateway-identity.key (0600) and DIR/gateway-identity.pub");
  keygen_sub->add_option("--out", keygen->dir, "Directory")->required();
  keygen_sub->add_flag("--force", keygen->force, "Replace existing files");
  keygen_sub->callback([keygen, &action] { action = [keygen] { return run_keygen(*keygen); }; });

  auto seal = std::make_shared<SealOptions>();
  auto* seal_sub = sub->add_subcommand("seal", "Print a secret sealed to a gateway's public key");
  seal_sub->add_option("--public-key", seal->public_key_file, "gateway-identity.pub")->required();
  seal_sub->add_option("--secret-file", seal->secret_file, "File holding the secret")->required();
  seal_sub->callback([seal, &action] { action = [seal] { return run_seal(*seal); }; });

  auto sample = std::make_shared<SampleDbOptions>();
  auto* sample_sub = sub->add_subcommand("sample-db", "Write the demo's sample SQLite database");
  sample_sub->add_option("--out", sample->out, "Database file to write")->required();
  sample_sub->add_option("--rows", sample->rows, "Rows in table sample")->capture_default_str();
  sample_sub->callback([sample, &action] { action = [sample] { return run_sample_db(*sample); }; });
}

const bool registered = register_command({"gateway", 65, setup_gateway});

}  // namespace
}  // namespace gwprobe::cli
