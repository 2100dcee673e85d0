// The ruleset interpreter. One run walks the hooks a packet crosses, base chain by base chain,
// rule by rule, exactly as nf_tables does; a match it cannot decide is put to an oracle, and the
// runs for every combination of oracle answers are compared (see explore()).
#include "rules/firewall/evaluate.hpp"

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>

namespace gwprobe::rules::firewall {

namespace {

using json = nlohmann::json;

// nf_tables' jump stack is 16 deep (NFT_JUMP_STACK_SIZE); the kernel refuses deeper rulesets.
constexpr int kMaxJumpDepth = 16;
// Each undecidable match doubles the runs; past this many, "unknown" is the honest answer.
constexpr std::size_t kMaxRuns = 256;
// A new connection's source port is an ephemeral port: Linux 32768-60999 by default, Windows
// and macOS 49152-65535. A match that splits this range is undecidable; one that covers it
// (e.g. "tcp sport 1024-65535") or misses it (e.g. a reply to "tcp dport 5672") is not.
constexpr std::uint64_t kEphemeralFirst = 32768;
constexpr std::uint64_t kEphemeralLast = 65535;
// Values the first packet of an outbound TCP connection has.
constexpr std::uint64_t kProtoTcp = 6;
constexpr std::uint64_t kNfprotoIpv4 = 2;
constexpr std::uint64_t kNfprotoIpv6 = 10;
constexpr std::uint64_t kEthertypeIpv4 = 0x0800;
constexpr std::uint64_t kEthertypeIpv6 = 0x86dd;
constexpr std::uint64_t kCtInvalid = 1;
constexpr std::uint64_t kCtEstablished = 2;
constexpr std::uint64_t kCtRelated = 4;
constexpr std::uint64_t kCtNew = 8;
constexpr std::uint64_t kCtUntracked = 64;
constexpr std::uint64_t kTcpFin = 0x01;
constexpr std::uint64_t kTcpSyn = 0x02;
constexpr std::uint64_t kTcpRst = 0x04;
constexpr std::uint64_t kTcpPsh = 0x08;
constexpr std::uint64_t kTcpAck = 0x10;
constexpr std::uint64_t kTcpUrg = 0x20;
constexpr std::uint64_t kTcpEcn = 0x40;
constexpr std::uint64_t kTcpCwr = 0x80;

// ---------------------------------------------------------------------------------------------
// Values

enum class ValueType {
  number,
  port,
  address,
  ifname,
  l4proto,
  nfproto,
  ethertype,
  ct_state,
  ct_direction,
  tcp_flags,
  concat,
};

bool is_bitmask(ValueType t) {
  return t == ValueType::ct_state || t == ValueType::tcp_flags;
}

struct Value {
  ValueType type = ValueType::number;
  std::uint64_t number = 0;     ///< first of a number range
  std::uint64_t number_hi = 0;  ///< last of a number range (== number for one value)
  IpAddress address;
  std::string name;
  std::vector<Value> parts;
  /// An interface that is not known but is not "lo": a remote destination is never routed
  /// through the loopback device, and forwarded traffic never arrives on it.
  bool unknown_not_loopback = false;
  std::string unknown_why;

