// Proxy resolution: precedence of --proxy, the profile and the environment; NO_PROXY matching;
// where the credentials come from.
#include "probes/proxy/proxy_config.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>

namespace gwprobe::probes::proxy {

namespace {

using core::FailureKind;

constexpr std::array kProxySchemes = {"http", "https", "socks4", "socks4a", "socks5", "socks5h"};
/// Proxy variables in precedence order (HTTPS_PROXY first, as the gateway's traffic is HTTPS;
/// HTTP_PROXY is never consulted for the same reason).
constexpr std::array kProxyVariables = {"HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"};
constexpr std::array kNoProxyVariables = {"NO_PROXY", "no_proxy"};

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::optional<std::string> lookup(const EnvLookup& env, std::string_view name) {
  if (!env) return std::nullopt;
  auto value = env(name);
  if (!value || value->empty()) return std::nullopt;
  return value;
}

std::string first_line(const std::string& text) {
  std::string line = text.substr(0, text.find('\n'));
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

std::optional<std::uint16_t> parse_port_number(std::string_view text) {
  unsigned value = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end || value == 0 || value > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(value);
}

/// True when the first `prefix` bits of a and b agree.
bool same_prefix(const IpAddress& a, const IpAddress& b, int prefix) {
  for (int bit = 0; bit < prefix; ++bit) {
    const auto byte = static_cast<std::size_t>(bit / 8);
    const auto mask = static_cast<std::uint8_t>(0x80U >> (bit % 8));
    if ((a.bytes[byte] & mask) != (b.bytes[byte] & mask)) return false;
  }
  return true;
}

/// Parses one NO_PROXY token; nullopt + `why` when malformed.
std::optional<NoProxyEntry> parse_entry(std::string_view token, std::string& why) {
  NoProxyEntry entry;
  entry.text = std::string(token);
  if (token == "*") {
    entry.kind = NoProxyEntry::Kind::everything;
    return entry;
  }
  std::string_view host = token;
  std::string_view port;
  if (host.front() == '[') {
    const auto close = host.find(']');
    if (close == std::string_view::npos) {
      why = "unterminated '['";
      return std::nullopt;
    }
    const std::string_view after = host.substr(close + 1);
    host = host.substr(1, close - 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        why = "expected ':PORT' after ']'";
        return std::nullopt;
      }
      port = after.substr(1);
    }
  } else if (std::count(host.begin(), host.end(), ':') == 1) {
    const auto colon = host.find(':');
    port = host.substr(colon + 1);
    host = host.substr(0, colon);
  }
  if (!port.empty() || (token.back() == ':')) {
    const auto parsed = parse_port_number(port);
    if (!parsed) {
      why = "bad port";
      return std::nullopt;
    }
    entry.port = *parsed;
  }

  if (const auto slash = host.find('/'); slash != std::string_view::npos) {
    const auto address = IpAddress::parse(host.substr(0, slash));
    const std::string_view bits = host.substr(slash + 1);
    int prefix = -1;
    const auto [ptr, ec] = std::from_chars(bits.data(), bits.data() + bits.size(), prefix);
    if (!address) {
      why = "not an IP network";
      return std::nullopt;
    }
    const int max_prefix = address->is_v6() ? 128 : 32;
    if (ec != std::errc() || ptr != bits.data() + bits.size() || prefix < 0 ||
        prefix > max_prefix) {
      why = "bad prefix length (0-" + std::to_string(max_prefix) + ")";
      return std::nullopt;
    }
    entry.kind = NoProxyEntry::Kind::network;
    entry.address = *address;
    entry.prefix = prefix;
    return entry;
  }
  if (const auto address = IpAddress::parse(host)) {
    entry.kind = NoProxyEntry::Kind::address;
    entry.address = *address;
    return entry;
  }

  std::string domain = lower(host);
  if (domain.rfind("*.", 0) == 0) {
    domain.erase(0, 2);
  } else if (!domain.empty() && domain.front() == '.') {
    domain.erase(0, 1);
  }
  if (!domain.empty() && domain.back() == '.') domain.pop_back();
  if (!core::is_valid_hostname(domain)) {
    why = "not a host name, domain, IP address or network";
    return std::nullopt;
  }
  entry.kind = NoProxyEntry::Kind::domain;
  entry.domain = std::move(domain);
  return entry;
}

bool entry_matches(const NoProxyEntry& entry, const std::string& host,
                   const std::optional<IpAddress>& ip, std::uint16_t port) {
  if (entry.port != 0 && entry.port != port) return false;
  switch (entry.kind) {
    case NoProxyEntry::Kind::everything:
      return true;
    case NoProxyEntry::Kind::domain:
      if (ip) return false;  // names match names; an IP target is matched by address entries
      return host == entry.domain || (host.size() > entry.domain.size() &&
                                      host.compare(host.size() - entry.domain.size(),
                                                   entry.domain.size(), entry.domain) == 0 &&
                                      host[host.size() - entry.domain.size() - 1] == '.');
    case NoProxyEntry::Kind::address:
      return ip && *ip == entry.address;
    case NoProxyEntry::Kind::network:
      return ip && ip->family == entry.address.family &&
             same_prefix(*ip, entry.address, entry.prefix);
  }
  return false;
}

/// Where the proxy URL comes from.
struct ChosenUrl {
  std::optional<std::string> url;  ///< nullopt: direct
  std::string source;              ///< "from --proxy" / direct reason
  std::string label;               ///< how errors name it: "--proxy", "[proxy] url", "HTTPS_PROXY"
};

ChosenUrl choose_url(const ProxySources& sources, std::vector<std::string>& warnings) {
  if (!sources.cli_url.empty()) {
    if (lower(sources.cli_url) == "none") return {std::nullopt, "--proxy none", "--proxy"};
    return {sources.cli_url, "from --proxy", "--proxy"};
  }
  if (!sources.profile_url.empty()) {
    return {sources.profile_url, "from the profile ([proxy] url)", "[proxy] url"};
  }
  for (std::size_t i = 0; i < kProxyVariables.size(); ++i) {
    const auto value = lookup(sources.env, kProxyVariables[i]);
    if (!value) continue;
    for (std::size_t j = i + 1; j < kProxyVariables.size(); ++j) {
      const auto other = lookup(sources.env, kProxyVariables[j]);
      // Name the shadowed variable only: its value may carry a password.
      if (other && *other != *value) {
        warnings.push_back(std::string(kProxyVariables[j]) + " is also set (to something else) " +
                           "and ignored: " + kProxyVariables[i] + " takes precedence");
      }
    }
    return {*value, std::string("from ") + kProxyVariables[i], kProxyVariables[i]};
  }
  return {std::nullopt, "no proxy configured", ""};
}

}  // namespace

core::Result<ProxyAuth> parse_proxy_auth(std::string_view text) {
  const std::string value = lower(text);
  if (value == "any") return ProxyAuth::any;
  if (value == "basic") return ProxyAuth::basic;
  if (value == "ntlm") return ProxyAuth::ntlm;
  if (value == "negotiate") return ProxyAuth::negotiate;
  return core::fail(FailureKind::invalid_input, "unknown proxy auth '" + std::string(text) +
                                                    "' (expected basic, ntlm, negotiate or any)");
}

std::string_view to_string(ProxyAuth auth) noexcept {
  switch (auth) {
    case ProxyAuth::any:
      return "any";
    case ProxyAuth::basic:
      return "basic";
    case ProxyAuth::ntlm:
      return "ntlm";
    case ProxyAuth::negotiate:
      return "negotiate";
  }
  return "any";
}

NoProxyList parse_no_proxy(std::string_view text) {
  NoProxyList list;
  std::size_t i = 0;
  const auto separator = [](char c) {
    return c == ',' || std::isspace(static_cast<unsigned char>(c)) != 0;
  };
  while (i < text.size()) {
    while (i < text.size() && separator(text[i])) ++i;
    const std::size_t start = i;
    while (i < text.size() && !separator(text[i])) ++i;
    if (start == i) continue;
    const std::string_view token = text.substr(start, i - start);
    std::string why;
    if (auto entry = parse_entry(token, why)) {
      list.entries.push_back(std::move(*entry));
    } else {
      list.ignored.push_back(std::string(token) + ": " + why);
    }
  }
  return list;
}

const NoProxyEntry* match_no_proxy(const NoProxyList& list, const core::Target& target) {
  std::string host = lower(target.host);
  if (!host.empty() && host.back() == '.') host.pop_back();
  const auto ip = IpAddress::parse(host);
  for (const auto& entry : list.entries) {
    if (entry_matches(entry, host, ip, target.port)) return &entry;
  }
  return nullptr;
}

std::string ProxyPlan::describe() const {
  if (!proxy) return "none (" + direct_reason + ")";
  std::string text = proxy->url.redacted() + " (" + proxy->source + "; auth " +
                     std::string(to_string(proxy->auth));
  text += proxy->has_credentials() ? "; credentials from " + credentials_source
                                   : std::string("; no credentials");
  return text + ")";
}

core::Result<ProxyPlan> resolve_proxy_plan(const ProxySources& sources) {
  ProxyPlan plan;
  const auto bad = [](const std::string& message) {
    return core::fail(FailureKind::invalid_input, message);
  };

  for (const auto* name : kNoProxyVariables) {
    if (const auto value = lookup(sources.env, name)) {
      plan.no_proxy = parse_no_proxy(*value);
      plan.no_proxy_variable = name;
      for (const auto& ignored : plan.no_proxy.ignored) {
        plan.warnings.push_back(std::string(name) + ": ignored entry " + ignored);
      }
      break;
    }
  }

  const bool cli_auth = !sources.cli_auth.empty();
  const auto auth = parse_proxy_auth(cli_auth ? sources.cli_auth : sources.profile_auth);
  if (!auth) return bad((cli_auth ? "--proxy-auth: " : "[proxy] auth: ") + auth.error().message);

  const ChosenUrl chosen = choose_url(sources, plan.warnings);
  if (!chosen.url) {
    plan.direct_reason = chosen.source;
    if (sources.cli_user || sources.cli_password_file) {
      plan.warnings.push_back("proxy credentials were given but no proxy is used (" +
                              chosen.source + ")");
    }
    return plan;
  }

  // parse_url never echoes its input, so a password in it cannot leak into the message.
  auto url = core::parse_url(*chosen.url, "http");
  if (!url) return bad(chosen.label + ": " + url.error().message);
  if (std::find(kProxySchemes.begin(), kProxySchemes.end(), url->scheme) == kProxySchemes.end()) {
    return bad(chosen.label + ": unsupported proxy scheme '" + url->scheme +
               "' (expected http, https, socks4, socks4a, socks5 or socks5h)");
  }
  url->path = "/";  // a path on a proxy URL means nothing (curl ignores it too)

  std::string user_from;
  std::string password_from;
  if (!url->user.empty()) user_from = "the URL";
  if (!url->password.empty()) password_from = "the URL";
  if (sources.profile_credentials) {
    const std::string line = first_line(sources.profile_credentials->reveal());
    const auto colon = line.find(':');
    if (colon == std::string::npos || colon == 0) {
      return bad("[proxy] credentials_file: expected 'user:password' on the first line");
    }
    url->user = line.substr(0, colon);
    url->password = core::Secret(line.substr(colon + 1));
    user_from = password_from = "[proxy] credentials_file";
  }
  if (sources.cli_user) {
    const std::string& value = sources.cli_user->reveal();
    const auto colon = value.find(':');
    if (value.empty() || colon == 0) return bad("--proxy-user: expected USER[:PASSWORD]");
    url->user = value.substr(0, colon);
    user_from = "--proxy-user";
    if (colon != std::string::npos) {
      url->password = core::Secret(value.substr(colon + 1));
      password_from = "--proxy-user";
    }
  }
  if (sources.cli_password_file) {
    if (url->user.empty()) {
      return bad("--proxy-password-file: no user name to go with it (give --proxy-user USER)");
    }
    url->password = core::Secret(first_line(sources.cli_password_file->reveal()));
    password_from = "--proxy-password-file";
  }
  if (password_from.empty() || password_from == user_from) {
    plan.credentials_source = user_from;
  } else {
    plan.credentials_source = user_from + " (password from " + password_from + ")";
  }

  ProxyEndpoint endpoint;
  endpoint.url = std::move(*url);
  endpoint.auth = *auth;
  endpoint.ca_file = sources.ca_file;
  endpoint.source = chosen.source;
  plan.proxy = std::move(endpoint);
  return plan;
}

ProxyDecision proxy_for(const ProxyPlan& plan, const core::Target& target) {
  if (!plan.proxy) return {std::nullopt, plan.direct_reason};
  if (const auto* entry = match_no_proxy(plan.no_proxy, target)) {
    return {std::nullopt, plan.no_proxy_variable + " matched " + entry->text};
  }
  return {plan.proxy, plan.proxy->source};
}

}  // namespace gwprobe::probes::proxy
