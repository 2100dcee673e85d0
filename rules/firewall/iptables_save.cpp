// iptables-save -> nft expressions (the translation iptables-nft performs in the kernel).
#include "rules/firewall/iptables_save.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include <fmt/format.h>

#include "rules/firewall/ip_range.hpp"

namespace gwprobe::rules::firewall {

namespace {

using json = nlohmann::json;

struct Token {
  std::string text;
  std::size_t offset = 0;  ///< in the whole source text
};

core::Unexpected invalid(const bgp::SourceText& source, std::size_t offset, std::string_view what) {
  return core::fail(core::FailureKind::invalid_input,
                    fmt::format("{}: {}", bgp::where(source, offset), what));
}

// Shell-like words: iptables-save quotes comments and log prefixes with double quotes.
core::Result<std::vector<Token>> tokenize(const bgp::SourceText& source, std::size_t start,
                                          std::string_view line) {
  std::vector<Token> tokens;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
    if (i >= line.size()) break;
    Token token;
    token.offset = start + i;
    bool quoted = false;
    while (i < line.size() && (quoted || (line[i] != ' ' && line[i] != '\t' && line[i] != '\r'))) {
      const char c = line[i];
      if (c == '"') {
        quoted = !quoted;
        ++i;
      } else if (c == '\\' && i + 1 < line.size()) {
        token.text.push_back(line[i + 1]);
        i += 2;
      } else {
        token.text.push_back(c);
        ++i;
      }
    }
    if (quoted) return invalid(source, token.offset, "unterminated quoted string");
    tokens.push_back(std::move(token));
  }
  return tokens;
}

struct TableChainInfo {
  Hook hook;
  int priority;
  std::string type;
};

// The hooks and priorities iptables-nft registers for the built-in chains (same as x_tables).
std::optional<TableChainInfo> builtin_chain(const std::string& table, const std::string& chain) {
  const auto hook = parse_hook([&] {
    std::string lower;
    for (const char c : chain) lower.push_back(static_cast<char>(std::tolower(c)));
    return lower;
  }());
  if (!hook) return std::nullopt;
  static const std::map<std::string, std::set<Hook>> hooks = {
      {"raw", {Hook::prerouting, Hook::output}},
      {"mangle", {Hook::prerouting, Hook::input, Hook::forward, Hook::output, Hook::postrouting}},
      {"nat", {Hook::prerouting, Hook::input, Hook::output, Hook::postrouting}},
      {"filter", {Hook::input, Hook::forward, Hook::output}},
      {"security", {Hook::input, Hook::forward, Hook::output}}};
  const auto it = hooks.find(table);
  if (it == hooks.end() || it->second.count(*hook) == 0) return std::nullopt;
  if (table == "raw") return TableChainInfo{*hook, -300, "filter"};
  if (table == "mangle") {
    return TableChainInfo{*hook, -150, *hook == Hook::output ? "route" : "filter"};
  }
  if (table == "nat") {
    const bool early = *hook == Hook::prerouting || *hook == Hook::output;
    return TableChainInfo{*hook, early ? -100 : 100, "nat"};
  }
  if (table == "security") return TableChainInfo{*hook, 50, "filter"};
  return TableChainInfo{*hook, 0, "filter"};
}

json match(const json& left, const json& right, bool negated, const char* op = "==") {
  return json{{"match", {{"op", negated ? "!=" : op}, {"left", left}, {"right", right}}}};
}

json payload(const std::string& protocol, const std::string& field) {
  return json{{"payload", {{"protocol", protocol}, {"field", field}}}};
}

json meta(const std::string& key) {
  return json{{"meta", {{"key", key}}}};
}

json opaque_match(const std::string& name) {
  return json{{"xt", {{"type", "match"}, {"name", name}}}};
}

IpAddress all_ones(IpFamily family) {
  if (family == IpFamily::v4) return IpAddress{family, 0, 0xffffffffu};
  return IpAddress{family, ~std::uint64_t{0}, ~std::uint64_t{0}};
}

// "10.0.0.0/8", "10.0.0.0/255.0.0.0", "192.0.2.1/32" -> nft address or prefix
std::optional<json> address_value(const std::string& text) {
  const auto slash = text.find('/');
  const std::string address_text = text.substr(0, slash);
  const auto address = IpAddress::parse(address_text);
  if (!address) return std::nullopt;
  if (slash == std::string::npos) return json(address_text);
  const std::string mask = text.substr(slash + 1);
  int length = -1;
  if (const auto dotted = IpAddress::parse(mask)) {
    // A contiguous netmask written as an address.
    for (int len = 0; len <= dotted->bits(); ++len) {
      if (IpRange::prefix(*dotted, len).first == *dotted &&
          IpRange::prefix(all_ones(dotted->family), len).first == *dotted) {
        length = len;
        break;
      }
    }
  } else if (!mask.empty() && mask.size() <= 3 &&
             std::all_of(mask.begin(), mask.end(), ::isdigit)) {
    length = std::stoi(mask);
  }
  if (length < 0 || length > address->bits()) return std::nullopt;
  if (length == address->bits()) return json(address_text);
  return json{{"prefix", {{"addr", address_text}, {"len", length}}}};
}

// "443", "9350:9354", "1024:", ":1023", "https" -> number or {"range":[a,b]}
std::optional<json> port_value(const std::string& text) {
  const auto one = [](const std::string& s) -> std::optional<json> {
    if (s.empty()) return std::nullopt;
    if (std::all_of(s.begin(), s.end(), ::isdigit) && s.size() <= 5) {
      const int n = std::stoi(s);
      if (n > 65535) return std::nullopt;
      return json(n);
    }
    return json(s);  // a service name; the evaluator knows the common ones
  };
  const auto colon = text.find(':');
  if (colon == std::string::npos) return one(text);
  auto a = colon == 0 ? std::optional<json>(json(0)) : one(text.substr(0, colon));
  auto b =
      colon + 1 == text.size() ? std::optional<json>(json(65535)) : one(text.substr(colon + 1));
  if (!a || !b) return std::nullopt;
  return json{{"range", {*a, *b}}};
}

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    const auto end = text.find(separator, start);
    out.push_back(text.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return out;
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool is_top_level_option(const std::string& t) {
  static const std::set<std::string> options = {"-p",
                                                "--protocol",
                                                "-s",
                                                "--source",
                                                "--src",
                                                "-d",
                                                "--destination",
                                                "--dst",
                                                "-i",
                                                "--in-interface",
                                                "-o",
                                                "--out-interface",
                                                "-m",
                                                "--match",
                                                "-j",
                                                "--jump",
                                                "-g",
                                                "--goto",
                                                "-f",
                                                "--fragment",
                                                "-c",
                                                "--set-counters"};
  return options.count(t) > 0;
}

class RuleTranslator {
 public:
  RuleTranslator(const bgp::SourceText& source, const std::vector<Token>& tokens,
                 std::string family)
      : source_(source), tokens_(tokens), family_(std::move(family)) {}

  // tokens_[0..1] are "-A CHAIN"; the rest are options.
  core::Result<json> translate() {
    std::size_t i = 2;
    while (i < tokens_.size()) {
      bool negated = false;
      if (tokens_[i].text == "!") {
        negated = true;
        if (++i >= tokens_.size())
          return invalid(source_, tokens_[i - 1].offset, "'!' at end of rule");
      }
      const Token& option = tokens_[i];
      const std::string& o = option.text;
      auto value = [&]() -> core::Result<std::string> {
        if (i + 1 >= tokens_.size()) {
          return invalid(source_, option.offset, fmt::format("{} needs a value", o));
        }
        return tokens_[++i].text;
      };
      if (o == "-p" || o == "--protocol") {
        auto v = value();
        if (!v) return core::fail(v.error());
        protocol_ = lower(*v);
        if (protocol_ != "all" && protocol_ != "0") {
          json right =
              std::all_of(protocol_.begin(), protocol_.end(), ::isdigit)
                  ? json(std::stoi(protocol_))
                  : json(protocol_ == "ipv6-icmp" || protocol_ == "icmp6" ? "icmpv6" : protocol_);
          expr_.push_back(match(meta("l4proto"), right, negated));
        } else if (negated) {
          expr_.push_back(opaque_match("! -p all"));
        }
      } else if (o == "-s" || o == "--source" || o == "--src" || o == "-d" ||
                 o == "--destination" || o == "--dst") {
        auto v = value();
        if (!v) return core::fail(v.error());
        const auto address = address_value(*v);
        if (!address) {
          return invalid(source_, tokens_[i].offset,
                         fmt::format("expected an address or address/mask, got '{}'", *v));
        }
        const bool dst = o[1] == 'd' || o == "--destination" || o == "--dst";
        expr_.push_back(match(payload(family_ == "ip6" ? "ip6" : "ip", dst ? "daddr" : "saddr"),
                              *address, negated));
      } else if (o == "-i" || o == "--in-interface" || o == "-o" || o == "--out-interface") {
        auto v = value();
        if (!v) return core::fail(v.error());
        std::string name = *v;
        if (!name.empty() && name.back() == '+') name.back() = '*';
        expr_.push_back(match(meta(o[1] == 'i' || o == "--in-interface" ? "iifname" : "oifname"),
                              name, negated));
      } else if (o == "-f" || o == "--fragment") {
        expr_.push_back(opaque_match(negated ? "! -f (fragments)" : "-f (fragments)"));
      } else if (o == "-c" || o == "--set-counters") {
        i += 2;  // packet and byte counters
        continue;
      } else if (o == "-m" || o == "--match") {
        auto v = value();
        if (!v) return core::fail(v.error());
        module_ = *v;
        if (auto r = translate_module(i); !r) return core::fail(r.error());
        continue;  // translate_module left i on the next top-level option
      } else if (o == "-j" || o == "--jump" || o == "-g" || o == "--goto") {
        auto v = value();
        if (!v) return core::fail(v.error());
        const bool go_to = o == "-g" || o == "--goto";
        if (auto r = translate_target(*v, go_to, i); !r) return core::fail(r.error());
        continue;
      } else {
        return invalid(source_, option.offset, fmt::format("unknown option '{}'", o));
      }
      ++i;
    }
    return expr_;
  }

 private:
  // Module options: "--dport 443", "! --dports 1,2", up to the next top-level option.
  struct ModuleOption {
    std::string name;
    std::vector<std::string> values;
    bool negated = false;
    std::size_t offset = 0;
  };

  std::vector<ModuleOption> module_options(std::size_t& i) {
    std::vector<ModuleOption> options;
    ++i;
    while (i < tokens_.size()) {
      bool negated = false;
      std::size_t j = i;
      if (tokens_[j].text == "!") {
        if (j + 1 < tokens_.size() && is_top_level_option(tokens_[j + 1].text)) break;
        negated = true;
        ++j;
      }
      if (j >= tokens_.size() || is_top_level_option(tokens_[j].text)) break;
      ModuleOption option{tokens_[j].text, {}, negated, tokens_[j].offset};
      ++j;
      while (j < tokens_.size() && tokens_[j].text.rfind("--", 0) != 0 && tokens_[j].text != "!" &&
             !is_top_level_option(tokens_[j].text)) {
        option.values.push_back(tokens_[j].text);
        ++j;
      }
      options.push_back(std::move(option));
      i = j;
    }
    return options;
  }

  core::Result<void> translate_module(std::size_t& i) {
    const std::string module = module_;
    auto options = module_options(i);
    const auto need_value = [&](const ModuleOption& option) -> core::Result<std::string> {
      if (option.values.empty()) {
        return invalid(source_, option.offset, fmt::format("{} needs a value", option.name));
      }
      return option.values.front();
    };
    if (module == "comment") return {};
    if (module == "tcp" || module == "udp" || module == "sctp" || module == "dccp") {
      for (const auto& option : options) {
        if (option.name == "--dport" || option.name == "--destination-port" ||
            option.name == "--sport" || option.name == "--source-port") {
          auto v = need_value(option);
          if (!v) return core::fail(v.error());
          auto port = port_value(*v);
          if (!port) {
            return invalid(source_, option.offset + option.name.size() + 1,
                           fmt::format("expected a port or port:port, got '{}'", *v));
          }
          const bool dst = option.name == "--dport" || option.name == "--destination-port";
          expr_.push_back(match(payload(module, dst ? "dport" : "sport"), *port, option.negated));
        } else if (module == "tcp" && option.name == "--syn") {
          expr_.push_back(match(
              json{{"&", {payload("tcp", "flags"), json{{"|", {"fin", "syn", "rst", "ack"}}}}}},
              "syn", option.negated));
        } else if (module == "tcp" && option.name == "--tcp-flags" && option.values.size() == 2) {
          const auto flags = [](const std::string& list) {
            json out = json::array();
            if (list == "ALL") return json{"fin", "syn", "rst", "psh", "ack", "urg"};
            if (list == "NONE") return json::array();
            for (const auto& f : split(list, ',')) out.push_back(lower(f));
            return out;
          };
          const json mask = flags(option.values[0]);
          const json comp = flags(option.values[1]);
          const auto flag_value = [](const json& list) {
            if (list.empty()) return json(0);
            if (list.size() == 1) return list[0];
            return json{{"|", list}};
          };
          expr_.push_back(match(json{{"&", {payload("tcp", "flags"), flag_value(mask)}}},
                                flag_value(comp), option.negated));
        } else {
          expr_.push_back(opaque_match(fmt::format("{} {}", module, option.name)));
        }
      }
      return {};
    }
    if (module == "multiport") {
      for (const auto& option : options) {
        auto v = need_value(option);
        if (!v) return core::fail(v.error());
        if (option.name == "--dports" || option.name == "--destination-ports" ||
            option.name == "--sports" || option.name == "--source-ports") {
          json set = json::array();
          for (const auto& item : split(*v, ',')) {
            auto port = port_value(item);
            if (!port) {
              return invalid(source_, option.offset + option.name.size() + 1,
                             fmt::format("expected ports like 443,9350:9354, got '{}'", *v));
            }
            set.push_back(*port);
          }
          const bool dst = option.name[2] == 'd';
          expr_.push_back(
              match(payload("th", dst ? "dport" : "sport"), json{{"set", set}}, option.negated));
        } else {
          expr_.push_back(opaque_match(fmt::format("multiport {}", option.name)));
        }
      }
      return {};
    }
    if (module == "conntrack" || module == "state") {
      for (const auto& option : options) {
        if (option.name == "--ctstate" || option.name == "--state") {
          auto v = need_value(option);
          if (!v) return core::fail(v.error());
          json states = json::array();
          for (const auto& state : split(*v, ',')) {
            const std::string s = lower(state);
            if (s != "new" && s != "established" && s != "related" && s != "invalid" &&
                s != "untracked") {
              expr_.push_back(opaque_match(fmt::format("{} {} {}", module, option.name, *v)));
              states = json();
              break;
            }
            states.push_back(s);
          }
          if (!states.is_null()) {
            expr_.push_back(match(json{{"ct", {{"key", "state"}}}}, states, option.negated));
          }
        } else {
          expr_.push_back(opaque_match(fmt::format("{} {}", module, option.name)));
        }
      }
      return {};
    }
    if (module == "iprange") {
      for (const auto& option : options) {
        auto v = need_value(option);
        if (!v) return core::fail(v.error());
        const auto range = parse_ip_range(*v);
        const auto dash = v->find('-');
        if (!range || dash == std::string::npos) {
          return invalid(source_, option.offset + option.name.size() + 1,
                         fmt::format("expected an address range a-b, got '{}'", *v));
        }
        const bool dst = option.name == "--dst-range";
        expr_.push_back(match(payload(family_ == "ip6" ? "ip6" : "ip", dst ? "daddr" : "saddr"),
                              json{{"range", {v->substr(0, dash), v->substr(dash + 1)}}},
                              option.negated));
      }
      return {};
    }
    if (module == "owner") {
      for (const auto& option : options) {
        auto v = need_value(option);
        if (!v) return core::fail(v.error());
        if (option.name == "--uid-owner" || option.name == "--gid-owner") {
          expr_.push_back(
              match(meta(option.name == "--uid-owner" ? "skuid" : "skgid"), *v, option.negated));
        } else {
          expr_.push_back(opaque_match(fmt::format("owner {}", option.name)));
        }
      }
      return {};
    }
    if (module == "mark" || module == "connmark") {
      for (const auto& option : options) {
        auto v = need_value(option);
        if (!v) return core::fail(v.error());
        const auto slash = v->find('/');
        const json key = module == "mark" ? meta("mark") : json{{"ct", {{"key", "mark"}}}};
        const auto number = [](const std::string& s) -> json {
          try {
            return json(std::stoull(s, nullptr, 0));
          } catch (const std::exception&) {
            return json(s);
          }
        };
        if (slash == std::string::npos) {
          expr_.push_back(match(key, number(*v), option.negated));
        } else {
          expr_.push_back(match(json{{"&", {key, number(v->substr(slash + 1))}}},
                                number(v->substr(0, slash)), option.negated));
        }
      }
      return {};
    }
    if (module == "icmp" || module == "icmp6" || module == "icmpv6") {
      // Only ICMP packets carry these fields: a TCP connection never matches.
      expr_.push_back(match(payload(module == "icmp" ? "icmp" : "icmpv6", "type"), 0, false));
      return {};
    }
    if (module == "limit") {
      expr_.push_back(json{{"limit", json::object()}});
      return {};
    }
    // ipset, addrtype, recent, string, u32, time, hashlimit, connlimit, physdev, policy, socket,
    // statistic, length, ttl, dscp, ...: not decidable from the ruleset alone.
    expr_.push_back(opaque_match(module));
    return {};
  }

  core::Result<void> translate_target(const std::string& target, bool go_to, std::size_t& i) {
    const std::size_t target_offset = tokens_[i].offset;
    std::vector<std::string> args;
    ++i;
    while (i < tokens_.size() && !is_top_level_option(tokens_[i].text)) {
      args.push_back(tokens_[i].text);
      ++i;
    }
    const auto arg = [&](const std::string& name) -> std::string {
      for (std::size_t k = 0; k + 1 < args.size(); ++k) {
        if (args[k] == name) return args[k + 1];
      }
      return {};
    };
    if (go_to) {
      if (known_chains_ != nullptr && known_chains_->count(target) == 0) {
        return invalid(
            source_, target_offset,
            fmt::format("-g {}: no chain of that name is declared in this table", target));
      }
      expr_.push_back(json{{"goto", {{"target", target}}}});
      return {};
    }
    if (target == "ACCEPT") {
      expr_.push_back(json{{"accept", nullptr}});
    } else if (target == "DROP") {
      expr_.push_back(json{{"drop", nullptr}});
    } else if (target == "RETURN") {
      expr_.push_back(json{{"return", nullptr}});
    } else if (target == "REJECT") {
      std::string with = arg("--reject-with");
      if (with.empty())
        with = family_ == "ip6" ? "icmp6-port-unreachable" : "icmp-port-unreachable";
      if (with == "tcp-reset") {
        expr_.push_back(json{{"reject", {{"type", "tcp reset"}}}});
      } else {
        static const std::map<std::string, std::string> codes = {
            {"icmp-net-unreachable", "net-unreachable"},
            {"icmp-host-unreachable", "host-unreachable"},
            {"icmp-port-unreachable", "port-unreachable"},
            {"icmp-proto-unreachable", "prot-unreachable"},
            {"icmp-net-prohibited", "net-prohibited"},
            {"icmp-host-prohibited", "host-prohibited"},
            {"icmp-admin-prohibited", "admin-prohibited"},
            {"icmp6-no-route", "no-route"},
            {"no-route", "no-route"},
            {"icmp6-adm-prohibited", "admin-prohibited"},
            {"adm-prohibited", "admin-prohibited"},
            {"icmp6-addr-unreachable", "addr-unreachable"},
            {"addr-unreach", "addr-unreachable"},
            {"icmp6-port-unreachable", "port-unreachable"},
            {"port-unreach", "port-unreachable"}};
        const auto it = codes.find(with);
        if (it == codes.end()) {
          return invalid(source_, tokens_[i - 1].offset,
                         fmt::format("unknown --reject-with '{}'", with));
        }
        expr_.push_back(json{
            {"reject", {{"type", family_ == "ip6" ? "icmpv6" : "icmp"}, {"expr", it->second}}}});
      }
    } else if (target == "MARK" || target == "CONNMARK") {
      const json key = target == "MARK" ? meta("mark") : json{{"ct", {{"key", "mark"}}}};
      std::string value = arg("--set-mark");
      if (value.empty()) value = arg("--set-xmark");
      json mark;  // null: the mark becomes unknown
      if (!value.empty()) {
        const auto slash = value.find('/');
        const std::string mask = slash == std::string::npos ? "" : value.substr(slash + 1);
        if (mask.empty() || mask == "0xffffffff") {
          try {
            mark = std::stoull(value.substr(0, slash), nullptr, 0);
          } catch (const std::exception&) {
          }
        }
      }
      expr_.push_back(json{{"mangle", {{"key", key}, {"value", mark}}}});
    } else if (target == "NOTRACK" ||
               (target == "CT" && std::find(args.begin(), args.end(), "--notrack") != args.end())) {
      expr_.push_back(json{{"notrack", nullptr}});
    } else if (target == "DNAT" || target == "REDIRECT" || target == "TPROXY") {
      expr_.push_back(json{{lower(target), json::object()}});
    } else if (target == "SNAT" || target == "MASQUERADE") {
      expr_.push_back(json{{lower(target), json::object()}});
    } else if (target == "NFQUEUE" || target == "QUEUE") {
      expr_.push_back(json{{"queue", json::object()}});
    } else if (target == "LOG" || target == "NFLOG" || target == "ULOG" || target == "TRACE" ||
               target == "TCPMSS" || target == "CLASSIFY" || target == "DSCP" || target == "TOS" ||
               target == "AUDIT" || target == "CHECKSUM" || target == "TTL" || target == "HL" ||
               target == "CT") {
      expr_.push_back(json{{"xt", {{"type", "target"}, {"name", target}}}});
    } else if (known_chains_ != nullptr && known_chains_->count(target) > 0) {
      expr_.push_back(json{{"jump", {{"target", target}}}});
    } else if (!target.empty() && std::all_of(target.begin(), target.end(), [](char c) {
                 return std::isupper(static_cast<unsigned char>(c)) || std::isdigit(c) || c == '_';
               })) {
      // An extension target gwprobe does not know: the evaluator says "unknown".
      expr_.push_back(json{{"xt", {{"type", "target"}, {"name", target}}}});
    } else {
      return invalid(source_, target_offset,
                     fmt::format("-j {}: no chain of that name is declared in this table", target));
    }
    return {};
  }

 public:
  const std::set<std::string>* known_chains_ = nullptr;

 private:
  const bgp::SourceText& source_;
  const std::vector<Token>& tokens_;
  std::string family_;
  std::string protocol_;
  std::string module_;
  json expr_ = json::array();
};

}  // namespace

bool looks_like_iptables_save(std::string_view text) {
  const std::string_view body = bgp::trim(text);
  if (body.empty()) return false;
  return body.front() == '#' || body.front() == '*' || body.front() == ':' ||
         body.substr(0, 3) == "-A ";
}

core::Result<Ruleset> parse_iptables_save(const bgp::SourceText& source) {
  Ruleset ruleset;
  ruleset.source = source.name;
  ruleset.format = RulesetFormat::iptables_save;
  const std::string& text = source.text;

  // First pass: the family (ip6tables-save header, or IPv6 addresses) and every chain name, so
  // "-j NAME" can tell a user chain from an extension target.
  std::string family = "ip";
  std::map<std::string, std::set<std::string>> chains_by_table;
  {
    std::string table;
    std::size_t start = 0;
    while (start < text.size()) {
      std::size_t end = text.find('\n', start);
      if (end == std::string::npos) end = text.size();
      const std::string_view line(text.data() + start, end - start);
      if (line.find("ip6tables-save") != std::string_view::npos && line[0] == '#') family = "ip6";
      if (!line.empty() && line[0] == '*') table = std::string(bgp::trim(line.substr(1)));
      if (!line.empty() && line[0] == ':') {
        const auto space = line.find(' ');
        chains_by_table[table].insert(std::string(
            line.substr(1, space == std::string_view::npos ? std::string_view::npos : space - 1)));
      }
      if (line.substr(0, 3) == "-A " &&
          (line.find(" -s ") != std::string_view::npos ||
           line.find(" -d ") != std::string_view::npos) &&
          line.find("::") != std::string_view::npos) {
        family = "ip6";
      }
      start = end + 1;
    }
  }
  ruleset.iptables_family = family;

  std::string table;
  std::size_t table_offset = 0;
  int line_number = 0;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    ++line_number;
    std::string_view line(text.data() + start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const std::string_view body = bgp::trim(line);
    const std::size_t body_offset = start + static_cast<std::size_t>(body.data() - line.data());
    if (body.empty() || body[0] == '#') {
      // comment or blank
    } else if (body[0] == '*') {
      if (!table.empty()) return invalid(source, body_offset, "table started before COMMIT");
      table = std::string(bgp::trim(body.substr(1)));
      table_offset = body_offset;
      if (table != "filter" && table != "nat" && table != "mangle" && table != "raw" &&
          table != "security") {
        return invalid(source, body_offset,
                       fmt::format("unknown table '{}' (expected filter, nat, mangle, raw or "
                                   "security)",
                                   table));
      }
    } else if (body == "COMMIT") {
      if (table.empty()) return invalid(source, body_offset, "COMMIT outside a table");
      table.clear();
    } else if (body[0] == ':') {
      if (table.empty()) return invalid(source, body_offset, "chain declared outside a table");
      auto tokens = tokenize(source, body_offset, body);
      if (!tokens) return core::fail(tokens.error());
      if (tokens->size() < 2) {
        return invalid(source, body_offset, "expected ':CHAIN POLICY [packets:bytes]'");
      }
      Chain chain;
      chain.family = family;
      chain.table = table;
      chain.name = (*tokens)[0].text.substr(1);
      const std::string policy = (*tokens)[1].text;
      chain.location = fmt::format("{} {} {} (line {})", family == "ip6" ? "ip6tables" : "iptables",
                                   table, chain.name, line_number);
      if (policy != "-") {
        const auto builtin = builtin_chain(table, chain.name);
        if (!builtin) {
          return invalid(source, body_offset,
                         fmt::format("'{}' is not a built-in chain of table {}, so it cannot "
                                     "have a policy",
                                     chain.name, table));
        }
        if (policy != "ACCEPT" && policy != "DROP") {
          return invalid(source, (*tokens)[1].offset,
                         fmt::format("expected policy ACCEPT or DROP, got '{}'", policy));
        }
        chain.hook = builtin->hook;
        chain.priority = builtin->priority;
        chain.type = builtin->type;
        chain.policy = lower(policy);
      }
      ruleset.chains.push_back(std::move(chain));
    } else if (body.substr(0, 3) == "-A " || body.substr(0, 3) == "-I ") {
      if (table.empty()) return invalid(source, body_offset, "rule outside a table");
      auto tokens = tokenize(source, body_offset, body);
      if (!tokens) return core::fail(tokens.error());
      if (tokens->size() < 2) return invalid(source, body_offset, "-A without a chain");
      const std::string chain_name = (*tokens)[1].text;
      Chain* chain = nullptr;
      for (auto& c : ruleset.chains) {
        if (c.table == table && c.name == chain_name) chain = &c;
      }
      if (chain == nullptr) {
        return invalid(source, (*tokens)[1].offset,
                       fmt::format("chain '{}' is not declared in table {} (missing ':{} ...' "
                                   "line)",
                                   chain_name, table, chain_name));
      }
      RuleTranslator translator(source, *tokens, family);
      translator.known_chains_ = &chains_by_table[table];
      auto expr = translator.translate();
      if (!expr) return core::fail(expr.error());
      Rule rule;
      rule.location = fmt::format("line {}", line_number);
      rule.text = std::string(body);
      rule.expr = std::move(*expr);
      chain->rules.push_back(std::move(rule));
    } else {
      return invalid(source, body_offset,
                     fmt::format("expected '*table', ':CHAIN POLICY', '-A CHAIN ...' or COMMIT, "
                                 "got '{}'",
                                 body.substr(0, 40)));
    }
    start = end + 1;
  }
  if (!table.empty()) {
    return invalid(source, table_offset, fmt::format("table {} has no COMMIT", table));
  }
  if (ruleset.chains.empty()) {
    return invalid(source, 0, "no iptables-save tables (expected '*filter' ... 'COMMIT')");
  }
  return ruleset;
}

}  // namespace gwprobe::rules::firewall