  static Value of(ValueType type, std::uint64_t n) {
    Value v;
    v.type = type;
    v.number = n;
    v.number_hi = n;
    return v;
  }
  static Value range(ValueType type, std::uint64_t first, std::uint64_t last) {
    Value v = of(type, first);
    v.number_hi = last;
    return v;
  }
  bool is_range() const { return number != number_hi; }
};

enum class Truth { yes, no, unknown };

struct Decision {
  Truth truth = Truth::no;
  std::string why;  ///< for unknown
};

Decision yes() {
  return {Truth::yes, {}};
}
Decision no() {
  return {Truth::no, {}};
}
Decision unknown(std::string why) {
  return {Truth::unknown, std::move(why)};
}

struct FieldResult {
  enum State { known, absent, unknown } state = unknown;
  Value value;
  std::string why;
};

FieldResult known_field(Value v) {
  return {FieldResult::known, std::move(v), {}};
}
FieldResult absent_field() {
  return {FieldResult::absent, {}, {}};
}
FieldResult unknown_field(std::string why) {
  return {FieldResult::unknown, {}, std::move(why)};
}

std::optional<std::uint64_t> symbol_value(ValueType type, std::string_view s) {
  static const std::map<std::string_view, std::uint64_t> protos = {
      {"tcp", 6},     {"udp", 17},   {"icmp", 1},      {"igmp", 2},  {"ipv6-icmp", 58},
      {"icmpv6", 58}, {"sctp", 132}, {"udplite", 136}, {"dccp", 33}, {"esp", 50},
      {"ah", 51},     {"comp", 108}, {"gre", 47},      {"ipip", 4},  {"ipencap", 4},
      {"ospf", 89},   {"vrrp", 112}, {"l2tp", 115},    {"egp", 8},   {"pim", 103}};
  static const std::map<std::string_view, std::uint64_t> nfprotos = {
      {"ipv4", 2}, {"ipv6", 10}, {"inet", 1}, {"arp", 3}, {"bridge", 7}, {"netdev", 5}};
  static const std::map<std::string_view, std::uint64_t> ethertypes = {
      {"ip", 0x0800}, {"ip6", 0x86dd}, {"arp", 0x0806}, {"vlan", 0x8100}, {"8021q", 0x8100}};
  static const std::map<std::string_view, std::uint64_t> ct_states = {
      {"invalid", kCtInvalid},
      {"established", kCtEstablished},
      {"related", kCtRelated},
      {"new", kCtNew},
      {"untracked", kCtUntracked}};
  static const std::map<std::string_view, std::uint64_t> directions = {{"original", 0},
                                                                       {"reply", 1}};
  static const std::map<std::string_view, std::uint64_t> flags = {
      {"fin", kTcpFin}, {"syn", kTcpSyn}, {"rst", kTcpRst}, {"psh", kTcpPsh},
      {"ack", kTcpAck}, {"urg", kTcpUrg}, {"ecn", kTcpEcn}, {"cwr", kTcpCwr}};
  // Service names nft may print instead of numbers (nft -S, or older versions).
  static const std::map<std::string_view, std::uint64_t> services = {
      {"ftp", 21},        {"ssh", 22},       {"telnet", 23},        {"smtp", 25},
      {"domain", 53},     {"http", 80},      {"kerberos", 88},      {"ntp", 123},
      {"ldap", 389},      {"https", 443},    {"microsoft-ds", 445}, {"ldaps", 636},
      {"ms-sql-s", 1433}, {"mysql", 3306},   {"postgresql", 5432},  {"amqps", 5671},
      {"amqp", 5672},     {"http-alt", 8080}};
  const std::map<std::string_view, std::uint64_t>* table = nullptr;
  switch (type) {
    case ValueType::l4proto:
      table = &protos;
      break;
    case ValueType::nfproto:
      table = &nfprotos;
      break;
    case ValueType::ethertype:
      table = &ethertypes;
      break;
    case ValueType::ct_state:
      table = &ct_states;
      break;
    case ValueType::ct_direction:
      table = &directions;
      break;
    case ValueType::tcp_flags:
      table = &flags;
      break;
    case ValueType::port:
      table = &services;
      break;
    default:
      return std::nullopt;
  }
  if (const auto it = table->find(s); it != table->end()) return it->second;
  return std::nullopt;
}

// A constant on the right-hand side, read for a field of `type`. Empty with `why` when it cannot
// be interpreted.
std::optional<Value> constant(const json& c, ValueType type, std::string* why) {
  if (type == ValueType::address) {
    if (c.is_string()) {
      if (const auto a = IpAddress::parse(c.get<std::string>())) {
        Value v;
        v.type = type;
        v.address = *a;
        return v;
      }
    }
    *why = fmt::format("cannot read {} as an address", c.dump());
    return std::nullopt;
  }
  if (type == ValueType::ifname) {
    if (c.is_string()) {
      Value v;
      v.type = type;
      v.name = c.get<std::string>();
      return v;
    }
    *why = fmt::format("cannot read {} as an interface name", c.dump());
    return std::nullopt;
  }
  if (c.is_number_unsigned() || (c.is_number_integer() && c.get<std::int64_t>() >= 0)) {
    return Value::of(type, c.get<std::uint64_t>());
  }
  if (c.is_string()) {
    const std::string s = c.get<std::string>();
    if (const auto n = symbol_value(type, s)) return Value::of(type, *n);
    // Marks and other numbers may be printed in hex.
    if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
      try {
        return Value::of(type, std::stoull(s, nullptr, 16));
      } catch (const std::exception&) {
      }
    }
  }
  if (c.is_array() && is_bitmask(type)) {  // ["established", "related"]: a flag list
    std::uint64_t mask = 0;
    for (const auto& item : c) {
      auto part = constant(item, type, why);
      if (!part) return std::nullopt;
      mask |= part->number;
    }
    return Value::of(type, mask);
  }
  if (c.is_object() && c.contains("|") && c["|"].is_array()) {  // (syn | ack)
    std::uint64_t mask = 0;
    for (const auto& item : c["|"]) {
      auto part = constant(item, type, why);
      if (!part) return std::nullopt;
      mask |= part->number;
    }
    return Value::of(type, mask);
  }
  *why = fmt::format("cannot interpret the constant {}", c.dump());
  return std::nullopt;
}

// nft interface wildcards: "eth*" matches a prefix; "\*" is a literal star.
bool ifname_matches(const std::string& name, const std::string& pattern) {
  if (!pattern.empty() && pattern.back() == '*' &&
      (pattern.size() < 2 || pattern[pattern.size() - 2] != '\\')) {
    return name.compare(0, pattern.size() - 1, pattern, 0, pattern.size() - 1) == 0;
  }
  std::string literal;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == '\\' && i + 1 < pattern.size()) continue;
    literal.push_back(pattern[i]);
  }
  return name == literal;
}

// Number ranges: yes when [lo,hi] is inside [a,b], no when disjoint, unknown otherwise.
Decision range_in(const Value& v, std::uint64_t a, std::uint64_t b, std::string_view what) {
  if (v.number >= a && v.number_hi <= b) return yes();
  if (v.number_hi < a || v.number > b) return no();
  return unknown(fmt::format("{} is any of {}-{}", what, v.number, v.number_hi));
}

std::string describe_value_source(const Value& v) {
  return v.type == ValueType::port ? "the connection's ephemeral port" : "the value";
}

// ---------------------------------------------------------------------------------------------
// Packet state and evaluation context

struct PacketState {
  IpFamily family = IpFamily::v4;
  std::optional<IpAddress> daddr;  ///< replies: the gateway's own address, often unknown
  std::optional<IpAddress> saddr;
  Value dport;
  Value sport;
  std::uint64_t tcp_flags = kTcpSyn;
  std::uint64_t ct_state = kCtNew;
  std::uint64_t ct_direction = 0;
  std::optional<std::uint64_t> mark = 0;
  std::optional<std::uint64_t> ct_mark = 0;
  bool local_socket = true;  ///< sent by a local process: skuid/skgid exist but are unknown
};

struct HookStep {
  Hook hook;
  std::optional<std::string> iif;  ///< nullopt: unknown; "": no input device on this hook
  std::optional<std::string> oif;
};

/// Answers the questions static evaluation cannot: the i-th question gets the i-th answer of
/// the prefix, later ones "no". Records every question, for the exploration and the messages.
class Oracle {
 public:
  explicit Oracle(std::vector<bool> prefix) : prefix_(std::move(prefix)) {}
  bool ask(std::string question) {
    const bool answer = questions_.size() < prefix_.size() ? prefix_[questions_.size()] : false;
    questions_.push_back(std::move(question));
    answers_.push_back(answer);
    return answer;
  }
  const std::vector<std::string>& questions() const { return questions_; }
  const std::vector<bool>& answers() const { return answers_; }

 private:
  std::vector<bool> prefix_;
  std::vector<std::string> questions_;
  std::vector<bool> answers_;
};

struct RunResult {
  VerdictKind kind = VerdictKind::unknown;
  std::string reject_type;
  std::vector<RuleRef> rules;
  std::string unknown_because;
};

enum class Action { next_rule, accept, drop, reject, jump, go_to, return_, unknown };

struct RuleOutcome {
  Action action = Action::next_rule;
  std::string target;  ///< jump/goto
  std::string reject_type;
  std::string why;  ///< unknown
};

