// Keys-file loading (TOML via toml++, JSON via nlohmann) with file:line:column errors.
#include "gateway/protocol/keys_file.hpp"

#include <sys/stat.h>

#include <toml++/toml.h>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "gateway/protocol/crypto.hpp"

namespace gwprobe::gateway::protocol {

namespace {

using core::FailureKind;

core::Unexpected bad(std::string_view source, std::size_t line, std::size_t column,
                     const std::string& what) {
  return core::fail(FailureKind::invalid_input, std::string(source) + ":" + std::to_string(line) +
                                                    ":" + std::to_string(column) + ": " + what);
}

core::Result<KeyRing> parse_toml(std::string_view text, std::string_view source) {
  toml::table root;
  try {
    root = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    return bad(source, e.source().begin.line, e.source().begin.column,
               std::string(e.description()));
  }
  for (auto&& [k, v] : root) {
    if (k.str() != "rule") {
      return bad(source, v.source().begin.line, v.source().begin.column,
                 "unknown key '" + std::string(k.str()) + "' (expected [[rule]] tables)");
    }
  }
  const toml::node* rules_node = root.get("rule");
  if (rules_node == nullptr) return bad(source, 1, 1, "no [[rule]] tables: expected at least one");
  const toml::array* rules = rules_node->as_array();
  if (rules == nullptr) {
    return bad(source, rules_node->source().begin.line, rules_node->source().begin.column,
               "'rule' must be an array of tables ([[rule]])");
  }
  KeyRing keys;
  for (const toml::node& node : *rules) {
    const auto pos = node.source().begin;
    const toml::table* t = node.as_table();
    if (t == nullptr) return bad(source, pos.line, pos.column, "expected a [[rule]] table");
    SasRule rule;
    for (auto&& [k, v] : *t) {
      const auto vpos = v.source().begin;
      const std::string key(k.str());
      if (key == "name" || key == "key") {
        const auto* s = v.as_string();
        if (s == nullptr)
          return bad(source, vpos.line, vpos.column, "'" + key + "' must be a string");
        if (key == "name") {
          rule.name = s->get();
        } else {
          rule.key = core::Secret(s->get());
        }
      } else if (key == "rights") {
        const auto* arr = v.as_array();
        if (arr == nullptr) {
          return bad(source, vpos.line, vpos.column,
                     "'rights' must be an array such as [\"Listen\", \"Send\"]");
        }
        for (const toml::node& r : *arr) {
          const auto rpos = r.source().begin;
          const auto* s = r.as_string();
          if (s == nullptr) return bad(source, rpos.line, rpos.column, "a right must be a string");
          auto right = parse_right(s->get());
          if (!right) return bad(source, rpos.line, rpos.column, right.error().message);
          rule.rights |= rights_of(*right);
        }
      } else {
        return bad(source, vpos.line, vpos.column,
                   "unknown key '" + key + "' in [[rule]] (expected name, key, rights)");
      }
    }
    if (rule.name.empty())
      return bad(source, pos.line, pos.column, "[[rule]] needs a non-empty 'name'");
    if (rule.key.empty()) {
      return bad(source, pos.line, pos.column, "rule '" + rule.name + "' needs a non-empty 'key'");
    }
    if (rule.rights == 0) {
      return bad(
          source, pos.line, pos.column,
          "rule '" + rule.name + "' needs 'rights' with at least one of Listen, Send, Manage");
    }
    const std::string name = rule.name;
    if (auto added = keys.add(std::move(rule)); !added) {
      return bad(source, pos.line, pos.column, added.error().message);
    }
  }
  return keys;
}

// nlohmann reports a byte offset; turn it into line:column like the TOML path does.
std::pair<std::size_t, std::size_t> line_column(std::string_view text, std::size_t offset) {
  std::size_t line = 1;
  std::size_t column = 1;
  for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return {line, column};
}

core::Result<KeyRing> parse_json(std::string_view text, std::string_view source) {
  nlohmann::json root;
  try {
    root = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    const auto [line, column] = line_column(text, e.byte > 0 ? e.byte - 1 : 0);
    std::string what = e.what();
    if (const auto colon = what.find("syntax error"); colon != std::string::npos) {
      what = what.substr(colon);
    }
    return bad(source, line, column, what);
  }
  // JSON carries no positions, so semantic errors name the element instead of line:column.
  auto where = [&](std::size_t index) {
    return std::string(source) + ": rules[" + std::to_string(index) + "]: ";
  };
  if (!root.is_object() || !root.contains("rules") || !root["rules"].is_array()) {
    return core::fail(FailureKind::invalid_input,
                      std::string(source) + ": expected an object {\"rules\": [...]}");
  }
  KeyRing keys;
  std::size_t index = 0;
  for (const auto& r : root["rules"]) {
    if (!r.is_object()) {
      return core::fail(FailureKind::invalid_input, where(index) + "expected an object");
    }
    SasRule rule;
    for (const auto& [k, v] : r.items()) {
      if (k == "name" || k == "key") {
        if (!v.is_string()) {
          return core::fail(FailureKind::invalid_input,
                            where(index) + "'" + k + "' must be a string");
        }
        if (k == "name") {
          rule.name = v.get<std::string>();
        } else {
          rule.key = core::Secret(v.get<std::string>());
        }
      } else if (k == "rights") {
        if (!v.is_array()) {
          return core::fail(FailureKind::invalid_input, where(index) + "'rights' must be an array");
        }
        for (const auto& right_name : v) {
          if (!right_name.is_string()) {
            return core::fail(FailureKind::invalid_input,
                              where(index) + "a right must be a string");
          }
          auto right = parse_right(right_name.get<std::string>());
          if (!right)
            return core::fail(FailureKind::invalid_input, where(index) + right.error().message);
          rule.rights |= rights_of(*right);
        }
      } else {
        return core::fail(FailureKind::invalid_input,
                          where(index) + "unknown key '" + k + "' (expected name, key, rights)");
      }
    }
    if (auto added = keys.add(std::move(rule)); !added) {
      return core::fail(FailureKind::invalid_input, where(index) + added.error().message);
    }
    ++index;
  }
  if (keys.empty()) {
    return core::fail(FailureKind::invalid_input, std::string(source) + ": 'rules' is empty");
  }
  return keys;
}

}  // namespace

core::Result<KeyRing> parse_keys(std::string_view text, std::string_view source_name) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first != std::string_view::npos && text[first] == '{') return parse_json(text, source_name);
  return parse_toml(text, source_name);
}

