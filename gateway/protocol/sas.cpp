// SAS token minting and verification (reference A.6).
#include "gateway/protocol/sas.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <map>

#include "core/url.hpp"
#include "gateway/protocol/crypto.hpp"

namespace gwprobe::gateway::protocol {

namespace {

constexpr std::string_view kPrefix = "SharedAccessSignature ";

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view trim_slashes(std::string_view s) {
  while (!s.empty() && s.front() == '/') s.remove_prefix(1);
  while (!s.empty() && s.back() == '/') s.remove_suffix(1);
  return s;
}

// JavaScript's encodeURIComponent: keeps A-Z a-z 0-9 - _ . ! ~ * ' ( ), upper-case hex.
std::string encode_uri_component(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) ||
        std::string_view("-_.!~*'()").find(static_cast<char>(c)) != std::string_view::npos) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// .NET WebUtility.UrlEncode as observed in the SDK's tokens: keeps A-Z a-z 0-9 - _ . ! * ( ),
// space becomes '+', everything else lower-case %xx (reference A.6).
std::string dotnet_url_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) ||
        std::string_view("-_.!*()").find(static_cast<char>(c)) != std::string_view::npos) {
      out += static_cast<char>(c);
    } else if (c == ' ') {
      out += '+';
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

TokenVerdict refuse(TokenFault fault, std::string reason, std::string rule = {},
                    std::int64_t expires_at = 0) {
  return TokenVerdict{fault, std::move(rule), expires_at, std::move(reason)};
}

}  // namespace

bool grants(Rights held, Right wanted) {
  if (held & rights_of(Right::manage)) return true;
  return (held & rights_of(wanted)) != 0;
}

core::Result<Right> parse_right(std::string_view name) {
  if (iequals(name, "listen")) return Right::listen;
  if (iequals(name, "send")) return Right::send;
  if (iequals(name, "manage")) return Right::manage;
  return core::fail(core::FailureKind::not_found,
                    "unknown right '" + std::string(name) + "' (expected Listen, Send or Manage)");
}

std::string describe_rights(Rights rights) {
  std::string out;
  auto add = [&](Right r, const char* name) {
    if (rights & rights_of(r)) out += out.empty() ? name : std::string(",") + name;
  };
  add(Right::listen, "Listen");
  add(Right::send, "Send");
  add(Right::manage, "Manage");
  return out;
}

core::Result<void> KeyRing::add(SasRule rule) {
  if (rule.name.empty()) return core::fail(core::FailureKind::invalid_input, "rule has no name");
  if (rule.key.empty()) {
    return core::fail(core::FailureKind::invalid_input,
                      "rule '" + rule.name + "' has an empty key");
  }
  if (rule.rights == 0) {
    return core::fail(core::FailureKind::invalid_input,
                      "rule '" + rule.name + "' grants no rights");
  }
  if (find(rule.name) != nullptr) {
    return core::fail(core::FailureKind::invalid_input, "duplicate rule '" + rule.name + "'");
  }
  rules_.push_back(std::move(rule));
  return {};
}

const SasRule* KeyRing::find(std::string_view name) const {
  for (const auto& rule : rules_) {
    if (rule.name == name) return &rule;
  }
  return nullptr;
}

core::Result<std::string> sas_resource_uri(std::string_view relay_url, SdkStyle style) {
  auto url = core::parse_url(relay_url);
  if (!url) return core::fail(url.error());
  std::string path = url->path.substr(0, url->path.find_first_of("?#"));
  if (path.rfind("/$hc/", 0) == 0) path.erase(1, 4);
  if (path.empty()) path = "/";
  std::string host = url->host.find(':') != std::string::npos ? "[" + url->host + "]" : url->host;
  if (style == SdkStyle::node) {
    // Node nulls parsedUrl.port but url.format() uses `host`, so an explicit port survives.
    if (url->explicit_port) host += ":" + std::to_string(url->port);
    if (path.size() > 1 && path.back() == '/') path.pop_back();
    return "http://" + host + path;
  }
  if (path.back() != '/') path += '/';
  return "http://" + host + path;
}

std::string create_sas_token(std::string_view resource_uri, std::string_view rule_name,
                             const core::Secret& key, std::int64_t expiry_unix, SdkStyle style) {
  const auto encode = [style](std::string_view s) {
    return style == SdkStyle::node ? encode_uri_component(s) : dotnet_url_encode(s);
  };
  const std::string sr = encode(resource_uri);
  const std::string se = std::to_string(expiry_unix);
  const std::string sig = base64_encode(hmac_sha256(key.reveal(), sr + "\n" + se));
  return std::string(kPrefix) + "sr=" + sr + "&sig=" + encode(sig) + "&se=" + se +
         "&skn=" + std::string(rule_name);
}