class Interpreter {
 public:
  Interpreter(const Ruleset& ruleset, PacketState packet, Oracle& oracle)
      : ruleset_(ruleset), packet_(std::move(packet)), oracle_(oracle) {}

  RunResult run(const std::vector<HookStep>& steps) {
    RunResult result;
    for (const auto& step : steps) {
      step_ = &step;
      for (const Chain* chain : base_chains(step)) {
        chain_ = chain;
        if (chain->family == "netdev") {
          return unknown_result(
              fmt::format("netdev chain {} on the path is not evaluated", chain->location));
        }
        auto r = walk(*chain, 0);
        if (r.action == Action::next_rule || r.action == Action::return_) {
          RuleRef policy{fmt::format("policy of {}", chain->location),
                         fmt::format("policy {}", chain->policy)};
          if (chain->policy == "drop") {
            result.kind = VerdictKind::drop;
            result.rules = {policy};
            return result;
          }
          result.rules.push_back(policy);
          continue;
        }
        if (r.action == Action::accept) {
          result.rules.push_back(last_rule_);
          continue;
        }
        if (r.action == Action::drop || r.action == Action::reject) {
          result.kind = r.action == Action::drop ? VerdictKind::drop : VerdictKind::reject;
          result.reject_type = r.reject_type;
          result.rules = {last_rule_};
          return result;
        }
        return unknown_result(r.why);
      }
    }
    result.kind = VerdictKind::accept;
    return result;
  }

 private:
  RunResult unknown_result(std::string why) {
    RunResult r;
    r.kind = VerdictKind::unknown;
    r.unknown_because = std::move(why);
    return r;
  }

  bool family_applies(const std::string& family) const {
    if (family == "inet") return true;
    if (family == "ip") return packet_.family == IpFamily::v4;
    if (family == "ip6") return packet_.family == IpFamily::v6;
    return false;
  }

  std::vector<const Chain*> base_chains(const HookStep& step) const {
    const Hook hook = step.hook;
    std::vector<const Chain*> chains;
    for (const auto& chain : ruleset_.chains) {
      if (!chain.hook || *chain.hook != hook) continue;
      if (family_applies(chain.family)) chains.push_back(&chain);
    }
    // Device-bound netdev chains (ingress on the reply's device, egress on the SYN's) sit on
    // this path too; gwprobe does not evaluate them, so they make the verdict unknown.
    for (const auto& chain : ruleset_.chains) {
      if (chain.family != "netdev" || !chain.hook) continue;
      const bool egress = hook == Hook::postrouting && *chain.hook == Hook::egress;
      const bool ingress = hook == Hook::prerouting && *chain.hook == Hook::ingress;
      if (!egress && !ingress) continue;
      // A chain bound to another device than the one the packet crosses does not see it.
      const auto& device = egress ? step.oif : step.iif;
      if (device && !chain.devices.empty() &&
          std::find(chain.devices.begin(), chain.devices.end(), *device) == chain.devices.end()) {
        continue;
      }
      chains.push_back(&chain);
    }
    std::stable_sort(chains.begin(), chains.end(),
                     [](const Chain* a, const Chain* b) { return a->priority < b->priority; });
    return chains;
  }

  // Runs a chain; returns accept/drop/reject/unknown, or next_rule when it falls off the end
  // (or returns).
  RuleOutcome walk(const Chain& chain, int depth) {
    for (const auto& rule : chain.rules) {
      auto outcome = exec_rule(rule);
      switch (outcome.action) {
        case Action::next_rule:
          continue;
        case Action::return_:
          return RuleOutcome{Action::next_rule, {}, {}, {}};
        case Action::accept:
        case Action::drop:
        case Action::reject:
          last_rule_ = RuleRef{rule.location, rule.text};
          return outcome;
        case Action::unknown:
          return RuleOutcome{
              Action::unknown, {}, {}, fmt::format("{}: {}", rule.location, outcome.why)};
        case Action::jump:
        case Action::go_to: {
          const Chain* target = ruleset_.find_chain(chain.family, chain.table, outcome.target);
          if (target == nullptr) {
            return RuleOutcome{Action::unknown,
                               {},
                               {},
                               fmt::format("{}: jumps to chain '{}', which is not in the ruleset",
                                           rule.location, outcome.target)};
          }
          if (depth + 1 > kMaxJumpDepth) {
            return RuleOutcome{
                Action::unknown,
                {},
                {},
                fmt::format("{}: jumps nest deeper than {}", rule.location, kMaxJumpDepth)};
          }
          auto r = walk(*target, depth + 1);
          if (r.action == Action::next_rule) {
            if (outcome.action == Action::go_to) return r;  // goto: back to our caller
            continue;
          }
          return r;
        }
      }
    }
    return RuleOutcome{Action::next_rule, {}, {}, {}};
  }

  // -------------------------------------------------------------------------------------------
  // Fields

  FieldResult interface_field(const std::optional<std::string>& device, const char* flag,
                              const char* which) const {
    Value v;
    v.type = ValueType::ifname;
    if (!device) {
      v.unknown_not_loopback = true;
      v.unknown_why = fmt::format("the {} interface is not known (give {})", which, flag);
    } else {
      v.name = *device;
    }
    return known_field(v);
  }

  FieldResult payload_field(const json& payload) const {
    if (!payload.contains("protocol")) {
      return unknown_field(fmt::format("raw payload match {}", payload.dump()));
    }
    const std::string protocol = payload.value("protocol", "");
    const std::string field = payload.value("field", "");
    const auto address_field = [&](IpFamily family) -> FieldResult {
      if (packet_.family != family) return absent_field();
      if (field == "daddr" || field == "saddr") {
        const auto& address = field == "daddr" ? packet_.daddr : packet_.saddr;
        if (!address) {
          return unknown_field(
              fmt::format("{} {}: the gateway's own address (give --source)", protocol, field));
        }
        Value v;
        v.type = ValueType::address;
        v.address = *address;
        return known_field(v);
      }
      if (field == "protocol" || field == "nexthdr") {
        return known_field(Value::of(ValueType::l4proto, kProtoTcp));
      }
      if (field == "version") {
        return known_field(Value::of(ValueType::number, family == IpFamily::v4 ? 4 : 6));
      }
      return unknown_field(fmt::format("{} {} of the packet", protocol, field));
    };
    if (protocol == "ip") return address_field(IpFamily::v4);
    if (protocol == "ip6") return address_field(IpFamily::v6);
    if (protocol == "tcp" || protocol == "th") {
      if (field == "dport") return known_field(packet_.dport);
      if (field == "sport") return known_field(packet_.sport);
      if (field == "flags" && protocol == "tcp") {
        return known_field(Value::of(ValueType::tcp_flags, packet_.tcp_flags));
      }
      return unknown_field(fmt::format("{} {} of the packet", protocol, field));
    }
    if (protocol == "udp" || protocol == "udplite" || protocol == "sctp" || protocol == "dccp" ||
        protocol == "icmp" || protocol == "icmpv6" || protocol == "ah" || protocol == "esp" ||
        protocol == "comp" || protocol == "igmp" || protocol == "gre") {
      return absent_field();  // not a TCP header: the match cannot apply
    }
    return unknown_field(fmt::format("{} {} of the packet", protocol, field));
  }

