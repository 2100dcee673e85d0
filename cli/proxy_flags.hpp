// The proxy options every command that reaches a relay shares (--proxy, --proxy-user,
// --proxy-password-file, --proxy-auth, --proxy-cacert), and their resolution with the profile
// and the environment into the run's ProxyPlan.
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "core/report.hpp"
#include "probes/proxy/proxy_config.hpp"
#include "rules/profile.hpp"

namespace gwprobe::cli {

struct ProxyFlags {
  std::string proxy;          ///< --proxy URL, or "none"
  std::string user;           ///< --proxy-user USER[:PASSWORD] (held briefly, then a Secret)
  std::string password_file;  ///< --proxy-password-file FILE
  std::string auth;           ///< --proxy-auth
  std::string cacert;         ///< --proxy-cacert FILE
};

/// Adds the flags to `command` in a "Proxy" group.
void add_proxy_flags(CLI::App& command, ProxyFlags& flags);

/// Resolves the proxy from the flags, the profile's [proxy] and the environment (HTTPS_PROXY,
/// ALL_PROXY, NO_PROXY, ... through `env`, default getenv); reads the password and credentials
/// files. Bad input is a usage error (exit 2) whose message never holds a password.
probes::proxy::ProxyPlan resolve_proxy(const ProxyFlags& flags, const rules::ProxySettings& profile,
                                       const probes::proxy::EnvLookup& env = {});

}  // namespace gwprobe::cli