std::string_view to_string(TokenFault fault) {
  switch (fault) {
    case TokenFault::none:
      return "none";
    case TokenFault::missing:
      return "missing";
    case TokenFault::malformed:
      return "malformed";
    case TokenFault::unknown_rule:
      return "unknown_rule";
    case TokenFault::bad_signature:
      return "bad_signature";
    case TokenFault::expired:
      return "expired";
    case TokenFault::wrong_audience:
      return "wrong_audience";
    case TokenFault::missing_right:
      return "missing_right";
  }
  return "unknown";
}

int handshake_status(TokenFault fault) {
  switch (fault) {
    case TokenFault::none:
      return 0;
    case TokenFault::wrong_audience:
    case TokenFault::missing_right:
      return 403;
    default:
      return 401;
  }
}

bool path_covers(std::string_view base, std::string_view path) {
  base = trim_slashes(base);
  path = trim_slashes(path);
  if (base.empty()) return true;
  if (path.size() < base.size() || !iequals(path.substr(0, base.size()), base)) return false;
  return path.size() == base.size() || path[base.size()] == '/';
}

TokenVerdict verify_sas_token(std::string_view token, const KeyRing& keys,
                              const TokenRequirement& requirement) {
  if (token.empty()) return refuse(TokenFault::missing, "no SAS token");
  if (token.size() < kPrefix.size() || !iequals(token.substr(0, kPrefix.size()), kPrefix)) {
    return refuse(TokenFault::malformed, "token lacks the SAS scheme prefix");
  }
  std::map<std::string, std::string_view> fields;
  std::string_view rest = token.substr(kPrefix.size());
  while (!rest.empty()) {
    const auto amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
    const auto eq = pair.find('=');
    if (eq == std::string_view::npos || eq == 0) {
      return refuse(TokenFault::malformed, "token field without '=' or name");
    }
    if (!fields.emplace(lower(pair.substr(0, eq)), pair.substr(eq + 1)).second) {
      return refuse(TokenFault::malformed, "token repeats a field");
    }
  }
  for (const char* required : {"sr", "sig", "se", "skn"}) {
    if (fields.find(required) == fields.end() || fields[required].empty()) {
      return refuse(TokenFault::malformed, std::string("token lacks '") + required + "'");
    }
  }
  const std::string_view raw_sr = fields["sr"];
  const std::string_view se_text = fields["se"];
  std::int64_t se = 0;
  const auto [end, ec] = std::from_chars(se_text.data(), se_text.data() + se_text.size(), se);
  if (ec != std::errc{} || end != se_text.data() + se_text.size()) {
    return refuse(TokenFault::malformed, "token expiry 'se' is not a number");
  }
  auto rule_name = core::percent_decode(fields["skn"]);
  if (!rule_name) return refuse(TokenFault::malformed, "token 'skn' has a bad escape");
  const SasRule* rule = keys.find(*rule_name);
  if (rule == nullptr) {
    // The name is the client's claim, not a secret; it helps the admin spot a wrong rule.
    return refuse(TokenFault::unknown_rule, "no rule named '" + *rule_name + "'", *rule_name, se);
  }
  auto sig = core::percent_decode(fields["sig"]);
  if (!sig) return refuse(TokenFault::malformed, "token 'sig' has a bad escape", *rule_name, se);
  // Sign the still-encoded sr exactly as sent: SDKs differ in escape case and slashes.
  const std::string expected = base64_encode(
      hmac_sha256(rule->key.reveal(), std::string(raw_sr) + "\n" + std::string(se_text)));
  if (!constant_time_equal(expected, *sig)) {
    return refuse(TokenFault::bad_signature, "signature does not match rule '" + *rule_name + "'",
                  *rule_name, se);
  }
  if (se <= requirement.now_unix) {
    return refuse(TokenFault::expired, "token expired", *rule_name, se);
  }
  auto audience = core::percent_decode(raw_sr);
  if (!audience)
    return refuse(TokenFault::malformed, "token 'sr' has a bad escape", *rule_name, se);
  std::string_view aud = *audience;
  if (const auto scheme_end = aud.find("://"); scheme_end != std::string_view::npos) {
    aud.remove_prefix(scheme_end + 3);
  }
  const auto slash = aud.find('/');
  std::string_view aud_path =
      slash == std::string_view::npos ? std::string_view{} : aud.substr(slash);
  aud_path = trim_slashes(aud_path);
  if (aud_path.rfind("$hc/", 0) == 0) aud_path.remove_prefix(4);
  if (!path_covers(aud_path, requirement.entity_path)) {
    return refuse(TokenFault::wrong_audience,
                  "token audience does not cover path '" +
                      std::string(trim_slashes(requirement.entity_path)) + "'",
                  *rule_name, se);
  }
  if (!grants(rule->rights, requirement.right)) {
    const char* want = requirement.right == Right::listen ? "Listen" : "Send";
    return refuse(TokenFault::missing_right,
                  "rule '" + *rule_name + "' lacks the " + want + " right", *rule_name, se);
  }
  return TokenVerdict{TokenFault::none, *rule_name, se, "ok"};
}

}  // namespace gwprobe::gateway::protocol