  FieldResult meta_field(const std::string& key) const {
    if (key == "l4proto") return known_field(Value::of(ValueType::l4proto, kProtoTcp));
    if (key == "nfproto") {
      return known_field(Value::of(ValueType::nfproto,
                                   packet_.family == IpFamily::v4 ? kNfprotoIpv4 : kNfprotoIpv6));
    }
    if (key == "protocol") {
      return known_field(Value::of(
          ValueType::ethertype, packet_.family == IpFamily::v4 ? kEthertypeIpv4 : kEthertypeIpv6));
    }
    if (key == "iifname" || key == "iif") return interface_field(step_->iif, "--iif", "input");
    if (key == "oifname" || key == "oif") return interface_field(step_->oif, "--oif", "output");
    if (key == "mark") {
      if (!packet_.mark) return unknown_field("the packet mark set by an earlier rule");
      return known_field(Value::of(ValueType::number, *packet_.mark));
    }
    if (key == "skuid" || key == "skgid") {
      if (!packet_.local_socket) return absent_field();
      return unknown_field(fmt::format("meta {}: the user or group the gateway runs as", key));
    }
    return unknown_field(fmt::format("meta {}", key));
  }

  FieldResult ct_field(const json& ct) const {
    const std::string key = ct.value("key", "");
    if (ct.contains("dir")) return unknown_field(fmt::format("ct {} {}", ct["dir"].dump(), key));
    if (key == "state") return known_field(Value::of(ValueType::ct_state, packet_.ct_state));
    if (packet_.ct_state == kCtUntracked) return absent_field();
    if (key == "direction") {
      return known_field(Value::of(ValueType::ct_direction, packet_.ct_direction));
    }
    if (key == "mark") {
      if (!packet_.ct_mark) return unknown_field("the connection mark set by earlier rules");
      return known_field(Value::of(ValueType::number, *packet_.ct_mark));
    }
    if (key == "l3proto") {
      return known_field(Value::of(ValueType::nfproto,
                                   packet_.family == IpFamily::v4 ? kNfprotoIpv4 : kNfprotoIpv6));
    }
    if (key == "protocol" || key == "proto") {
      return known_field(Value::of(ValueType::l4proto, kProtoTcp));
    }
    return unknown_field(fmt::format("ct {}", key));
  }

  FieldResult eval_left(const json& e) const {
    if (!e.is_object() || e.empty()) return unknown_field(fmt::format("expression {}", e.dump()));
    if (e.contains("payload")) return payload_field(e["payload"]);
    if (e.contains("meta")) return meta_field(e["meta"].value("key", ""));
    if (e.contains("ct")) return ct_field(e["ct"]);
    for (const char* op : {"&", "|", "^"}) {
      if (!e.contains(op)) continue;
      const json& args = e[op];
      if (!args.is_array() || args.size() != 2) {
        return unknown_field(fmt::format("expression {}", e.dump()));
      }
      auto inner = eval_left(args[0]);
      if (inner.state != FieldResult::known) return inner;
      if (inner.value.type == ValueType::address || inner.value.type == ValueType::ifname ||
          inner.value.type == ValueType::concat || inner.value.is_range()) {
        return unknown_field(fmt::format("bitwise expression {}", e.dump()));
      }
      std::string why;
      auto mask = constant(args[1], inner.value.type, &why);
      if (!mask) return unknown_field(why);
      std::uint64_t n = inner.value.number;
      n = op[0] == '&'   ? (n & mask->number)
          : op[0] == '|' ? (n | mask->number)
                         : (n ^ mask->number);
      return known_field(Value::of(inner.value.type, n));
    }
    if (e.contains("concat")) {
      Value v;
      v.type = ValueType::concat;
      for (const auto& part : e["concat"]) {
        auto r = eval_left(part);
        if (r.state != FieldResult::known) return r;
        v.parts.push_back(r.value);
      }
      return known_field(v);
    }
    return unknown_field(fmt::format("{} expression", e.begin().key()));
  }

  // -------------------------------------------------------------------------------------------
  // Patterns (right-hand sides)

  Decision match_set(const Value& v, const json& elements, std::string_view what) const {
    bool any_unknown = false;
    std::string why;
    for (const auto& element : elements) {
      // A map's elements are [key, data]: a lookup compares the key.
      const bool map_entry = element.is_array() && element.size() == 2 && !is_bitmask(v.type);
      auto d = match_pattern(v, map_entry ? element[0] : element);
      if (d.truth == Truth::yes) return d;
      if (d.truth == Truth::unknown) {
        any_unknown = true;
        if (why.empty()) why = d.why;
      }
    }
    if (any_unknown) return unknown(fmt::format("{}: {}", what, why));
    return no();
  }

