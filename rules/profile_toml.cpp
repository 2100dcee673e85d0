// The profile TOML reader: the one file that includes toml++. Every rejection names the file,
// line and column and says what was expected; the first problem found is the one reported.
#include <toml++/toml.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <filesystem>
#include <map>
#include <set>
#include <span>

#include "core/duration.hpp"
#include "core/target.hpp"
#include "core/url.hpp"
#include "rules/profile.hpp"

namespace gwprobe::rules {

namespace {

using namespace std::string_view_literals;

// The schema, in documentation order (error messages list valid keys in this order).
constexpr std::array kTopKeys = {"name"sv,    "description"sv, "cloud"sv, "https_mode"sv,
                                 "timeout"sv, "dns"sv,         "tls"sv,   "proxy"sv,
                                 "idle"sv,    "relay"sv,       "bgp"sv,   "endpoint"sv};
constexpr std::array kDnsKeys = {"reference_resolvers"sv, "private_answers_expected"sv};
constexpr std::array kTlsKeys = {"min_version"sv, "ca_file"sv, "spki_pins"sv,
                                 "expiry_warning_days"sv, "expected_root"sv};
constexpr std::array kRootKeys = {"name"sv, "sha1"sv, "sha256"sv, "source"sv};
constexpr std::array kProxyKeys = {"url"sv, "auth"sv, "credentials_file"sv};
constexpr std::array kIdleKeys = {"required"sv, "run"sv};
constexpr std::array kRelayKeys = {"url"sv,        "sas_key_name"sv,       "sas_key_file"sv,
                                   "query"sv,      "send_key_name"sv,      "send_key_file"sv,
                                   "datasource"sv, "gateway_public_key"sv, "credentials_file"sv};
constexpr std::array kBgpKeys = {"geography"sv, "route_filter"sv, "routes"sv};
constexpr std::array kEndpointKeys = {
    "name"sv,        "host"sv, "probe_host"sv, "probe_host_is_example"sv, "ports"sv, "purpose"sv,
    "requirement"sv, "tls"sv,  "websocket"sv,  "websocket_path"sv,        "source"sv};

constexpr std::array kClouds = {"public"sv, "usgov"sv, "china"sv, "local"sv, "custom"sv};
constexpr std::array kProxyAuths = {"any"sv, "basic"sv, "ntlm"sv, "negotiate"sv};
constexpr std::array kProxySchemes = {"http"sv,    "https"sv,  "socks4"sv,
                                      "socks4a"sv, "socks5"sv, "socks5h"sv};
/// Longest certificate-expiry warning accepted (ten years): anything longer is a typo.
constexpr std::int64_t kMaxExpiryWarningDays = 3650;
constexpr std::uint16_t kDnsPort = 53;

std::string_view type_name(toml::node_type type) {
  switch (type) {
    case toml::node_type::string:
      return "string";
    case toml::node_type::integer:
      return "integer";
    case toml::node_type::floating_point:
      return "floating-point number";
    case toml::node_type::boolean:
      return "boolean";
    case toml::node_type::date:
      return "date";
    case toml::node_type::time:
      return "time";
    case toml::node_type::date_time:
      return "date-time";
    case toml::node_type::array:
      return "array";
    case toml::node_type::table:
      return "table";
    case toml::node_type::none:
      break;
  }
  return "nothing";
}

/// "\"a\", \"b\" or \"c\"" for messages listing accepted values.
template <std::size_t N>
std::string one_of(const std::array<std::string_view, N>& values) {
  std::string out;
  for (std::size_t i = 0; i < N; ++i) {
    if (i > 0) out += i + 1 == N ? " or " : ", ";
    out += "\"" + std::string(values[i]) + "\"";
  }
  return out;
}

template <std::size_t N>
bool contains(const std::array<std::string_view, N>& values, std::string_view v) {
  return std::find(values.begin(), values.end(), v) != values.end();
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool is_wildcard(std::string_view host) {
  return host.rfind("*.", 0) == 0;
}

const toml::node* first_non_table(const toml::array& array) {
  for (const auto& element : array) {
    if (!element.is_table()) return &element;
  }
  return nullptr;
}

/// Reads one parsed document into a Profile. Methods return false (or nullopt) after recording
/// the first error; callers stop at once, so exactly one error comes out.
class ProfileReader {
 public:
  ProfileReader(std::string source_name, std::filesystem::path base_dir)
      : source_(std::move(source_name)), base_dir_(std::move(base_dir)) {}

  core::Result<Profile> read(const toml::table& root) {
    Profile profile;
    profile.source = source_;
    if (!check_unknown_keys(root) || !read_top(root, profile) || !read_dns(root, profile) ||
        !read_tls(root, profile) || !read_proxy(root, profile) || !read_idle(root, profile) ||
        !read_relay(root, profile) || !read_bgp(root, profile) || !read_endpoints(root, profile)) {
      return core::fail(*error_);
    }
    return profile;
  }

 private:
  // ---- positions and errors ----

  SourcePosition position(const toml::source_position& p) const {
    return SourcePosition{source_, static_cast<int>(p.line), static_cast<int>(p.column)};
  }
  SourcePosition position(const toml::node& node) const { return position(node.source().begin); }

  bool fail_at(const SourcePosition& where, const std::string& what) {
    if (!error_)
      error_ = core::Error{core::FailureKind::invalid_input, where.to_string() + ": " + what, {}};
    return false;
  }
  bool fail_at(const toml::node& node, const std::string& what) {
    return fail_at(position(node), what);
  }
  bool wrong_type(const toml::node& node, std::string_view path, std::string_view expected) {
    return fail_at(node, "'" + std::string(path) + "': expected " + std::string(expected) +
                             ", got " + std::string(type_name(node.type())));
  }
  bool missing(const toml::table& table, std::string_view key, std::string_view table_label,
               std::string_view why = {}) {
    return fail_at(table, "missing required key '" + std::string(key) + "' in " +
                              std::string(table_label) + std::string(why));
  }

  // ---- unknown keys, checked over the whole document before any value ----

  struct UnknownKey {
    SourcePosition where;
    std::string message;
  };

  template <std::size_t N>
  void find_unknown(const toml::table& table, std::string_view label,
                    const std::array<std::string_view, N>& valid) {
    for (auto&& [key, value] : table) {
      if (contains(valid, key.str())) continue;
      const auto where = position(key.source().begin);
      if (unknown_ && std::pair(unknown_->where.line, unknown_->where.column) <=
                          std::pair(where.line, where.column)) {
        continue;
      }
      std::string list;
      for (auto v : valid) list += (list.empty() ? "" : ", ") + std::string(v);
      unknown_ = UnknownKey{where, "unknown key '" + std::string(key.str()) + "' in " +
                                       std::string(label) + "; valid keys: " + list};
    }
  }

  template <std::size_t N>
  void find_unknown_in(const toml::table& parent, std::string_view key, std::string_view label,
                       const std::array<std::string_view, N>& valid) {
    if (const auto* table = parent.get_as<toml::table>(key)) find_unknown(*table, label, valid);
  }

  template <std::size_t N>
  void find_unknown_in_array(const toml::table& parent, std::string_view key,
                             std::string_view label, const std::array<std::string_view, N>& valid) {
    if (const auto* array = parent.get_as<toml::array>(key)) {
      for (const auto& element : *array) {
        if (const auto* table = element.as_table()) find_unknown(*table, label, valid);
      }
    }
  }

  bool check_unknown_keys(const toml::table& root) {
    find_unknown(root, "the top level", kTopKeys);
    find_unknown_in(root, "dns", "[dns]", kDnsKeys);
    find_unknown_in(root, "tls", "[tls]", kTlsKeys);
    if (const auto* tls = root.get_as<toml::table>("tls")) {
      find_unknown_in_array(*tls, "expected_root", "[[tls.expected_root]]", kRootKeys);
    }
    find_unknown_in(root, "proxy", "[proxy]", kProxyKeys);
    find_unknown_in(root, "idle", "[idle]", kIdleKeys);
    find_unknown_in(root, "relay", "[relay]", kRelayKeys);
    find_unknown_in(root, "bgp", "[bgp]", kBgpKeys);
    find_unknown_in_array(root, "endpoint", "[[endpoint]]", kEndpointKeys);
    if (unknown_) return fail_at(unknown_->where, unknown_->message);
    return true;
  }

  // ---- typed values ----

  /// The sub-table `key` of `parent`, or an empty table when absent; nullptr after an error.
  const toml::table* section(const toml::table& parent, std::string_view key) {
    const auto* node = parent.get(key);
    if (!node) return &empty_;
    if (const auto* table = node->as_table()) return table;
    wrong_type(*node, key, "a table ([" + std::string(key) + "])");
    return nullptr;
  }

  bool read_string(const toml::table& table, std::string_view key, std::string_view path,
                   std::string& out) {
    const auto* node = table.get(key);
    if (!node) return true;
    const auto* value = node->as_string();
    if (!value) return wrong_type(*node, path, "a string");
    out = value->get();
    return true;
  }

  bool require_string(const toml::table& table, std::string_view key, std::string_view path,
                      std::string_view table_label, std::string& out) {
    const auto* node = table.get(key);
    if (!node) return missing(table, key, table_label);
    if (!read_string(table, key, path, out)) return false;
    if (out.empty())
      return fail_at(*node, "'" + std::string(path) + "': expected a non-empty string");
    return true;
  }

  bool read_bool(const toml::table& table, std::string_view key, std::string_view path, bool& out) {
    const auto* node = table.get(key);
    if (!node) return true;
    const auto* value = node->as_boolean();
    if (!value) return wrong_type(*node, path, "true or false");
    out = value->get();
    return true;
  }

  /// One of `values` (compared in lower case); stored lower-cased.
  template <std::size_t N>
  bool read_choice(const toml::table& table, std::string_view key, std::string_view path,
                   const std::array<std::string_view, N>& values, std::string& out) {
    std::string text = out;
    if (!read_string(table, key, path, text)) return false;
    text = lower(text);
    if (!contains(values, text)) {
      return fail_at(*table.get(key), "'" + std::string(path) + "': bad value '" +
                                          table.get(key)->as_string()->get() + "': expected " +
                                          one_of(values));
    }
    out = text;
    return true;
  }

  /// A duration: a string such as "5s" or "1m30s" (core::parse_duration), or an integer number
  /// of seconds. Must be longer than zero.
  bool read_duration(const toml::table& table, std::string_view key, std::string_view path,
                     std::chrono::milliseconds& out) {
    const auto* node = table.get(key);
    if (!node) return true;
    std::chrono::milliseconds value{0};
    if (const auto* text = node->as_string()) {
      auto parsed = core::parse_duration(text->get());
      if (!parsed) return fail_at(*node, "'" + std::string(path) + "': " + parsed.error().message);
      value = *parsed;
    } else if (const auto* seconds = node->as_integer()) {
      auto parsed = core::parse_duration(std::to_string(seconds->get()));
      if (seconds->get() < 0 || !parsed) {
        return fail_at(*node, "'" + std::string(path) + "': bad duration " +
                                  std::to_string(seconds->get()) +
                                  ": expected a number of seconds from 1 to 30 days");
      }
      value = *parsed;
    } else {
      return wrong_type(*node, path, "a duration such as \"5s\" or a number of seconds");
    }
    if (value <= std::chrono::milliseconds::zero()) {
      return fail_at(*node, "'" + std::string(path) + "': expected a duration longer than zero");
    }
    out = value;
    return true;
  }

  /// A path-valued key: ${VAR} / ${VAR:-default} expanded, then resolved against the profile's
  /// directory when relative.
  bool read_path(const toml::table& table, std::string_view key, std::string_view path,
                 std::string& out) {
    std::string text;
    if (!read_string(table, key, path, text)) return false;
    if (text.empty()) return true;
    auto expanded = expand_variables(text);
    if (!expanded) {
      return fail_at(*table.get(key), "'" + std::string(path) + "': " + expanded.error().message);
    }
    std::filesystem::path resolved(*expanded);
    if (resolved.is_relative() && !base_dir_.empty()) resolved = base_dir_ / resolved;
    out = resolved.lexically_normal().string();
    return true;
  }

  /// An array of strings (absent: left as is).
  bool read_string_array(const toml::table& table, std::string_view key, std::string_view path,
                         std::vector<std::pair<std::string, const toml::node*>>& out) {
    const auto* node = table.get(key);
    if (!node) return true;
    const auto* array = node->as_array();
    if (!array) return wrong_type(*node, path, "an array of strings");
    for (const auto& element : *array) {
      const auto* text = element.as_string();
      if (!text) return wrong_type(element, path, "a string");
      out.emplace_back(text->get(), &element);
    }
    return true;
  }

  // ---- hosts, ports, fingerprints ----

  bool check_host(const toml::node& node, std::string_view path, const std::string& host,
                  bool allow_wildcard) {
    const std::string_view name = allow_wildcard && is_wildcard(host)
                                      ? std::string_view(host).substr(2)
                                      : std::string_view(host);
    if (core::is_valid_hostname(name) || (!is_wildcard(host) && core::is_ip_literal(host))) {
      return true;
    }
    return fail_at(node, "'" + std::string(path) + "': bad host '" + host + "': expected " +
                             (allow_wildcard ? "a host name, an IP address or a wildcard such as "
                                               "\"*.servicebus.windows.net\""
                                             : "a host name or an IP address (no wildcard)"));
  }

  bool add_port(const toml::node& node, std::string_view path, std::int64_t port,
                std::vector<std::uint16_t>& ports) {
    if (port < 1 || port > 65535) {
      return fail_at(node, "'" + std::string(path) + "': port " + std::to_string(port) +
                               " is out of range: expected 1 to 65535");
    }
    const auto p = static_cast<std::uint16_t>(port);
    if (std::find(ports.begin(), ports.end(), p) != ports.end()) {
      return fail_at(
          node, "'" + std::string(path) + "': port " + std::to_string(port) + " is listed twice");
    }
    ports.push_back(p);
    return true;
  }

  bool add_port_range(const toml::node& node, std::string_view path, const std::string& text,
                      std::vector<std::uint16_t>& ports) {
    const auto bad = [&](const std::string& why) {
      return fail_at(node, "'" + std::string(path) + "': bad port range '" + text + "': " + why);
    };
    const auto dash = text.find('-');
    if (dash == std::string::npos) {
      return bad("expected \"first-last\" such as \"9350-9354\" (single ports are integers)");
    }
    const auto first = core::parse_port(text.substr(0, dash));
    const auto last = core::parse_port(text.substr(dash + 1));
    if (!first || !last) return bad("expected two ports from 1 to 65535, as in \"9350-9354\"");
    if (*first > *last) return bad("the first port is greater than the last");
    for (unsigned p = *first; p <= *last; ++p) {
      if (!add_port(node, path, p, ports)) return false;
    }
    return true;
  }

  bool add_port_value(const toml::node& node, std::string_view path,
                      std::vector<std::uint16_t>& ports) {
    if (const auto* number = node.as_integer()) return add_port(node, path, number->get(), ports);
    if (const auto* text = node.as_string()) return add_port_range(node, path, text->get(), ports);
    return wrong_type(node, path, "an integer port or a \"first-last\" range string");
  }

  bool read_ports(const toml::table& table, std::string_view key, std::string_view path,
                  std::vector<std::uint16_t>& ports) {
    const auto* node = table.get(key);
    if (!node) return missing(table, key, "[[endpoint]]");
    if (const auto* array = node->as_array()) {
      for (const auto& element : *array) {
        if (!add_port_value(element, path, ports)) return false;
      }
    } else if (!add_port_value(*node, path, ports)) {
      return false;
    }
    if (ports.empty())
      return fail_at(*node, "'" + std::string(path) + "': expected at least one port");
    return true;
  }

  /// Hex fingerprint of `digits` hex digits; ':' and ' ' separators allowed; stored upper-case.
  bool read_fingerprint(const toml::table& table, std::string_view key, std::string_view path,
                        std::string_view algorithm, std::size_t digits, std::string& out) {
    std::string text;
    if (!read_string(table, key, path, text)) return false;
    if (!table.get(key)) return true;
    std::string hex;
    bool ok = true;
    for (char c : text) {
      if (c == ':' || c == ' ') continue;
      if (!std::isxdigit(static_cast<unsigned char>(c))) ok = false;
      hex += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    if (!ok || hex.size() != digits) {
      return fail_at(*table.get(key), "'" + std::string(path) + "': bad " + std::string(algorithm) +
                                          " fingerprint '" + text + "': expected " +
                                          std::to_string(digits) + " hex digits");
    }
    out = hex;
    return true;
  }

  // ---- sections ----

  bool read_top(const toml::table& root, Profile& profile) {
    if (!require_string(root, "name", "name", "the top level", profile.name)) return false;
    profile.cloud = "custom";
    return read_string(root, "description", "description", profile.description) &&
           read_choice(root, "cloud", "cloud", kClouds, profile.cloud) &&
           read_bool(root, "https_mode", "https_mode", profile.https_mode) &&
           read_duration(root, "timeout", "timeout", profile.timeout);
  }

  bool read_dns(const toml::table& root, Profile& profile) {
    const auto* dns = section(root, "dns");
    if (!dns) return false;
    std::vector<std::pair<std::string, const toml::node*>> resolvers;
    if (!read_string_array(*dns, "reference_resolvers", "dns.reference_resolvers", resolvers)) {
      return false;
    }
    for (const auto& [text, node] : resolvers) {
      const auto target = core::parse_target(text, kDnsPort);
      if (!target || !core::is_ip_literal(target->host)) {
        return fail_at(*node, "'dns.reference_resolvers': bad resolver '" + text +
                                  "': expected an IP address with an optional port, such as "
                                  "\"10.0.0.53\" or \"[2001:db8::53]:53\"");
      }
      profile.dns.reference_resolvers.push_back(text);
    }
    return read_bool(*dns, "private_answers_expected", "dns.private_answers_expected",
                     profile.dns.private_answers_expected);
  }

  bool read_tls(const toml::table& root, Profile& profile) {
    const auto* tls = section(root, "tls");
    if (!tls) return false;
    auto& out = profile.tls;
    if (const auto* node = tls->get("min_version")) {
      if (!node->is_string())
        return wrong_type(*node, "tls.min_version", "a string such as \"1.2\"");
      const std::string version = node->as_string()->get();
      if (version != "1.2" && version != "1.3") {
        return fail_at(*node, "'tls.min_version': bad TLS version '" + version +
                                  "': expected \"1.2\" or \"1.3\"");
      }
      out.min_version = version;
    }
    if (!read_path(*tls, "ca_file", "tls.ca_file", out.ca_file)) return false;
    std::vector<std::pair<std::string, const toml::node*>> pins;
    if (!read_string_array(*tls, "spki_pins", "tls.spki_pins", pins)) return false;
    for (const auto& [text, node] : pins) {
      auto pin = normalize_pin(text);
      if (!pin) {
        return fail_at(*node, "'tls.spki_pins': bad SPKI pin '" + text +
                                  "': expected a SHA-256 digest as 64 hex digits or 44 base64 "
                                  "characters");
      }
      out.spki_pins.push_back(*pin);
    }
    if (const auto* node = tls->get("expiry_warning_days")) {
      const auto* days = node->as_integer();
      if (!days) return wrong_type(*node, "tls.expiry_warning_days", "an integer number of days");
      if (days->get() < 0 || days->get() > kMaxExpiryWarningDays) {
        return fail_at(*node, "'tls.expiry_warning_days': expected 0 to " +
                                  std::to_string(kMaxExpiryWarningDays) + ", got " +
                                  std::to_string(days->get()));
      }
      out.expiry_warning_days = static_cast<int>(days->get());
    }
    return read_expected_roots(*tls, out);
  }

  static std::optional<std::string> normalize_pin(const std::string& text) {
    std::string hex;
    for (char c : text) {
      if (c == ':') continue;
      hex += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    if (hex.size() == 64 && std::all_of(hex.begin(), hex.end(),
                                        [](unsigned char c) { return std::isxdigit(c) != 0; })) {
      return hex;
    }
    // base64 of 32 bytes: 43 characters and one '=' of padding.
    if (text.size() == 44 && text.back() == '=' &&
        std::all_of(text.begin(), text.end() - 1,
                    [](unsigned char c) { return std::isalnum(c) || c == '+' || c == '/'; })) {
      return text;
    }
    return std::nullopt;
  }

  bool read_expected_roots(const toml::table& tls, TlsSettings& out) {
    const auto* node = tls.get("expected_root");
    if (!node) return true;
    const auto* array = node->as_array();
    if (!array)
      return wrong_type(*node, "tls.expected_root", "an array of tables ([[tls.expected_root]])");
    if (const auto* bad = first_non_table(*array)) {
      return wrong_type(*bad, "tls.expected_root", "a table ([[tls.expected_root]])");
    }
    for (const auto& element : *array) {
      const auto& table = *element.as_table();
      ExpectedRoot root;
      if (!require_string(table, "name", "tls.expected_root.name", "[[tls.expected_root]]",
                          root.name) ||
          !read_fingerprint(table, "sha1", "tls.expected_root.sha1", "SHA-1", 40, root.sha1) ||
          !read_fingerprint(table, "sha256", "tls.expected_root.sha256", "SHA-256", 64,
                            root.sha256) ||
          !read_string(table, "source", "tls.expected_root.source", root.source)) {
        return false;
      }
      if (root.sha1.empty() && root.sha256.empty()) {
        return missing(table, "sha1", "[[tls.expected_root]]", " (give 'sha1' or 'sha256')");
      }
      out.expected_root_names.push_back(root.name);
      if (!root.sha1.empty()) out.expected_root_sha1.push_back(root.sha1);
      if (!root.sha256.empty()) out.expected_root_sha256.push_back(root.sha256);
      out.expected_roots.push_back(std::move(root));
    }
    return true;
  }

  bool read_url(const toml::table& table, std::string_view key, std::string_view path,
                std::span<const std::string_view> schemes, std::string_view default_scheme,
                std::string& out) {
    std::string text;
    if (!read_string(table, key, path, text)) return false;
    if (text.empty()) return true;
    // parse_url never echoes its input (a proxy URL may carry a password); neither do we.
    const auto url = core::parse_url(text, default_scheme);
    if (!url)
      return fail_at(*table.get(key), "'" + std::string(path) + "': " + url.error().message);
    if (std::find(schemes.begin(), schemes.end(), url->scheme) == schemes.end()) {
      std::string list;
      for (std::size_t i = 0; i < schemes.size(); ++i) {
        if (i > 0) list += i + 1 == schemes.size() ? " or " : ", ";
        list += std::string(schemes[i]);
      }
      return fail_at(*table.get(key), "'" + std::string(path) + "': unsupported scheme '" +
                                          url->scheme + "': expected " + list);
    }
    out = text;
    return true;
  }

  bool read_proxy(const toml::table& root, Profile& profile) {
    const auto* proxy = section(root, "proxy");
    if (!proxy) return false;
    return read_url(*proxy, "url", "proxy.url", kProxySchemes, "http", profile.proxy.url) &&
           read_choice(*proxy, "auth", "proxy.auth", kProxyAuths, profile.proxy.auth) &&
           read_path(*proxy, "credentials_file", "proxy.credentials_file",
                     profile.proxy.credentials_file);
  }

  bool read_idle(const toml::table& root, Profile& profile) {
    const auto* idle = section(root, "idle");
    if (!idle) return false;
    std::chrono::milliseconds required = profile.idle.required;
    if (!read_duration(*idle, "required", "idle.required", required)) return false;
    profile.idle.required = std::chrono::ceil<std::chrono::seconds>(required);
    return read_bool(*idle, "run", "idle.run", profile.idle.run);
  }

  bool read_relay(const toml::table& root, Profile& profile) {
    static constexpr std::array kRelaySchemes = {"wss"sv, "ws"sv};
    const auto* relay = section(root, "relay");
    if (!relay) return false;
    return read_url(*relay, "url", "relay.url", kRelaySchemes, {}, profile.relay.url) &&
           read_string(*relay, "sas_key_name", "relay.sas_key_name", profile.relay.sas_key_name) &&
           read_path(*relay, "sas_key_file", "relay.sas_key_file", profile.relay.sas_key_file) &&
           read_string(*relay, "query", "relay.query", profile.relay.query) &&
           read_string(*relay, "send_key_name", "relay.send_key_name",
                       profile.relay.send_key_name) &&
           read_path(*relay, "send_key_file", "relay.send_key_file", profile.relay.send_key_file) &&
           read_string(*relay, "datasource", "relay.datasource", profile.relay.datasource) &&
           read_path(*relay, "gateway_public_key", "relay.gateway_public_key",
                     profile.relay.gateway_public_key) &&
           read_path(*relay, "credentials_file", "relay.credentials_file",
                     profile.relay.credentials_file) &&
           sealed_credentials_complete(*relay, profile.relay);
  }

  /// Sealed credentials need both the gateway's public key and the password to seal.
  bool sealed_credentials_complete(const toml::table& relay, const RelaySettings& settings) {
    if (settings.gateway_public_key.empty() == settings.credentials_file.empty()) return true;
    const bool has_key = !settings.gateway_public_key.empty();
    return fail_at(*relay.get(has_key ? "gateway_public_key" : "credentials_file"),
                   has_key ? "'relay.gateway_public_key': needs 'relay.credentials_file' (the "
                             "password to seal to it)"
                           : "'relay.credentials_file': needs 'relay.gateway_public_key' (the "
                             "gateway key the password is sealed to)");
  }

  bool read_bgp(const toml::table& root, Profile& profile) {
    const auto* bgp = section(root, "bgp");
    if (!bgp) return false;
    return read_string(*bgp, "geography", "bgp.geography", profile.bgp.geography) &&
           read_path(*bgp, "route_filter", "bgp.route_filter", profile.bgp.route_filter) &&
           read_path(*bgp, "routes", "bgp.routes", profile.bgp.routes);
  }

  bool read_endpoints(const toml::table& root, Profile& profile) {
    const auto* node = root.get("endpoint");
    if (!node) return true;
    const auto* array = node->as_array();
    if (!array) return wrong_type(*node, "endpoint", "an array of tables ([[endpoint]])");
    if (const auto* bad = first_non_table(*array)) {
      return wrong_type(*bad, "endpoint", "a table ([[endpoint]])");
    }
    std::map<std::string, SourcePosition> names;
    for (const auto& element : *array) {
      const auto& table = *element.as_table();
      Endpoint endpoint;
      endpoint.where = position(table);
      if (!read_endpoint(table, endpoint)) return false;
      const auto [it, inserted] = names.emplace(endpoint.name, position(*table.get("name")));
      if (!inserted) {
        return fail_at(*table.get("name"), "duplicate endpoint name '" + endpoint.name +
                                               "' (first defined at " + it->second.to_string() +
                                               "): expected unique names");
      }
      profile.endpoints.push_back(std::move(endpoint));
    }
    return true;
  }

  bool read_endpoint(const toml::table& table, Endpoint& endpoint) {
    static constexpr std::array kRequirements = {"required"sv, "optional"sv, "tcp-mode"sv};
    if (!require_string(table, "name", "endpoint.name", "[[endpoint]]", endpoint.name) ||
        !require_string(table, "host", "endpoint.host", "[[endpoint]]", endpoint.host)) {
      return false;
    }
    endpoint.host = lower(endpoint.host);
    if (!check_host(*table.get("host"), "endpoint.host", endpoint.host, true)) return false;
    if (const auto* probe = table.get("probe_host")) {
      if (!read_string(table, "probe_host", "endpoint.probe_host", endpoint.probe_host)) {
        return false;
      }
      endpoint.probe_host = lower(endpoint.probe_host);
      if (!check_host(*probe, "endpoint.probe_host", endpoint.probe_host, false)) return false;
    } else if (is_wildcard(endpoint.host)) {
      return fail_at(*table.get("host"),
                     "'endpoint.host': the wildcard host '" + endpoint.host +
                         "' needs a concrete 'probe_host' (a real host under it) to probe");
    } else {
      endpoint.probe_host = endpoint.host;
    }
    std::string requirement = "required";
    if (!read_bool(table, "probe_host_is_example", "endpoint.probe_host_is_example",
                   endpoint.probe_host_is_example) ||
        !read_ports(table, "ports", "endpoint.ports", endpoint.ports) ||
        !read_string(table, "purpose", "endpoint.purpose", endpoint.purpose) ||
        !read_choice(table, "requirement", "endpoint.requirement", kRequirements, requirement) ||
        !read_bool(table, "tls", "endpoint.tls", endpoint.tls) ||
        !read_bool(table, "websocket", "endpoint.websocket", endpoint.websocket) ||
        !read_string(table, "websocket_path", "endpoint.websocket_path", endpoint.websocket_path) ||
        !read_string(table, "source", "endpoint.source", endpoint.source)) {
      return false;
    }
    endpoint.requirement = requirement == "optional"   ? Requirement::optional
                           : requirement == "tcp-mode" ? Requirement::tcp_mode
                                                       : Requirement::required;
    if (endpoint.websocket && !table.get("websocket_path")) {
      return missing(table, "websocket_path", "[[endpoint]]", " (needed when websocket = true)");
    }
    if (!endpoint.websocket_path.empty() && endpoint.websocket_path.front() != '/') {
      return fail_at(*table.get("websocket_path"), "'endpoint.websocket_path': bad path '" +
                                                       endpoint.websocket_path +
                                                       "': expected a path starting with '/'");
    }
    return true;
  }

  std::string source_;
  std::filesystem::path base_dir_;
  std::optional<core::Error> error_;
  std::optional<UnknownKey> unknown_;
  toml::table empty_;
};

}  // namespace

core::Result<Profile> parse_profile(std::string_view toml_text, std::string_view source_name) {
  const std::string source(source_name);
  toml::table root;
  try {
    root = toml::parse(toml_text, std::string_view(source));
  } catch (const toml::parse_error& error) {
    const auto& begin = error.source().begin;
    const SourcePosition where{source, static_cast<int>(begin.line),
                               static_cast<int>(begin.column)};
    return core::fail(core::FailureKind::invalid_input,
                      where.to_string() + ": malformed TOML: " + std::string(error.description()));
  }
  ProfileReader reader(source, std::filesystem::path(source).parent_path());
  return reader.read(root);
}

}  // namespace gwprobe::rules
