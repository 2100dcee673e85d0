// Static evaluation of a ruleset for one new outbound TCP connection: which verdict the kernel
// would reach for its first packet (and for the replies), and which rule decided. Anything that
// cannot be known from the ruleset alone is explored both ways; when the answers differ the
// verdict is "unknown because ...", never a guess. Pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "rules/firewall/ip_range.hpp"
#include "rules/firewall/ruleset.hpp"

namespace gwprobe::rules::firewall {

/// Which hooks the connection's packets cross.
enum class Path {
  output,   ///< the gateway host's own connection: output + postrouting (replies: prerouting +
            ///< input)
  forward,  ///< a router in front of the gateway: prerouting + forward + postrouting
};

struct PacketQuery {
  IpAddress destination;
  std::uint16_t port = 0;
  Path path = Path::output;
  std::string oif;  ///< interface toward the destination (the default route's); "" = unknown
  std::string iif;  ///< forward path: interface the gateway's traffic arrives on; "" = unknown
  std::optional<IpAddress> source;  ///< the gateway's own address, when known
  bool check_replies = true;        ///< also evaluate the SYN-ACK coming back
};

enum class VerdictKind { accept, drop, reject, unknown };
std::string_view to_string(VerdictKind kind) noexcept;

/// A rule (or a chain policy) that took part in a decision.
struct RuleRef {
  std::string location;          ///< "inet gwfilter output handle 11", "line 12", "policy of ..."
  std::string text;              ///< the rule itself, e.g. "tcp dport 443 accept"
  std::string describe() const;  ///< "inet gwfilter output handle 11: tcp dport 443 accept"
};

struct Verdict {
  VerdictKind kind = VerdictKind::unknown;
  std::string reject_type;  ///< "tcp reset", "icmp admin-prohibited", ... for reject
  /// For drop/reject: the deciding rule. For accept: the rule (or policy) that accepted in
  /// each base chain crossed, in order.
  std::vector<RuleRef> decided_by;
  std::string unknown_because;  ///< for unknown: what static evaluation cannot know
  bool on_reply_path = false;   ///< the SYN passes but the replies are blocked
  std::vector<std::string> notes;

  /// "accept (inet gwfilter output handle 11: ...)", "drop (...)", "unknown because ...".
  std::string describe() const;
};

/// Evaluates the first packet of a new TCP connection to query.destination:query.port (and, when
/// it passes and check_replies is set, the SYN-ACK back).
Verdict evaluate_packet(const Ruleset& ruleset, const PacketQuery& query);

/// What a client's connect() would observe for this verdict, as the TCP probe names it:
/// "OK", "TCP_FILTERED" (drop), "TCP_REFUSED" (tcp reset, port-unreachable),
/// "TCP_UNREACHABLE" (host/net/admin-prohibited...), or "" when unknown.
std::string expected_tcp_outcome(const Verdict& verdict);

/// Splits `range` where any address constant of the ruleset begins or ends, so every address
/// in one piece gets the same verdict (then one address per piece is enough).
std::vector<IpRange> split_by_ruleset(const Ruleset& ruleset, const IpRange& range);

}  // namespace gwprobe::rules::firewall