  Decision match_pattern(const Value& v, const json& p) const {
    if (p.is_string() && !p.get<std::string>().empty() && p.get<std::string>()[0] == '@') {
      const std::string name = p.get<std::string>().substr(1);
      const NamedSet* set = ruleset_.find_set(chain_->family, chain_->table, name);
      if (set == nullptr) return unknown(fmt::format("set @{} is not in the ruleset", name));
      if (set->dynamic) {
        return unknown(
            fmt::format("set @{} is dynamic (the kernel adds and expires elements)", name));
      }
      return match_set(v, set->elements, "@" + name);
    }
    if (p.is_object() && p.contains("elem"))
      return match_pattern(v, p["elem"].value("val", json()));
    if (p.is_object() && p.contains("set")) return match_set(v, p["set"], "anonymous set");
    if (p.is_array() && v.type != ValueType::concat) return match_set(v, p, "list");
    if (v.type == ValueType::concat) {
      const json* parts = p.is_object() && p.contains("concat") ? &p["concat"] : nullptr;
      if (parts == nullptr || !parts->is_array() || parts->size() != v.parts.size()) {
        return unknown(fmt::format("cannot compare a concatenation with {}", p.dump()));
      }
      bool any_unknown = false;
      std::string why;
      for (std::size_t i = 0; i < v.parts.size(); ++i) {
        auto d = match_pattern(v.parts[i], (*parts)[i]);
        if (d.truth == Truth::no) return no();
        if (d.truth == Truth::unknown) {
          any_unknown = true;
          why = d.why;
        }
      }
      return any_unknown ? unknown(why) : yes();
    }
    if (v.type == ValueType::address) {
      std::optional<IpRange> range;
      if (p.is_object() && p.contains("prefix")) {
        const auto a = IpAddress::parse(p["prefix"].value("addr", ""));
        if (!a) return unknown(fmt::format("cannot read prefix {}", p.dump()));
        range = IpRange::prefix(*a, p["prefix"].value("len", 0));
      } else if (p.is_object() && p.contains("range") && p["range"].size() == 2) {
        const auto a = IpAddress::parse(p["range"][0].is_string() ? p["range"][0].get<std::string>()
                                                                  : std::string());
        const auto b = IpAddress::parse(p["range"][1].is_string() ? p["range"][1].get<std::string>()
                                                                  : std::string());
        if (!a || !b) return unknown(fmt::format("cannot read range {}", p.dump()));
        range = IpRange{*a, *b};
      } else if (p.is_string()) {
        const auto a = IpAddress::parse(p.get<std::string>());
        if (!a) return unknown(fmt::format("cannot read address {}", p.dump()));
        range = IpRange::single(*a);
      } else {
        return unknown(fmt::format("cannot compare an address with {}", p.dump()));
      }
      if (range->first.family != v.address.family) return no();
      return range->contains(v.address) ? yes() : no();
    }
    if (v.type == ValueType::ifname) {
      if (!p.is_string()) return unknown(fmt::format("cannot compare a name with {}", p.dump()));
      if (v.unknown_not_loopback) {
        return ifname_matches("lo", p.get<std::string>()) && p.get<std::string>() == "lo"
                   ? no()
                   : unknown(v.unknown_why);
      }
      return ifname_matches(v.name, p.get<std::string>()) ? yes() : no();
    }
    if (p.is_object() && p.contains("range") && p["range"].is_array() && p["range"].size() == 2) {
      std::string why;
      auto a = constant(p["range"][0], v.type, &why);
      auto b = constant(p["range"][1], v.type, &why);
      if (!a || !b) return unknown(why);
      return range_in(v, a->number, b->number, describe_value_source(v));
    }
    std::string why;
    auto c = constant(p, v.type, &why);
    if (!c) return unknown(why);
    return range_in(v, c->number, c->number, describe_value_source(v));
  }

  Decision eval_match(const json& m) const {
    if (!m.is_object() || !m.contains("left") || !m.contains("right")) {
      return unknown(fmt::format("malformed match {}", m.dump()));
    }
    const std::string op = m.value("op", "==");
    const auto left = eval_left(m["left"]);
    if (left.state == FieldResult::absent) return no();  // nf_tables: the rule breaks
    if (left.state == FieldResult::unknown) return unknown(left.why);
    const Value& v = left.value;
    const json& right = m["right"];
    if (op == "in" && is_bitmask(v.type)) {
      std::string why;
      auto mask =
          constant(right.is_object() && right.contains("set") ? right["set"] : right, v.type, &why);
      if (!mask) return unknown(why);
      return (v.number & mask->number) != 0 ? yes() : no();
    }
    if (op == "==" || op == "in") return match_pattern(v, right);
    if (op == "!=") {
      auto d = match_pattern(v, right);
      if (d.truth == Truth::unknown) return d;
      return d.truth == Truth::yes ? no() : yes();
    }
    if (op == "<" || op == ">" || op == "<=" || op == ">=") {
      if (v.type == ValueType::address || v.type == ValueType::ifname ||
          v.type == ValueType::concat) {
        return unknown(fmt::format("ordered comparison {} {}", op, right.dump()));
      }
      std::string why;
      auto c = constant(right, v.type, &why);
      if (!c) return unknown(why);
      const std::uint64_t n = c->number;
      const std::uint64_t max = ~std::uint64_t{0};
      if (op == "<") return n == 0 ? no() : range_in(v, 0, n - 1, describe_value_source(v));
      if (op == "<=") return range_in(v, 0, n, describe_value_source(v));
      if (op == ">") return n == max ? no() : range_in(v, n + 1, max, describe_value_source(v));
      return range_in(v, n, max, describe_value_source(v));
    }
    return unknown(fmt::format("operator '{}'", op));
  }

  // -------------------------------------------------------------------------------------------
  // Statements

  static std::string reject_type_of(const json& reject) {
    if (!reject.is_object()) return "icmp port-unreachable";  // nft's default
    const std::string type = reject.value("type", "icmp");
    if (type == "tcp reset") return type;
    std::string expr = "port-unreachable";
    if (reject.contains("expr")) {
      expr = reject["expr"].is_string() ? reject["expr"].get<std::string>() : reject["expr"].dump();
    }
    return type + " " + expr;
  }

  // A verdict object ({"accept":null}, {"jump":{"target":"x"}}, ...) as an action.
  std::optional<RuleOutcome> verdict_of(const json& e) const {
    if (!e.is_object() || e.size() != 1) return std::nullopt;
    const std::string key = e.begin().key();
    if (key == "accept") return RuleOutcome{Action::accept, {}, {}, {}};
    if (key == "drop") return RuleOutcome{Action::drop, {}, {}, {}};
    if (key == "reject") return RuleOutcome{Action::reject, {}, reject_type_of(e["reject"]), {}};
    if (key == "return") return RuleOutcome{Action::return_, {}, {}, {}};
    if (key == "continue") return RuleOutcome{Action::next_rule, {}, {}, {}};
    if (key == "jump" || key == "goto") {
      return RuleOutcome{key == "jump" ? Action::jump : Action::go_to,
                         e[key].is_object() ? e[key].value("target", "") : std::string(),
                         {},
                         {}};
    }
    if (key == "queue") {
      return RuleOutcome{Action::unknown, {}, {}, "queues the packet to a userspace program"};
    }
    return std::nullopt;
  }

