// Route filter parsing: Azure JSON shapes and plain community lists.
#include "rules/bgp/route_filter.hpp"

#include <fmt/format.h>

namespace gwprobe::rules::bgp {

namespace {

using nlohmann::json;
using Pointer = json::json_pointer;

core::Unexpected error_at(const SourceText& source, const Pointer& at, std::string_view what) {
  return core::fail(core::FailureKind::invalid_input,
                    fmt::format("{}: {}", where(source, at), what));
}

// Keys as az (camelCase) or PowerShell (PascalCase) print them, found case-insensitively; the
// pointer is rebuilt with the key's real spelling so positions stay exact.
const json* member(const json& object, const Pointer& at, std::string_view key, Pointer* found) {
  if (!object.is_object()) return nullptr;
  const std::string lower = to_lower(key);
  for (auto it = object.begin(); it != object.end(); ++it) {
    if (to_lower(it.key()) == lower) {
      *found = at / it.key();
      return &it.value();
    }
  }
  return nullptr;
}

bool looks_like_rule(const json& value) {
  if (!value.is_object()) return false;
  Pointer ignored;
  if (member(value, Pointer(), "communities", &ignored) != nullptr) return true;
  const json* properties = member(value, Pointer(), "properties", &ignored);
  return properties != nullptr && member(*properties, Pointer(), "communities", &ignored);
}

class FilterReader {
 public:
  explicit FilterReader(const SourceText& source) : source_(source) {}

  core::Result<RouteFilter> read(const json& root) {
    filter_.source = source_.name;
    filter_.format = "azure-json";
    if (auto r = read_any(root, Pointer()); !r) return core::fail(r.error());
    if (!found_shape_) {
      return error_at(source_, Pointer(),
                      "expected an Azure route filter (an object with \"rules\", "
                      "\"properties.rules\" or ARM \"resources\"), a route filter rule or an "
                      "array of rules");
    }
    return filter_;
  }

 private:
  core::Result<void> read_any(const json& value, const Pointer& at) {
    Pointer p;
    if (value.is_array()) {
      for (std::size_t i = 0; i < value.size(); ++i) {
        if (!value[i].is_object()) {
          return error_at(source_, at / i, "expected a route filter rule (an object)");
        }
        if (auto r = read_any(value[i], at / i); !r) return r;
      }
      found_shape_ = found_shape_ || value.empty();
      return {};
    }
    if (!value.is_object()) {
      return error_at(source_, at, "expected a JSON object or array");
    }
    if (const json* resources = member(value, at, "resources", &p); resources != nullptr) {
      return read_template(*resources, p);
    }
    if (const json* name = member(value, at, "name", &p); name != nullptr && name->is_string()) {
      if (filter_.name.empty() && !looks_like_rule(value)) filter_.name = name->get<std::string>();
    }
    if (const json* rules = member(value, at, "rules", &p); rules != nullptr) {
      return read_rules(*rules, p);
    }
    if (const json* properties = member(value, at, "properties", &p); properties != nullptr) {
      Pointer q;
      if (const json* rules = member(*properties, p, "rules", &q); rules != nullptr) {
        return read_rules(*rules, q);
      }
    }
    if (looks_like_rule(value)) return read_rule(value, at);
    return {};
  }

  core::Result<void> read_template(const json& resources, const Pointer& at) {
    if (!resources.is_array()) return error_at(source_, at, "expected \"resources\": an array");
    for (std::size_t i = 0; i < resources.size(); ++i) {
      const json& resource = resources[i];
      Pointer p;
      const json* type = member(resource, at / i, "type", &p);
      if (type == nullptr || !type->is_string()) continue;
      const std::string kind = to_lower(type->get<std::string>());
      if (kind == "microsoft.network/routefilters") {
        Pointer props_at;
        const json* properties = member(resource, at / i, "properties", &props_at);
        Pointer rules_at;
        const json* rules =
            properties != nullptr ? member(*properties, props_at, "rules", &rules_at) : nullptr;
        if (const json* name = member(resource, at / i, "name", &p); name && name->is_string()) {
          filter_.name = name->get<std::string>();
        }
        if (rules != nullptr) {
          if (auto r = read_rules(*rules, rules_at); !r) return r;
        } else {
          found_shape_ = true;  // a filter without rules: allows nothing
        }
      } else if (kind == "microsoft.network/routefilters/routefilterrules") {
        if (auto r = read_rule(resource, at / i); !r) return r;
      }
    }
    if (!found_shape_) {
      return error_at(source_, at,
                      "no Microsoft.Network/routeFilters or routeFilterRules resource in the "
                      "template");
    }
    return {};
  }

  core::Result<void> read_rules(const json& rules, const Pointer& at) {
    found_shape_ = true;
    if (rules.is_null()) return {};
    if (!rules.is_array()) return error_at(source_, at, "expected \"rules\": an array");
    for (std::size_t i = 0; i < rules.size(); ++i) {
      if (auto r = read_rule(rules[i], at / i); !r) return r;
    }
    return {};
  }

