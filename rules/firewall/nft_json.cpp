// nft JSON: structure checks and rendering of rules for messages.
#include "rules/firewall/nft_json.hpp"

#include <fmt/format.h>

namespace gwprobe::rules::firewall {

namespace {

using json = nlohmann::json;
using Pointer = json::json_pointer;

core::Unexpected invalid(const bgp::SourceText& source, const Pointer& at, std::string_view what) {
  return core::fail(core::FailureKind::invalid_input,
                    fmt::format("{}: {}", bgp::where(source, at), what));
}

std::string render(const json& e);

std::string render_value(const json& v) {
  if (v.is_string()) {
    const std::string s = v.get<std::string>();
    return s;
  }
  if (v.is_number()) return v.dump();
  if (v.is_array()) {
    std::string out;
    for (const auto& item : v) {
      if (!out.empty()) out += ",";
      out += render_value(item);
    }
    return out;
  }
  if (v.is_object() && v.size() == 1) {
    const std::string key = v.begin().key();
    const json& body = v[key];
    if (key == "prefix") return fmt::format("{}/{}", body.value("addr", "?"), body.value("len", 0));
    if (key == "range" && body.is_array() && body.size() == 2) {
      return render_value(body[0]) + "-" + render_value(body[1]);
    }
    if (key == "set" && body.is_array()) {
      std::string out = "{ ";
      for (std::size_t i = 0; i < body.size(); ++i) {
        if (i > 0) out += ", ";
        if (body[i].is_array() && body[i].size() == 2) {
          out += render_value(body[i][0]) + " : " + render(body[i][1]);
        } else {
          out += render_value(body[i]);
        }
      }
      return out + " }";
    }
    if (key == "elem" && body.is_object()) return render_value(body.value("val", json()));
    if (key == "concat" && body.is_array()) {
      std::string out;
      for (const auto& part : body) {
        if (!out.empty()) out += " . ";
        out += render_value(part);
      }
      return out;
    }
    if (key == "|" && body.is_array()) {
      std::string out;
      for (const auto& part : body) {
        if (!out.empty()) out += " | ";
        out += render_value(part);
      }
      return "(" + out + ")";
    }
  }
  return render(v);
}

std::string render_left(const json& l) {
  if (l.is_object() && l.size() == 1) {
    const std::string key = l.begin().key();
    const json& body = l[key];
    if (key == "payload" && body.contains("protocol")) {
      return fmt::format("{} {}", body.value("protocol", "?"), body.value("field", "?"));
    }
    if (key == "meta") {
      const std::string k = body.value("key", "?");
      if (k == "iifname" || k == "oifname" || k == "iif" || k == "oif" || k == "mark" ||
          k == "skuid" || k == "skgid") {
        return k == "skuid" || k == "skgid" || k == "mark" ? "meta " + k : k;
      }
      return "meta " + k;
    }
    if (key == "ct") return "ct " + body.value("key", "?");
    if ((key == "&" || key == "|" || key == "^") && body.is_array() && body.size() == 2) {
      return fmt::format("{} {} {}", render_left(body[0]), key, render_value(body[1]));
    }
    if (key == "concat" && body.is_array()) {
      std::string out;
      for (const auto& part : body) {
        if (!out.empty()) out += " . ";
        out += render_left(part);
      }
      return out;
    }
  }
  return l.dump();
}

std::string render(const json& e) {
  if (!e.is_object() || e.size() != 1) return e.dump();
  const std::string key = e.begin().key();
  const json& body = e[key];
  if (key == "match") {
    const std::string op = body.value("op", "==");
    const std::string shown_op = op == "==" || op == "in" ? "" : op + " ";
    const json right = body.value("right", json());
    std::string value = render_value(right);
    const json left = body.value("left", json());
    const bool name_field =
        left.contains("meta") &&
        (left["meta"].value("key", "").find("ifname") != std::string::npos ||
         left["meta"].value("key", "") == "iif" || left["meta"].value("key", "") == "oif");
    if (name_field && right.is_string()) value = "\"" + value + "\"";
    return fmt::format("{} {}{}", render_left(left), shown_op, value);
  }
  if (key == "accept" || key == "drop" || key == "return" || key == "continue") return key;
  if (key == "jump" || key == "goto") return key + " " + body.value("target", "?");
  if (key == "reject") {
    if (!body.is_object()) return "reject";
    if (body.value("type", "") == "tcp reset") return "reject with tcp reset";
    return fmt::format("reject with {} {}", body.value("type", "icmp"),
                       body.contains("expr") ? render_value(body["expr"]) : "port-unreachable");
  }
  if (key == "counter") return "counter";
  if (key == "log")
    return body.contains("prefix") ? fmt::format("log prefix \"{}\"", body.value("prefix", ""))
                                   : "log";
  if (key == "vmap" && body.is_object()) {
    return fmt::format("{} vmap {}", render_left(body.value("key", json())),
                       render_value(body.value("data", json())));
  }
  if (key == "xt" && body.is_object()) {
    return fmt::format("xt {} {}", body.value("type", "?"), body.value("name", "?"));
  }
  if (key == "mangle" && body.is_object()) {
    return fmt::format("{} set {}", render_left(body.value("key", json())),
                       render_value(body.value("value", json())));
  }
  if (key == "limit" || key == "quota" || key == "notrack" || key == "masquerade" ||
      key == "snat" || key == "dnat" || key == "redirect" || key == "queue") {
    return key;
  }
  return e.dump();
}

bool is_string_at(const json& object, const char* key) {
  return object.contains(key) && object[key].is_string();
}

}  // namespace

std::string nft_rule_text(const json& expr) {
  if (!expr.is_array()) return expr.dump();
  std::string out;
  for (const auto& e : expr) {
    if (e.is_object() && e.contains("counter")) continue;  // noise in messages
    if (!out.empty()) out += " ";
    out += render(e);
  }
  return out;
}

core::Result<Ruleset> parse_nft_json(const bgp::SourceText& source) {
  auto root = bgp::parse_json(source);
  if (!root) return core::fail(root.error());
  if (!root->is_object() || !root->contains("nftables") || !(*root)["nftables"].is_array()) {
    return invalid(source, Pointer(),
                   "expected `nft -j list ruleset` output: {\"nftables\": [...]}");
  }
  Ruleset ruleset;
  ruleset.source = source.name;
  ruleset.format = RulesetFormat::nft_json;
  const json& items = (*root)["nftables"];
  struct PendingRule {
    Pointer at;
    std::string family, table, chain;
    Rule rule;
  };
  std::vector<PendingRule> rules;
  for (std::size_t i = 0; i < items.size(); ++i) {
    const Pointer at = Pointer("/nftables") / i;
    const json& item = items[i];
    if (!item.is_object() || item.size() != 1) {
      return invalid(source, at, "expected an object with one key (table, chain, rule, set ...)");
    }
    const std::string kind = item.begin().key();
    const json& body = item[kind];
    const Pointer body_at = at / kind;
    if (kind == "metainfo" || kind == "table" || kind == "flowtable" || kind == "counter" ||
        kind == "quota" || kind == "ct helper" || kind == "ct timeout" ||
        kind == "ct expectation" || kind == "limit" || kind == "secmark" || kind == "synproxy" ||
        kind == "element") {
      if (kind == "table" && body.is_object() && is_string_at(body, "family")) {
        const std::string family = body["family"].get<std::string>();
        if (family == "bridge" || family == "arp") {
          ruleset.notes.push_back(
              fmt::format("table {} {} is not evaluated: {} tables do not see "
                          "routed IP traffic",
                          family, body.value("name", "?"), family));
        }
      }
      continue;
    }
    if (!body.is_object())
      return invalid(source, body_at, fmt::format("expected a {} object", kind));
    for (const char* field : {"family", "table"}) {
      if (!is_string_at(body, field)) {
        return invalid(source, body_at, fmt::format("{} without \"{}\"", kind, field));
      }
    }
    const std::string family = body["family"].get<std::string>();
    const std::string table = body["table"].get<std::string>();
    if (kind == "chain") {
      if (!is_string_at(body, "name")) return invalid(source, body_at, "chain without \"name\"");
      Chain chain;
      chain.family = family;
      chain.table = table;
      chain.name = body["name"].get<std::string>();
      chain.location = fmt::format("{} {} {}", family, table, chain.name);
      if (body.contains("hook")) {
        const auto hook = parse_hook(body.value("hook", ""));
        if (!hook) {
          return invalid(source, body_at / "hook",
                         fmt::format("unknown hook {}", body["hook"].dump()));
        }
        chain.hook = hook;
        chain.type = body.value("type", "filter");
        if (!body.contains("prio") || !body["prio"].is_number_integer()) {
          return invalid(source, body_at, "base chain without a numeric \"prio\"");
        }
        chain.priority = body["prio"].get<int>();
        chain.policy = body.value("policy", "accept");
        if (body.contains("dev")) {
          const json& dev = body["dev"];
          if (dev.is_string()) chain.devices.push_back(dev.get<std::string>());
          if (dev.is_array()) {
            for (const auto& d : dev) {
              if (d.is_string()) chain.devices.push_back(d.get<std::string>());
            }
          }
        }
        if (chain.policy != "accept" && chain.policy != "drop") {
          return invalid(source, body_at / "policy",
                         fmt::format("expected policy accept or drop, got \"{}\"", chain.policy));
        }
      }
      ruleset.chains.push_back(std::move(chain));
    } else if (kind == "rule") {
      if (!is_string_at(body, "chain")) return invalid(source, body_at, "rule without \"chain\"");
      if (!body.contains("expr") || !body["expr"].is_array()) {
        return invalid(source, body_at, "rule without an \"expr\" array");
      }
      for (std::size_t e = 0; e < body["expr"].size(); ++e) {
        const json& expr = body["expr"][e];
        if (!expr.is_object() || expr.size() != 1) {
          return invalid(source, body_at / "expr" / e,
                         "expected an expression object with one key (match, accept, ...)");
        }
      }
      PendingRule pending;
      pending.at = body_at;
      pending.family = family;
      pending.table = table;
      pending.chain = body["chain"].get<std::string>();
      pending.rule.expr = body["expr"];
      pending.rule.location =
          body.contains("handle")
              ? fmt::format("{} {} {} handle {}", family, table, pending.chain,
                            body["handle"].dump())
              : fmt::format("{} {} {} rule {}", family, table, pending.chain, rules.size() + 1);
      pending.rule.text = nft_rule_text(body["expr"]);
      if (is_string_at(body, "comment")) {
        pending.rule.text += fmt::format(" comment \"{}\"", body["comment"].get<std::string>());
      }
      rules.push_back(std::move(pending));
    } else if (kind == "set" || kind == "map") {
      if (!is_string_at(body, "name")) return invalid(source, body_at, "set without \"name\"");
      NamedSet set;
      set.family = family;
      set.table = table;
      set.name = body["name"].get<std::string>();
      set.type = body.contains("type") ? (body["type"].is_string() ? body["type"].get<std::string>()
                                                                   : body["type"].dump())
                                       : std::string();
      set.is_map = kind == "map";
      if (body.contains("flags") && body["flags"].is_array()) {
        for (const auto& flag : body["flags"]) {
          if (flag == "dynamic" || flag == "timeout") set.dynamic = true;
        }
      }
      if (body.contains("elem")) {
        if (!body["elem"].is_array()) {
          return invalid(source, body_at / "elem", "expected \"elem\": an array");
        }
        set.elements = body["elem"];
      }
      ruleset.sets.push_back(std::move(set));
    } else {
      ruleset.notes.push_back(
          fmt::format("ignored a \"{}\" object (not used for filtering)", kind));
    }
  }
  for (auto& pending : rules) {
    bool attached = false;
    for (auto& chain : ruleset.chains) {
      if (chain.family == pending.family && chain.table == pending.table &&
          chain.name == pending.chain) {
        chain.rules.push_back(std::move(pending.rule));
        attached = true;
        break;
      }
    }
    if (!attached) {
      return invalid(source, pending.at,
                     fmt::format("rule for chain {} {} {}, which the ruleset does not define",
                                 pending.family, pending.table, pending.chain));
    }
  }
  for (const auto& chain : ruleset.chains) {
    if (chain.family == "netdev" && chain.hook) {
      ruleset.notes.push_back(fmt::format(
          "netdev chain {} is not evaluated: verdicts on its device's traffic are unknown",
          chain.location));
    }
  }
  return ruleset;
}

}  // namespace gwprobe::rules::firewall