  static bool is_pure_statement(const std::string& key) {
    static const std::set<std::string> pure = {
        "counter",   "log",        "comment",        "set",     "map",  "flow",      "dup", "last",
        "ct helper", "ct timeout", "ct expectation", "secmark", "snat", "masquerade"};
    return pure.count(key) > 0;
  }

  // Runs the rule's expressions in order. Returns next_rule when a match fails.
  RuleOutcome exec_rule(const Rule& rule) {
    if (!rule.expr.is_array()) return RuleOutcome{Action::unknown, {}, {}, "malformed rule"};
    // Matches are side-effect free: a match that is plainly false ends the rule without asking
    // the oracle about undecidable matches elsewhere in it.
    for (const auto& e : rule.expr) {
      if (!e.is_object() || e.size() != 1) break;
      const std::string key = e.begin().key();
      if (key == "match") {
        if (eval_match(e["match"]).truth == Truth::no) return RuleOutcome{};
        continue;
      }
      if (key == "xt" && e["xt"].value("type", "") == "match") continue;
      if (!is_pure_statement(key)) break;
    }
    for (const auto& e : rule.expr) {
      if (!e.is_object() || e.size() != 1) {
        return RuleOutcome{Action::unknown, {}, {}, fmt::format("expression {}", e.dump())};
      }
      const std::string key = e.begin().key();
      const json& body = e[key];
      if (key == "match") {
        auto d = eval_match(body);
        if (d.truth == Truth::no) return RuleOutcome{};
        if (d.truth == Truth::unknown &&
            !oracle_.ask(fmt::format("{} matches only if {}", rule.location, d.why))) {
          return RuleOutcome{};
        }
        continue;
      }
      if (auto verdict = verdict_of(e)) return *verdict;
      if (key == "vmap") {
        auto outcome = exec_vmap(rule, body);
        if (outcome.action == Action::next_rule && outcome.why == "no entry") continue;
        return outcome;
      }
      if (key == "limit" || key == "quota" || key == "meter" || key == "ct count") {
        if (!oracle_.ask(
                fmt::format("{} matches only if its {} is not exceeded", rule.location, key))) {
          return RuleOutcome{};
        }
        continue;
      }
      if (key == "mangle") {
        if (auto outcome = exec_mangle(body)) return *outcome;
        continue;
      }
      if (key == "notrack") {
        packet_.ct_state = kCtUntracked;
        continue;
      }
      if (key == "dnat" || key == "redirect" || key == "tproxy") {
        return RuleOutcome{
            Action::unknown, {}, {}, fmt::format("{} rewrites the destination", key)};
      }
      if (key == "xt") {
        const std::string type = body.value("type", "");
        const std::string name = body.value("name", "");
        if (type == "match") {
          if (!oracle_.ask(fmt::format("{} matches only if the iptables extension '{}' matches "
                                       "(xt: opaque in nft JSON; evaluate iptables-save instead)",
                                       rule.location, name))) {
            return RuleOutcome{};
          }
          continue;
        }
        if (name == "REJECT") {
          return RuleOutcome{
              Action::reject, {}, "iptables REJECT (type not shown in nft JSON)", {}};
        }
        static const std::set<std::string> harmless = {"LOG",   "NFLOG", "TCPMSS",   "CLASSIFY",
                                                       "DSCP",  "TOS",   "TTL",      "HL",
                                                       "AUDIT", "TRACE", "CHECKSUM", "comment"};
        if (harmless.count(name) > 0) continue;
        if (name == "MARK" || name == "CONNMARK") {
          packet_.mark.reset();
          packet_.ct_mark.reset();
          continue;
        }
        return RuleOutcome{
            Action::unknown, {}, {}, fmt::format("the iptables target '{}' (xt)", name)};
      }
      if (is_pure_statement(key)) continue;
      return RuleOutcome{Action::unknown, {}, {}, fmt::format("the '{}' statement", key)};
    }
    return RuleOutcome{};
  }

  std::optional<RuleOutcome> exec_mangle(const json& body) {
    const json& key = body.contains("key") ? body["key"] : json();
    const json& value = body.contains("value") ? body["value"] : json();
    const bool is_meta_mark = key.contains("meta") && key["meta"].value("key", "") == "mark";
    const bool is_ct_mark = key.contains("ct") && key["ct"].value("key", "") == "mark";
    if (is_meta_mark || is_ct_mark) {
      std::optional<std::uint64_t> mark;
      if (value.is_number_unsigned() || value.is_number_integer())
        mark = value.get<std::uint64_t>();
      (is_meta_mark ? packet_.mark : packet_.ct_mark) = mark;
      return std::nullopt;
    }
    if (key.contains("payload")) {
      const std::string field = key["payload"].value("field", "");
      if (field == "daddr" || field == "dport") {
        return RuleOutcome{
            Action::unknown, {}, {}, fmt::format("rewrites the destination ({} set)", field)};
      }
    }
    return std::nullopt;  // other header rewrites do not change where the packet goes
  }