core::Result<LoadedKeys> load_keys_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return core::fail(FailureKind::not_found, "cannot read keys file '" + path + "'");
  }
  std::ostringstream text;
  text << in.rdbuf();
  auto keys = parse_keys(text.str(), path);
  if (!keys) return core::fail(keys.error());
  LoadedKeys loaded{std::move(*keys), {}};
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && (st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    loaded.warnings.push_back("keys file '" + path + "' has mode " + mode +
                              ": others can read the keys; run chmod 600 on it");
  }
  return loaded;
}

std::string format_keys_toml(const KeyRing& keys) {
  std::string out =
      "# gwprobe relay keys: one [[rule]] per SAS rule. Keep this file mode 0600.\n"
      "# rights: Listen (gateways), Send (clients), Manage (both).\n";
  for (const auto& rule : keys.rules()) {
    std::string rights;
    for (const char* name : {"Listen", "Send", "Manage"}) {
      if (rule.rights & rights_of(*parse_right(name))) {
        rights += rights.empty() ? "" : ", ";
        rights += std::string("\"") + name + "\"";
      }
    }
    out += "\n[[rule]]\nname = \"" + rule.name + "\"\nkey = \"" + rule.key.reveal() +
           "\"\nrights = [" + rights + "]\n";
  }
  return out;
}

std::string generate_sas_key() {
  return base64_encode(random_bytes(32));
}

}  // namespace gwprobe::gateway::protocol
