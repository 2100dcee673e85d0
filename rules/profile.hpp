// Profile: what a readiness check must verify, loaded from TOML (embedded or a file). Pure data.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace gwprobe::rules {

/// Where in the profile file a value came from, for error messages ("file:line:column").
struct SourcePosition {
  std::string file;
  int line = 0;
  int column = 0;
  std::string to_string() const;  ///< "public.toml:12:5"
};

/// Whether a failing check on an endpoint's port fails the run or only warns.
enum class Requirement {
  required,
  optional,
  tcp_mode,  ///< required when the gateway talks to the relay over TCP; optional in HTTPS mode
};

/// "required", "optional", "tcp-mode" (as written in profiles).
std::string_view to_string(Requirement requirement) noexcept;

/// A destination the gateway must reach.
struct Endpoint {
  std::string name;        ///< short label shown in reports: "Azure Relay"
  std::string host;        ///< as documented, may be a wildcard: "*.servicebus.windows.net"
  std::string probe_host;  ///< the concrete host probed (for wildcards); = host otherwise
  /// The probe host is a placeholder (per-tenant hosts such as the relay namespace): results
  /// and advice tell the user to override it with --probe-host. Cleared by override_probe_host.
  bool probe_host_is_example = false;
  std::vector<std::uint16_t> ports;
  std::string purpose;
  Requirement requirement = Requirement::required;
  bool tls = false;            ///< run the TLS probe on each port
  bool websocket = false;      ///< run the WebSocket upgrade probe (relay endpoints)
  std::string websocket_path;  ///< e.g. "/$hc/gwprobe?sb-hc-action=listen"
  std::string source;          ///< where the fact comes from ("S1"), shown in --verbose output
  SourcePosition where;

  /// True when a failure on this endpoint fails the run, given the profile's mode.
  bool is_required(bool https_mode) const;
};

struct DnsSettings {
  std::vector<std::string> reference_resolvers;  ///< "ip[:port]"
  bool private_answers_expected = false;
};

/// One acceptable root CA: a chain that ends anywhere else suggests TLS inspection.
struct ExpectedRoot {
  std::string name;    ///< "DigiCert Global Root G2"
  std::string sha1;    ///< certificate SHA-1 thumbprint: 40 upper-case hex digits, or empty
  std::string sha256;  ///< certificate SHA-256 fingerprint: 64 upper-case hex digits, or empty
  std::string source;  ///< where the fact comes from ("S14")
};

struct TlsSettings {
  std::string min_version = "1.2";  ///< "1.2" or "1.3"
  /// The roots as written in the profile (name and fingerprints paired). The three flat lists
  /// below are derived from it in the same order, for callers that only match fingerprints.
  std::vector<ExpectedRoot> expected_roots;
  std::vector<std::string> expected_root_sha256;  ///< hex fingerprints of acceptable roots
  std::vector<std::string> expected_root_sha1;    ///< SHA-1 thumbprints (upper-case hex)
  std::vector<std::string> expected_root_names;   ///< for messages: "DigiCert Global Root G2"
  std::string ca_file;                            ///< CA bundle of acceptable roots (lab/local)
  std::vector<std::string> spki_pins;             ///< optional SHA-256 SPKI pins (base64 or hex)
  int expiry_warning_days = 14;
};

struct ProxySettings {
  std::string url;               ///< may hold user:password; never printed as is
  std::string auth = "any";      ///< basic | ntlm | negotiate | any
  std::string credentials_file;  ///< "user:password" in a file, for scheduled runs
};

struct IdleSettings {
  std::chrono::seconds required{300};
  bool run = false;  ///< run the (slow) idle-timeout probe in `check`
};

struct RelaySettings {
  std::string url;  ///< wss://host:port/$hc/PATH for e2e and idle checks
  std::string sas_key_name;
  std::string sas_key_file;  ///< the key itself is never in the profile
  std::string query;         ///< e2e query sent through the relay
  /// The rule the e2e check and `gwprobe query` send with (Send rights); empty = sas_key_*.
  std::string send_key_name;
  std::string send_key_file;
  std::string datasource;  ///< the gateway's data source for the e2e query; empty = its default
  /// Optional: the gateway's public key (gateway.pub) and a file holding the data-source password
  /// to seal to it; the query then carries the password, never in clear. Both or neither.
  std::string gateway_public_key;
  std::string credentials_file;

  /// The Send rule's name and key file (send_key_* when set, else sas_key_*).
  const std::string& send_rule() const {
    return send_key_name.empty() ? sas_key_name : send_key_name;
  }
  const std::string& send_rule_key_file() const {
    return send_key_file.empty() ? sas_key_file : send_key_file;
  }
};

struct BgpSettings {
  std::string geography;     ///< Power Platform geography, e.g. "Europe"
  std::string route_filter;  ///< path to an Azure route filter JSON or a community list
  std::string routes;        ///< optional BGP daemon route dump
};

struct Profile {
  std::string name;
  std::string description;
  std::string cloud;       ///< public | usgov | china | local | custom (the default)
  std::string source;      ///< "embedded" or the file path
  bool https_mode = true;  ///< gateway forces HTTPS to the relay (9350-9354 optional)
  std::chrono::milliseconds timeout{5000};  ///< per-check deadline
  DnsSettings dns;
  TlsSettings tls;
  ProxySettings proxy;
  IdleSettings idle;
  RelaySettings relay;
  BgpSettings bgp;
  std::vector<Endpoint> endpoints;
};

/// Names of the profiles built into the binary, sorted.
std::vector<std::string> embedded_profile_names();

/// The TOML text of an embedded profile, byte-identical to rules/profiles/NAME.toml, or nullopt.
std::optional<std::string_view> embedded_profile_text(std::string_view name);

/// Loads a profile by embedded name ("public") or by file path (anything with a '/' or ending
/// in .toml). Errors are invalid_input or not_found with "file:line:column: what was expected".
core::Result<Profile> load_profile(std::string_view name_or_path);

/// Parses profile text; `source_name` is used in error positions, and relative paths in the
/// profile resolve against its directory (none: the current directory).
core::Result<Profile> parse_profile(std::string_view toml_text, std::string_view source_name);

/// Applies `--probe-host PATTERN=HOST`: every endpoint whose documented host (case-insensitive,
/// e.g. "*.servicebus.windows.net") or name equals PATTERN is probed at HOST instead.
/// invalid_input when the assignment is malformed, HOST is not a host name or IP address, or no
/// endpoint matches (the message lists the profile's wildcard hosts).
core::Result<void> override_probe_host(Profile& profile, std::string_view assignment);

/// Looks up an environment variable; nullopt when unset.
using EnvLookup = std::function<std::optional<std::string>(std::string_view name)>;

/// Expands `${VAR}` and `${VAR:-default}` (default also when VAR is empty) in `text`. A '$' not
/// followed by '{' is literal. Errors: unterminated "${", a bad variable name, or an unset VAR
/// without a default. Messages name the variable, never its value. `lookup` defaults to getenv.
core::Result<std::string> expand_variables(std::string_view text, const EnvLookup& lookup = {});

}  // namespace gwprobe::rules