  RuleOutcome exec_vmap(const Rule& rule, const json& body) {
    const auto key = eval_left(body.value("key", json()));
    if (key.state == FieldResult::absent) return RuleOutcome{Action::next_rule, {}, {}, "no entry"};
    if (key.state == FieldResult::unknown) {
      return RuleOutcome{Action::unknown, {}, {}, fmt::format("verdict map keyed on {}", key.why)};
    }
    const json* entries = nullptr;
    json named;
    const json& data = body.value("data", json());
    if (data.is_string() && !data.get<std::string>().empty() && data.get<std::string>()[0] == '@') {
      const NamedSet* map =
          ruleset_.find_set(chain_->family, chain_->table, data.get<std::string>().substr(1));
      if (map == nullptr || map->dynamic) {
        return RuleOutcome{Action::unknown,
                           {},
                           {},
                           fmt::format("verdict map {} is missing or dynamic", data.dump())};
      }
      entries = &map->elements;
    } else if (data.is_object() && data.contains("set")) {
      entries = &data["set"];
    } else {
      return RuleOutcome{Action::unknown, {}, {}, fmt::format("verdict map {}", data.dump())};
    }
    for (const auto& entry : *entries) {
      if (!entry.is_array() || entry.size() != 2) continue;
      auto d = match_pattern(key.value, entry[0]);
      if (d.truth == Truth::no) continue;
      if (d.truth == Truth::unknown &&
          !oracle_.ask(fmt::format("{} takes the map entry {} only if {}", rule.location,
                                   entry[0].dump(), d.why))) {
        continue;
      }
      if (auto verdict = verdict_of(entry[1])) return *verdict;
      return RuleOutcome{
          Action::unknown, {}, {}, fmt::format("verdict map entry {}", entry[1].dump())};
    }
    return RuleOutcome{Action::next_rule, {}, {}, "no entry"};
  }

  const Ruleset& ruleset_;
  PacketState packet_;
  Oracle& oracle_;
  const HookStep* step_ = nullptr;
  const Chain* chain_ = nullptr;
  RuleRef last_rule_;
};

// ---------------------------------------------------------------------------------------------
// Exploring the undecidable matches

struct Run {
  RunResult result;
  std::vector<std::string> questions;
  std::vector<bool> answers;
};

std::string verdict_word(const RunResult& r) {
  if (r.kind == VerdictKind::reject) return "reject (" + r.reject_type + ")";
  return std::string(to_string(r.kind));
}

bool same_outcome(const RunResult& a, const RunResult& b) {
  return a.kind == b.kind && a.reject_type == b.reject_type;
}

std::string rules_text(const std::vector<RuleRef>& rules) {
  std::string out;
  for (const auto& r : rules) {
    if (!out.empty()) out += "; ";
    out += r.describe();
  }
  return out;
}

Verdict explore(const Ruleset& ruleset, const PacketState& packet,
                const std::vector<HookStep>& steps) {
  std::vector<Run> runs;
  std::vector<std::vector<bool>> pending = {{}};
  while (!pending.empty()) {
    if (runs.size() >= kMaxRuns) {
      Verdict v;
      v.kind = VerdictKind::unknown;
      v.unknown_because = fmt::format(
          "more than {} combinations of matches static evaluation cannot decide (e.g. {})",
          kMaxRuns, runs.front().questions.empty() ? "" : runs.front().questions.front());
      return v;
    }
    std::vector<bool> prefix = std::move(pending.back());
    pending.pop_back();
    Oracle oracle(prefix);
    Interpreter interpreter(ruleset, packet, oracle);
    Run run{interpreter.run(steps), oracle.questions(), oracle.answers()};
    for (std::size_t j = run.answers.size(); j-- > prefix.size();) {
      std::vector<bool> flipped(run.answers.begin(), run.answers.begin() + static_cast<long>(j));
      flipped.push_back(true);
      pending.push_back(std::move(flipped));
    }
    runs.push_back(std::move(run));
  }
  const Run& base = runs.front();  // every undecidable match assumed not to match
  Verdict v;
  for (const auto& run : runs) {
    if (run.result.kind == VerdictKind::unknown) {
      v.kind = VerdictKind::unknown;
      v.unknown_because = run.result.unknown_because;
      if (!run.questions.empty() && &run != &base) {
        v.unknown_because += " (reached when: " + run.questions.back() + ")";
      }
      return v;
    }
  }
  const auto differing = std::find_if(
      runs.begin(), runs.end(), [&](const Run& r) { return !same_outcome(r.result, base.result); });
  if (differing != runs.end()) {
    // The first question both runs asked but answered differently decides between them.
    std::size_t i = 0;
    while (i < differing->answers.size() && i < base.answers.size() &&
           differing->answers[i] == base.answers[i]) {
      ++i;
    }
    const std::string question = i < differing->questions.size() ? differing->questions[i] : "";
    v.kind = VerdictKind::unknown;
    v.unknown_because =
        fmt::format("{}: {} if it does ({}), {} if not ({})", question,
                    verdict_word(differing->result), rules_text(differing->result.rules),
                    verdict_word(base.result), rules_text(base.result.rules));
    return v;
  }
  v.kind = base.result.kind;
  v.reject_type = base.result.reject_type;
  v.decided_by = base.result.rules;
  std::set<std::string> asked;
  for (const auto& run : runs) asked.insert(run.questions.begin(), run.questions.end());
  for (const auto& q : asked) v.notes.push_back("same verdict either way: " + q);
  return v;
}

std::optional<std::string> known_or_unknown(const std::string& device) {
  if (device.empty()) return std::nullopt;
  return device;
}

}  // namespace

// ---------------------------------------------------------------------------------------------

std::string_view to_string(VerdictKind kind) noexcept {
  switch (kind) {
    case VerdictKind::accept:
      return "accept";
    case VerdictKind::drop:
      return "drop";
    case VerdictKind::reject:
      return "reject";
    case VerdictKind::unknown:
      return "unknown";
  }
  return "unknown";
}

std::string RuleRef::describe() const {
  if (text.empty()) return location;
  return location + ": " + text;
}

std::string Verdict::describe() const {
  if (kind == VerdictKind::unknown) return "unknown because " + unknown_because;
  std::string out(to_string(kind));
  if (kind == VerdictKind::reject) out += " with " + reject_type;
  if (on_reply_path) out += " (of the replies)";
  if (!decided_by.empty()) out += " by " + rules_text(decided_by);
  return out;
}

