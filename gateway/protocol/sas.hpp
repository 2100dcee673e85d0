// Shared Access Signature tokens: minting them as Microsoft's Node and .NET SDKs do, and
// verifying them exactly as reference/hybrid-connections-protocol.md A.6 prescribes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "core/secret.hpp"

namespace gwprobe::gateway::protocol {

/// The claims a rule grants. Manage implies Listen and Send, as in Azure Relay.
enum class Right : unsigned { listen = 1, send = 2, manage = 4 };
using Rights = unsigned;
inline constexpr Rights rights_of(Right r) {
  return static_cast<Rights>(r);
}
bool grants(Rights held, Right wanted);
/// "Listen", "Send", "Manage" (case-insensitive) to a Right; not_found for anything else.
core::Result<Right> parse_right(std::string_view name);
/// "Listen,Send" style list for logs and /status.
std::string describe_rights(Rights rights);

/// A named authorization rule: the key string is used as UTF-8 bytes (never base64-decoded),
/// as both SDKs do.
struct SasRule {
  std::string name;
  core::Secret key;
  Rights rights = 0;
};

/// The relay's rules, looked up by the token's `skn`.
class KeyRing {
 public:
  /// Fails (invalid_input) on an empty name, an empty key, no rights or a duplicate name.
  core::Result<void> add(SasRule rule);
  const SasRule* find(std::string_view name) const;
  const std::vector<SasRule>& rules() const { return rules_; }
  bool empty() const { return rules_.empty(); }

 private:
  std::vector<SasRule> rules_;
};

/// Which SDK's encoding to imitate when minting.
enum class SdkStyle {
  node,    ///< hyco-ws: encodeURIComponent (upper-case %XX), port kept, no trailing slash
  dotnet,  ///< Microsoft.Azure.Relay: WebUtility.UrlEncode (lower-case %xx), trailing slash
};

/// The audience (`sr` before encoding) an SDK derives from a relay URL such as
/// "wss://host:9443/$hc/path?sb-hc-action=listen": scheme forced to http, query dropped,
/// "$hc/" removed. Node keeps an explicit port; .NET drops it and adds a trailing slash.
core::Result<std::string> sas_resource_uri(std::string_view relay_url, SdkStyle style);

/// "SharedAccessSignature sr=..&sig=..&se=..&skn=.." signed with HMAC-SHA256(key, enc(sr)+"\n"+se).
std::string create_sas_token(std::string_view resource_uri, std::string_view rule_name,
                             const core::Secret& key, std::int64_t expiry_unix,
                             SdkStyle style = SdkStyle::node);

/// Why a token was refused. Each maps to the handshake status a relay answers with.
enum class TokenFault {
  none,
  missing,         ///< no token at all (401)
  malformed,       ///< not "SharedAccessSignature k=v&..." with sr, sig, se, skn (401)
  unknown_rule,    ///< `skn` names no rule (401)
  bad_signature,   ///< HMAC mismatch: wrong key or tampered token (401)
  expired,         ///< `se` is not in the future (401)
  wrong_audience,  ///< `sr` does not cover the requested path (403)
  missing_right,   ///< the rule lacks Listen/Send for this action (403)
};
std::string_view to_string(TokenFault fault);
/// 401 or 403 as in the protocol's handshake-error table (0 for none).
int handshake_status(TokenFault fault);

/// What the caller asks of a token.
struct TokenRequirement {
  std::string_view entity_path;  ///< requested path without "$hc/", e.g. "db1/sub"
  Right right = Right::listen;
  std::int64_t now_unix = 0;
};

/// The outcome of verification. `reason` is one line that never contains the token, the key or
/// the signature, so it is safe to log and to send to the peer.
struct TokenVerdict {
  TokenFault fault = TokenFault::none;
  std::string rule;             ///< skn, when the token parsed
  std::int64_t expires_at = 0;  ///< se, when the token parsed
  std::string reason;
  bool ok() const { return fault == TokenFault::none; }
};

/// Recipe A.6: raw-`sr` HMAC (never re-encoded), constant-time compare, expiry, audience
/// (scheme, port, case and trailing slash ignored; segment-boundary prefix), rights.
TokenVerdict verify_sas_token(std::string_view token, const KeyRing& keys,
                              const TokenRequirement& requirement);

/// True when `path` equals `base` or lies under it on a '/' boundary, ignoring ASCII case and
/// leading/trailing slashes. An empty base covers everything.
bool path_covers(std::string_view base, std::string_view path);

}  // namespace gwprobe::gateway::protocol
