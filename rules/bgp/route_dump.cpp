// Route dump parsers: BIRD's `show route all` text and FRR's JSON.
#include "rules/bgp/route_dump.hpp"

#include <cctype>

#include <fmt/format.h>

namespace gwprobe::rules::bgp {

namespace {

using nlohmann::json;
using Pointer = json::json_pointer;

core::Unexpected invalid(std::string message) {
  return core::fail(core::FailureKind::invalid_input, std::move(message));
}

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

bool looks_like_prefix(std::string_view token) {
  const auto slash = token.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 >= token.size()) return false;
  for (const char c : token.substr(0, slash)) {
    if (!std::isxdigit(static_cast<unsigned char>(c)) && c != '.' && c != ':') return false;
  }
  for (const char c : token.substr(slash + 1)) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// BIRD 2 `show route all`:
//   Table master4:
//   198.18.2.0/24        unicast [msee 04:54:29.402] * (100) [AS12076i]
//   \tvia 10.239.1.1 on bgpfwb0
//   \tBGP.community: (12076,51002) (12076,5060)
//                        unicast [peer2 ...] (100) [AS65001i]      <- another path, same prefix
core::Result<RouteDump> parse_bird(const SourceText& source) {
  RouteDump dump;
  dump.source = source.name;
  dump.format = "bird";
  bool saw_table = false;
  bool saw_attributes = false;
  std::string current_prefix;
  const std::string& text = source.text;
  std::size_t line_start = 0;
  while (line_start < text.size()) {
    std::size_t line_end = text.find('\n', line_start);
    if (line_end == std::string::npos) line_end = text.size();
    std::string_view line(text.data() + line_start, line_end - line_start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const std::string_view body = trim(line);
    const bool indented = !line.empty() && (line[0] == ' ' || line[0] == '\t');
    if (body.empty() || starts_with(body, "BIRD ") || body == "Access restricted") {
      // banner and blank lines
    } else if (!indented && starts_with(body, "Table ") && body.back() == ':') {
      saw_table = true;
    } else if (!indented) {
      const std::string_view token = body.substr(0, body.find_first_of(" \t"));
      if (!looks_like_prefix(token)) {
        return invalid(
            fmt::format("{}: expected a route line (\"PREFIX  unicast [...]\") of "
                        "BIRD `show route all`, got \"{}\"",
                        where(source, line_start), body.substr(0, 60)));
      }
      current_prefix = std::string(token);
      dump.routes.push_back(BgpRoute{current_prefix,
                                     {},
                                     body.find(" * ") != std::string_view::npos,
                                     where(source, line_start)});
    } else if (!current_prefix.empty() && body.find(" [") != std::string_view::npos &&
               (starts_with(body, "unicast") || starts_with(body, "blackhole") ||
                starts_with(body, "unreachable") || starts_with(body, "prohibit"))) {
      dump.routes.push_back(BgpRoute{current_prefix,
                                     {},
                                     body.find(" * ") != std::string_view::npos,
                                     where(source, line_start)});
    } else if (starts_with(body, "Type:") || starts_with(body, "BGP.")) {
      saw_attributes = true;
      if (starts_with(body, "BGP.community:")) {
        if (dump.routes.empty()) {
          return invalid(
              fmt::format("{}: BGP.community before any route", where(source, line_start)));
        }
        std::string_view rest = body.substr(std::string_view("BGP.community:").size());
        while (true) {
          const auto open = rest.find('(');
          if (open == std::string_view::npos) break;
          const auto close = rest.find(')', open);
          if (close == std::string_view::npos) {
            return invalid(fmt::format("{}: unterminated community in \"{}\"",
                                       where(source, line_start), body));
          }
          auto community = parse_community(rest.substr(open, close - open + 1));
          if (!community) {
            const std::size_t column = static_cast<std::size_t>(rest.data() - line.data()) + open;
            return invalid(fmt::format("{}: {}", where(source, line_start + column),
                                       community.error().message));
          }
          dump.routes.back().communities.push_back(*community);
          rest = rest.substr(close + 1);
        }
      }
    }
    line_start = line_end + 1;
  }
  if (!saw_table && dump.routes.empty()) {
    return invalid(
        fmt::format("{}: neither BIRD `show route all` output (no \"Table ...:\" "
                    "line) nor FRR JSON",
                    where(source, 0)));
  }
  dump.has_communities = saw_attributes || dump.routes.empty();
  if (!dump.has_communities) {
    dump.how_to_get_communities = "birdc show route all";
  }
  return dump;
}

// One FRR path object. Table JSON paths have "valid"/"nexthops" but no attributes; detail paths
// carry "community":{"string":...,"list":[...]} when the route has any.
core::Result<void> read_frr_path(const SourceText& source, const json& path, const Pointer& at,
                                 const std::string& prefix, RouteDump& dump, bool* detail) {
  if (!path.is_object())
    return invalid(fmt::format("{}: expected a path object", where(source, at)));
  const bool is_path = path.contains("valid") || path.contains("nexthops") ||
                       path.contains("aspath") || path.contains("path") || path.contains("peer");
  if (!is_path) return {};  // FRR 8.x detail: the first element is a header {"prefix",...}
  if (path.contains("aspath") || path.contains("lastUpdate") || path.contains("community")) {
    *detail = true;
  }
  BgpRoute route;
  route.prefix = prefix;
  route.where = where(source, at);
  if (const auto best = path.find("bestpath"); best != path.end()) {
    route.best =
        best->is_boolean() ? best->get<bool>() : best->is_object() && best->value("overall", false);
  }
  if (const auto community = path.find("community"); community != path.end()) {
    std::vector<std::string> values;
    if (community->is_object() && community->contains("list") && (*community)["list"].is_array()) {
      for (const auto& v : (*community)["list"]) {
        if (v.is_string()) values.push_back(v.get<std::string>());
      }
    } else if (community->is_object() && community->contains("string")) {
      const std::string text = (*community)["string"].get<std::string>();
      std::size_t i = 0;
      while (i < text.size()) {
        const std::size_t j = text.find(' ', i);
        values.push_back(text.substr(i, j == std::string::npos ? std::string::npos : j - i));
        if (j == std::string::npos) break;
        i = j + 1;
      }
    } else {
      return invalid(fmt::format("{}: expected \"community\": {{\"string\",\"list\"}}",
                                 where(source, at / "community")));
    }
    for (const auto& value : values) {
      // Well-known names (no-export, graceful-shutdown...) and aliases are not 12076:x values.
      if (value.empty() || !std::isdigit(static_cast<unsigned char>(value[0]))) continue;
      auto parsed = parse_community(value);
      if (!parsed) {
        return invalid(
            fmt::format("{}: {}", where(source, at / "community"), parsed.error().message));
      }
      route.communities.push_back(*parsed);
    }
  }
  dump.routes.push_back(std::move(route));
  return {};
}

core::Result<RouteDump> parse_frr(const SourceText& source) {
  auto root = parse_json(source);
  if (!root) return core::fail(root.error());
  RouteDump dump;
  dump.source = source.name;
  dump.format = "frr-json";
  bool detail = false;
  if (root->is_object() && root->contains("routes")) {
    const json& routes = (*root)["routes"];
    if (!routes.is_object()) {
      return invalid(fmt::format("{}: expected \"routes\": an object of prefix -> paths",
                                 where(source, Pointer("/routes"))));
    }
    for (auto it = routes.begin(); it != routes.end(); ++it) {
      const Pointer at = Pointer("/routes") / it.key();
      const json* paths = &it.value();
      Pointer paths_at = at;
      if (paths->is_object() && paths->contains("paths")) {  // later FRR detail layout
        paths = &(*paths)["paths"];
        paths_at = at / "paths";
      }
      if (!paths->is_array()) {
        return invalid(fmt::format("{}: expected an array of paths", where(source, at)));
      }
      for (std::size_t i = 0; i < paths->size(); ++i) {
        if (auto r = read_frr_path(source, (*paths)[i], paths_at / i, it.key(), dump, &detail);
            !r) {
          return core::fail(r.error());
        }
      }
    }
  } else if (root->is_object() && root->contains("prefix") && root->contains("paths")) {
    const json& paths = (*root)["paths"];
    if (!paths.is_array()) {
      return invalid(
          fmt::format("{}: expected \"paths\": an array", where(source, Pointer("/paths"))));
    }
    const std::string prefix =
        (*root)["prefix"].is_string() ? (*root)["prefix"].get<std::string>() : std::string();
    for (std::size_t i = 0; i < paths.size(); ++i) {
      if (auto r = read_frr_path(source, paths[i], Pointer("/paths") / i, prefix, dump, &detail);
          !r) {
        return core::fail(r.error());
      }
    }
    detail = true;  // the per-prefix view always prints attributes
  } else {
    return invalid(
        fmt::format("{}: expected FRR `show bgp ... json` output (an object with "
                    "\"routes\", or \"prefix\" and \"paths\")",
                    where(source, 0)));
  }
  dump.has_communities = detail || dump.routes.empty();
  if (!dump.has_communities) {
    dump.how_to_get_communities = "vtysh -c 'show bgp ipv4 unicast json detail'";
  }
  return dump;
}

}  // namespace

core::Result<RouteDump> parse_route_dump(const SourceText& source) {
  const std::string_view body = trim(source.text);
  if (!body.empty() && (body.front() == '{' || body.front() == '[')) return parse_frr(source);
  return parse_bird(source);
}

}  // namespace gwprobe::rules::bgp
