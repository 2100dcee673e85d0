// `gwprobe probe tls HOST:PORT [--ca-file F] [--servername N] [--roots PROFILE] [--proxy URL]`
#include "cli/command.hpp"
#include "cli/plan_builder.hpp"
#include "cli/probe_kind.hpp"
#include "cli/proxy_flags.hpp"
#include "core/target.hpp"
#include "probes/tls/tls_options.hpp"

namespace gwprobe::cli {
namespace {

struct TlsArgs {
  std::string target;
  std::string servername;
  std::string ca_file;
  std::string roots = "public";
  std::string min_version = "1.2";
  std::vector<std::string> pins;
  ProxyFlags proxy;
};

void setup(CLI::App& command, SpecBuilder& build) {
  command.description(
      "TLS handshake to HOST:PORT: version, cipher, chain facts and the interception verdict");
  auto args = std::make_shared<TlsArgs>();
  command.add_option("target", args->target, "HOST:PORT (port defaults to 443)")->required();
  command.add_option("--servername", args->servername, "SNI and name to verify (default: HOST)");
  command.add_option("--ca-file", args->ca_file,
                     "Trust only these CA certificates (PEM); no interception verdict against "
                     "public roots");
  command
      .add_option("--roots", args->roots,
                  "Profile whose expected roots judge interception (default public: the "
                  "Microsoft and DigiCert roots)")
      ->capture_default_str();
  command.add_option("--min-version", args->min_version, "Lowest acceptable TLS version (1.2/1.3)")
      ->capture_default_str();
  command.add_option("--pin", args->pins, "Expected SPKI SHA-256 pin (base64 or hex; repeatable)");
  add_proxy_flags(command, args->proxy);
  build = [args] {
    auto target = core::parse_target(args->target, 443);
    if (!target) usage_error(target.error().message);
    rules::TlsSettings settings;
    if (args->ca_file.empty()) {
      auto profile = rules::load_profile(args->roots);
      if (!profile) usage_error("--roots: " + profile.error().describe());
      settings = profile->tls;
    } else {
      settings.ca_file = args->ca_file;
    }
    if (!probes::tls::parse_min_version(args->min_version)) {
      usage_error("--min-version '" + args->min_version + "': expected 1.2 or 1.3");
    }
    settings.min_version = args->min_version;
    settings.spki_pins = args->pins;
    auto options = tls_options_from(settings);
    options.servername = args->servername;
    if (auto valid = probes::tls::validate(options); !valid) usage_error(valid.error().message);
    // Through the proxy when one applies to the target (--proxy, HTTPS_PROXY, NO_PROXY).
    options.proxy = probes::proxy::proxy_for(resolve_proxy(args->proxy, {}), *target).proxy;
    probes::ProbeSpec spec;
    spec.id = "tls:" + target->to_string();
    spec.target = *target;
    spec.options = options;
    return spec;
  };
}

const bool registered = register_probe_kind({"tls", 30, setup});

}  // namespace
}  // namespace gwprobe::cli
