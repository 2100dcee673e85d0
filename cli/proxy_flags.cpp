// Proxy flags: reading the secret files and resolving the plan.
#include "cli/proxy_flags.hpp"

#include <cstdlib>

#include "cli/command.hpp"
#include "core/secret_file.hpp"

namespace gwprobe::cli {

namespace {

/// The file's first line (core::read_secret_file), as a Secret; a usage error (naming the file,
/// never its content) when it cannot be read or is empty.
core::Secret read_secret_file(const std::string& path, const std::string& what) {
  auto secret = core::read_secret_file(path, what);
  if (!secret) usage_error(secret.error().message);
  return std::move(*secret);
}

std::optional<std::string> getenv_lookup(std::string_view name) {
  const char* value = std::getenv(std::string(name).c_str());
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

}  // namespace

void add_proxy_flags(CLI::App& command, ProxyFlags& flags) {
  const char* group = "Proxy";
  command
      .add_option("--proxy", flags.proxy,
                  "Proxy URL (http://, https://, socks5h://...; HOST:PORT means http://), or "
                  "'none' to go direct; default: the profile's [proxy] url, then HTTPS_PROXY / "
                  "ALL_PROXY (NO_PROXY honoured)")
      ->group(group);
  command
      .add_option("--proxy-user", flags.user,
                  "USER[:PASSWORD] for the proxy (visible to other local users in the process "
                  "list: prefer --proxy-password-file for the password)")
      ->group(group);
  command
      .add_option("--proxy-password-file", flags.password_file,
                  "File whose first line is the proxy password (goes with --proxy-user or the "
                  "user in the URL)")
      ->group(group);
  command.add_option("--proxy-auth", flags.auth, "basic, ntlm, negotiate or any (default: any)")
      ->group(group);
  command
      .add_option("--proxy-cacert", flags.cacert,
                  "CA certificates (PEM) to trust for an https:// proxy's own certificate")
      ->group(group);
}

probes::proxy::ProxyPlan resolve_proxy(const ProxyFlags& flags, const rules::ProxySettings& profile,
                                       const probes::proxy::EnvLookup& env) {
  probes::proxy::ProxySources sources;
  sources.cli_url = flags.proxy;
  sources.profile_url = profile.url;
  sources.env = env ? env : probes::proxy::EnvLookup(getenv_lookup);
  sources.cli_auth = flags.auth;
  sources.profile_auth = profile.auth.empty() ? "any" : profile.auth;
  if (!flags.user.empty()) sources.cli_user = core::Secret(flags.user);
  if (!flags.password_file.empty()) {
    sources.cli_password_file = read_secret_file(flags.password_file, "--proxy-password-file");
  }
  if (!profile.credentials_file.empty()) {
    sources.profile_credentials =
        read_secret_file(profile.credentials_file, "[proxy] credentials_file");
  }
  sources.ca_file = flags.cacert;
  auto plan = probes::proxy::resolve_proxy_plan(sources);
  if (!plan) usage_error(plan.error().message);
  return std::move(*plan);
}

}  // namespace gwprobe::cli