  // A rule: flattened (az, PowerShell) or with its fields under "properties" (ARM, REST).
  core::Result<void> read_rule(const json& rule, const Pointer& at) {
    found_shape_ = true;
    if (!rule.is_object()) return error_at(source_, at, "expected a route filter rule (an object)");
    FilterRule out;
    out.where = where(source_, at);
    Pointer p;
    if (const json* name = member(rule, at, "name", &p); name != nullptr && name->is_string()) {
      out.name = name->get<std::string>();
    } else {
      out.name = fmt::format("rule {}", filter_.rules.size() + 1);
    }
    const json* fields = &rule;
    Pointer fields_at = at;
    if (member(rule, at, "communities", &p) == nullptr) {
      if (const json* properties = member(rule, at, "properties", &p); properties != nullptr) {
        fields = properties;
        fields_at = p;
      }
    }
    const json* access = member(*fields, fields_at, "access", &p);
    if (access == nullptr) {
      return error_at(source_, fields_at, "route filter rule without \"access\" (Allow or Deny)");
    }
    const std::string access_text = access->is_string() ? to_lower(access->get<std::string>()) : "";
    if (access_text == "allow") {
      out.access = FilterAccess::allow;
    } else if (access_text == "deny") {
      out.access = FilterAccess::deny;
    } else {
      return error_at(
          source_, p,
          fmt::format("expected \"access\": \"Allow\" or \"Deny\", got {}", access->dump()));
    }
    if (const json* type = member(*fields, fields_at, "routeFilterRuleType", &p); type != nullptr) {
      if (!type->is_string() || to_lower(type->get<std::string>()) != "community") {
        return error_at(
            source_, p,
            fmt::format("expected \"routeFilterRuleType\": \"Community\", got {}", type->dump()));
      }
    }
    const json* communities = member(*fields, fields_at, "communities", &p);
    if (communities == nullptr || !communities->is_array()) {
      return error_at(source_, communities == nullptr ? fields_at : p,
                      "expected \"communities\": an array of \"ASN:value\" strings");
    }
    for (std::size_t i = 0; i < communities->size(); ++i) {
      const json& item = (*communities)[i];
      if (!item.is_string()) {
        return error_at(source_, p / i, "expected a community string like \"12076:51004\"");
      }
      const std::string text = item.get<std::string>();
      if (text.find("[") == 0 || text.find("parameters(") != std::string::npos) {
        return error_at(source_, p / i,
                        fmt::format("ARM template expression {} cannot be evaluated; give the "
                                    "output of `az network route-filter show` instead",
                                    item.dump()));
      }
      auto community = parse_community(text);
      if (!community) return error_at(source_, p / i, community.error().message);
      out.communities.push_back(*community);
    }
    filter_.rules.push_back(std::move(out));
    return {};
  }

  const SourceText& source_;
  RouteFilter filter_;
  bool found_shape_ = false;
};

core::Result<RouteFilter> parse_community_list(const SourceText& source) {
  RouteFilter filter;
  filter.source = source.name;
  filter.format = "community-list";
  FilterRule rule;
  rule.name = "community list";
  rule.access = FilterAccess::allow;
  rule.where = where(source, 0);
  const std::string& text = source.text;
  std::size_t line_start = 0;
  while (line_start <= text.size()) {
    std::size_t line_end = text.find('\n', line_start);
    if (line_end == std::string::npos) line_end = text.size();
    std::string_view line(text.data() + line_start, line_end - line_start);
    if (const auto hash = line.find('#'); hash != std::string_view::npos) {
      line = line.substr(0, hash);
    }
    std::size_t i = 0;
    while (i < line.size()) {
      while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == ',' ||
                                 line[i] == ';' || line[i] == '\r')) {
        ++i;
      }
      std::size_t j = i;
      while (j < line.size() && line[j] != ' ' && line[j] != '\t' && line[j] != ',' &&
             line[j] != ';' && line[j] != '\r') {
        ++j;
      }
      if (j > i) {
        auto community = parse_community(line.substr(i, j - i));
        if (!community) {
          return core::fail(
              core::FailureKind::invalid_input,
              fmt::format("{}: {}", where(source, line_start + i), community.error().message));
        }
        rule.communities.push_back(*community);
      }
      i = j;
    }
    line_start = line_end + 1;
  }
  filter.rules.push_back(std::move(rule));
  return filter;
}

}  // namespace

core::Result<RouteFilter> parse_route_filter(const SourceText& source) {
  const std::string_view body = trim(source.text);
  if (!body.empty() && (body.front() == '{' || body.front() == '[')) {
    auto root = parse_json(source);
    if (!root) return core::fail(root.error());
    return FilterReader(source).read(*root);
  }
  return parse_community_list(source);
}

}  // namespace gwprobe::rules::bgp