Verdict evaluate_packet(const Ruleset& ruleset, const PacketQuery& query) {
  const IpFamily family = query.destination.family;
  if (ruleset.format == RulesetFormat::iptables_save) {
    const bool v6_rules = ruleset.iptables_family == "ip6";
    if ((family == IpFamily::v6) != v6_rules) {
      Verdict v;
      v.kind = VerdictKind::unknown;
      v.unknown_because = fmt::format(
          "the destination is {} but {} holds only {} rules (give {} output too)",
          family == IpFamily::v6 ? "IPv6" : "IPv4", ruleset.source,
          v6_rules ? "ip6tables" : "iptables", v6_rules ? "iptables-save" : "ip6tables-save");
      return v;
    }
  }
  PacketState syn;
  syn.family = family;
  syn.daddr = query.destination;
  syn.saddr = query.source;
  syn.dport = Value::of(ValueType::port, query.port);
  syn.sport = Value::range(ValueType::port, kEphemeralFirst, kEphemeralLast);
  syn.local_socket = query.path == Path::output;
  // Loopback destinations leave through "lo" whatever the default route is.
  const bool loopback =
      IpRange::prefix(*IpAddress::parse("127.0.0.0"), 8).contains(query.destination) ||
      query.destination == *IpAddress::parse("::1");
  const auto oif = loopback ? std::optional<std::string>("lo") : known_or_unknown(query.oif);
  const auto iif = known_or_unknown(query.iif);
  const std::optional<std::string> none = std::string();
  std::vector<HookStep> forward_steps;
  std::vector<HookStep> reply_steps;
  if (query.path == Path::output) {
    forward_steps = {{Hook::output, none, oif}, {Hook::postrouting, none, oif}};
    reply_steps = {{Hook::prerouting, oif, none}, {Hook::input, oif, none}};
  } else {
    forward_steps = {
        {Hook::prerouting, iif, none}, {Hook::forward, iif, oif}, {Hook::postrouting, none, oif}};
    reply_steps = {
        {Hook::prerouting, oif, none}, {Hook::forward, oif, iif}, {Hook::postrouting, none, iif}};
  }
  Verdict first = explore(ruleset, syn, forward_steps);
  if (first.kind != VerdictKind::accept || !query.check_replies) return first;

  PacketState reply;
  reply.family = family;
  reply.saddr = query.destination;
  if (query.source) reply.daddr = *query.source;
  reply.sport = Value::of(ValueType::port, query.port);
  reply.dport = Value::range(ValueType::port, kEphemeralFirst, kEphemeralLast);
  reply.tcp_flags = kTcpSyn | kTcpAck;
  reply.ct_state = kCtEstablished;
  reply.ct_direction = 1;
  reply.local_socket = query.path == Path::output;
  // ct mark of the connection may have been set while the SYN went out.
  reply.ct_mark.reset();
  Verdict back = explore(ruleset, reply, reply_steps);
  if (back.kind == VerdictKind::accept) {
    first.notes.insert(first.notes.end(), back.notes.begin(), back.notes.end());
    first.notes.push_back("replies accepted by " + rules_text(back.decided_by));
    return first;
  }
  Verdict out;
  out.on_reply_path = true;
  out.notes = first.notes;
  out.notes.push_back("the first packet is accepted by " + rules_text(first.decided_by));
  if (back.kind == VerdictKind::unknown) {
    out.kind = VerdictKind::unknown;
    out.unknown_because = "for the replies (SYN-ACK), " + back.unknown_because;
    return out;
  }
  // Whatever happens to the SYN-ACK, the client never sees it: a timeout, like a drop.
  out.kind = VerdictKind::drop;
  out.decided_by = back.decided_by;
  out.notes.push_back(fmt::format("the replies (SYN-ACK) are {}", to_string(back.kind)) +
                      (back.kind == VerdictKind::reject ? " with " + back.reject_type : ""));
  return out;
}

std::string expected_tcp_outcome(const Verdict& verdict) {
  switch (verdict.kind) {
    case VerdictKind::accept:
      return "OK";
    case VerdictKind::drop:
      return "TCP_FILTERED";
    case VerdictKind::unknown:
      return "";
    case VerdictKind::reject:
      break;
  }
  const std::string& t = verdict.reject_type;
  // Linux maps a TCP reset and ICMP port-unreachable to ECONNREFUSED, the other ICMP codes to
  // EHOSTUNREACH/ENETUNREACH (lab-facts §2).
  if (t == "tcp reset" || t.find("port-unreachable") != std::string::npos) return "TCP_REFUSED";
  if (t.find("unreachable") != std::string::npos || t.find("prohibited") != std::string::npos) {
    return "TCP_UNREACHABLE";
  }
  return "";
}

namespace {

// Every address constant in a JSON tree: the ends of prefixes, ranges and single addresses.
void collect_boundaries(const json& node, std::vector<IpRange>& out) {
  if (node.is_string()) {
    if (const auto a = IpAddress::parse(node.get<std::string>()))
      out.push_back(IpRange::single(*a));
    return;
  }
  if (node.is_object()) {
    if (node.contains("prefix") && node["prefix"].is_object()) {
      if (const auto a = IpAddress::parse(node["prefix"].value("addr", ""))) {
        out.push_back(IpRange::prefix(*a, node["prefix"].value("len", 0)));
        return;
      }
    }
    if (node.contains("range") && node["range"].is_array() && node["range"].size() == 2 &&
        node["range"][0].is_string() && node["range"][1].is_string()) {
      const auto a = IpAddress::parse(node["range"][0].get<std::string>());
      const auto b = IpAddress::parse(node["range"][1].get<std::string>());
      if (a && b && a->family == b->family) {
        out.push_back(IpRange{*a, *b});
        return;
      }
    }
  }
  if (node.is_structured()) {
    for (const auto& child : node) collect_boundaries(child, out);
  }
}

}  // namespace

std::vector<IpRange> split_by_ruleset(const Ruleset& ruleset, const IpRange& range) {
  std::vector<IpRange> constants;
  for (const auto& chain : ruleset.chains) {
    for (const auto& rule : chain.rules) collect_boundaries(rule.expr, constants);
  }
  for (const auto& set : ruleset.sets) collect_boundaries(set.elements, constants);
  // Cut points: where a constant starts, and just after it ends.
  std::set<IpAddress> cuts;
  for (const auto& c : constants) {
    if (c.first.family != range.first.family) continue;
    if (range.first < c.first && c.first <= range.last) cuts.insert(c.first);
    if (const auto after = c.last.next(); after && range.first < *after && *after <= range.last) {
      cuts.insert(*after);
    }
  }
  std::vector<IpRange> pieces;
  IpAddress start = range.first;
  for (const auto& cut : cuts) {
    IpAddress before = cut;
    if (before.lo-- == 0) --before.hi;
    pieces.push_back(IpRange{start, before});
    start = cut;
  }
  pieces.push_back(IpRange{start, range.last});
  return pieces;
}

}  // namespace gwprobe::rules::firewall
