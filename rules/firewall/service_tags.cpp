// Service tags: parsing, the gateway's tags per region, host -> tag ranges, allowlist coverage.
#include "rules/firewall/service_tags.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "rules/data/embedded_data.hpp"

namespace gwprobe::rules::firewall {

namespace {

using json = nlohmann::json;
using Pointer = json::json_pointer;

core::Unexpected invalid(const bgp::SourceText& source, const Pointer& at, std::string_view what) {
  return core::fail(core::FailureKind::invalid_input,
                    fmt::format("{}: {}", bgp::where(source, at), what));
}

// rules/data/service-tags.json, parsed once. Broken embedded data is a bug (tests parse it).
struct TagMap {
  struct GatewayTag {
    std::string tag;
    bool regional = false;
    std::string source;
    std::string why;
  };
  struct Host {
    std::string suffix;
    std::vector<std::string> tags;
    std::string source;
  };
  std::vector<GatewayTag> gateway_tags;
  std::vector<std::pair<std::string, std::string>> irregular;  ///< tag name -> region
  std::vector<Host> hosts;
};

const TagMap& tag_map() {
  static const TagMap map = [] {
    TagMap m;
    const json root = json::parse(data::service_tags_json);
    for (const auto& t : root.at("gateway_tags")) {
      m.gateway_tags.push_back({t.at("tag").get<std::string>(), t.at("regional").get<bool>(),
                                t.at("source").get<std::string>(), t.at("why").get<std::string>()});
    }
    for (const auto& i : root.at("irregular_region_names")) {
      m.irregular.emplace_back(bgp::to_lower(i.at("tag").get<std::string>()),
                               i.at("region").get<std::string>());
    }
    for (const auto& h : root.at("hosts")) {
      m.hosts.push_back({h.at("suffix").get<std::string>(),
                         h.at("tags").get<std::vector<std::string>>(),
                         h.at("source").get<std::string>()});
    }
    return m;
  }();
  return map;
}

// The entry of `base` for `region`: "ServiceBus.WestEurope" has region "westeurope"; AzureCloud
// uses lower-case names, some irregular ("AzureCloud.centralfrance" is francecentral).
const ServiceTag* regional_entry(const ServiceTags& tags, const std::string& base,
                                 const std::string& region) {
  const std::string prefix = bgp::to_lower(base) + ".";
  for (const auto& tag : tags.tags) {
    const std::string name = bgp::to_lower(tag.name);
    if (name.rfind(prefix, 0) != 0) continue;
    if (bgp::to_lower(tag.region) == region || name.substr(prefix.size()) == region) return &tag;
    for (const auto& [irregular, irregular_region] : tag_map().irregular) {
      if (name == irregular && irregular_region == region) return &tag;
    }
  }
  return nullptr;
}

bool host_matches_suffix(std::string_view host, std::string_view suffix) {
  std::string h = bgp::to_lower(host);
  if (h.rfind("*.", 0) == 0) h = h.substr(2);
  if (h == suffix) return true;
  return h.size() > suffix.size() &&
         h.compare(h.size() - suffix.size(), suffix.size(), suffix) == 0 &&
         h[h.size() - suffix.size() - 1] == '.';
}

}  // namespace

const ServiceTag* ServiceTags::find(std::string_view name) const {
  const std::string wanted = bgp::to_lower(name);
  for (const auto& tag : tags) {
    if (bgp::to_lower(tag.name) == wanted) return &tag;
  }
  return nullptr;
}

core::Result<ServiceTags> parse_service_tags(const bgp::SourceText& source) {
  auto root = bgp::parse_json(source);
  if (!root) return core::fail(root.error());
  if (!root->is_object() || !root->contains("values") || !(*root)["values"].is_array()) {
    return invalid(source, Pointer(),
                   "expected an Azure Service Tags file: {\"changeNumber\", \"cloud\", "
                   "\"values\": [...]}");
  }
  ServiceTags tags;
  tags.source = source.name;
  tags.cloud = root->value("cloud", "");
  if (root->contains("changeNumber") && (*root)["changeNumber"].is_number_integer()) {
    tags.change_number = (*root)["changeNumber"].get<long>();
  }
  const json& values = (*root)["values"];
  for (std::size_t i = 0; i < values.size(); ++i) {
    const Pointer at = Pointer("/values") / i;
    const json& value = values[i];
    if (!value.is_object() || !value.contains("name") || !value["name"].is_string()) {
      return invalid(source, at, "expected a tag object with a \"name\"");
    }
    if (!value.contains("properties") || !value["properties"].is_object()) {
      return invalid(source, at, "tag without \"properties\"");
    }
    const json& properties = value["properties"];
    ServiceTag tag;
    tag.name = value["name"].get<std::string>();
    tag.region = properties.value("region", "");
    tag.system_service = properties.value("systemService", "");
    if (!properties.contains("addressPrefixes") || !properties["addressPrefixes"].is_array()) {
      return invalid(source, at / "properties", "tag without an \"addressPrefixes\" array");
    }
    const json& prefixes = properties["addressPrefixes"];
    for (std::size_t p = 0; p < prefixes.size(); ++p) {
      const Pointer prefix_at = at / "properties" / "addressPrefixes" / p;
      if (!prefixes[p].is_string()) return invalid(source, prefix_at, "expected a CIDR string");
      auto range = parse_ip_range(prefixes[p].get<std::string>());
      if (!range) return invalid(source, prefix_at, range.error().message);
      tag.prefixes.push_back(*range);
    }
    tags.tags.push_back(std::move(tag));
  }
  return tags;
}

std::vector<NeededTag> needed_tags(const ServiceTags& tags,
                                   const std::vector<std::string>& regions) {
  std::vector<NeededTag> out;
  for (const auto& gateway_tag : tag_map().gateway_tags) {
    if (gateway_tag.regional && !regions.empty()) {
      for (const auto& region : regions) {
        NeededTag needed{gateway_tag.tag, {}, region, gateway_tag.why, gateway_tag.source, nullptr};
        needed.entry = regional_entry(tags, gateway_tag.tag, region);
        needed.name = needed.entry != nullptr ? needed.entry->name
                                              : fmt::format("{}.{}", gateway_tag.tag, region);
        out.push_back(std::move(needed));
      }
      continue;
    }
    NeededTag needed{gateway_tag.tag, gateway_tag.tag,    {},
                     gateway_tag.why, gateway_tag.source, tags.find(gateway_tag.tag)};
    out.push_back(std::move(needed));
  }
  return out;
}

std::optional<HostRanges> ranges_for_host(const ServiceTags& tags, std::string_view host,
                                          const std::vector<std::string>& regions) {
  for (const auto& mapping : tag_map().hosts) {
    if (!host_matches_suffix(host, mapping.suffix)) continue;
    HostRanges out;
    std::vector<std::string> names;
    for (const auto& needed : needed_tags(tags, regions)) {
      if (std::find(mapping.tags.begin(), mapping.tags.end(), needed.base) == mapping.tags.end()) {
        continue;
      }
      if (needed.entry == nullptr) {
        names.push_back(needed.name + " (not in the file)");
        continue;
      }
      names.push_back(needed.entry->name);
      out.ranges.insert(out.ranges.end(), needed.entry->prefixes.begin(),
                        needed.entry->prefixes.end());
    }
    std::string joined;
    for (const auto& n : names) joined += (joined.empty() ? "" : ", ") + n;
    out.origin = fmt::format("service tags {} ({})", joined, mapping.source);
    out.ranges = merge_ranges(std::move(out.ranges));
    return out;
  }
  return std::nullopt;
}

core::Result<std::vector<IpRange>> parse_allowlist(const bgp::SourceText& source) {
  std::vector<IpRange> ranges;
  const std::string& text = source.text;
  std::size_t line_start = 0;
  while (line_start < text.size()) {
    std::size_t line_end = text.find('\n', line_start);
    if (line_end == std::string::npos) line_end = text.size();
    std::string_view line(text.data() + line_start, line_end - line_start);
    if (const auto hash = line.find('#'); hash != std::string_view::npos)
      line = line.substr(0, hash);
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
        auto range = parse_ip_range(line.substr(i, j - i));
        if (!range) {
          return core::fail(
              core::FailureKind::invalid_input,
              fmt::format("{}: {}", bgp::where(source, line_start + i), range.error().message));
        }
        ranges.push_back(*range);
      }
      i = j;
    }
    line_start = line_end + 1;
  }
  return ranges;
}

std::vector<TagCoverage> check_allowlist(const ServiceTags& tags,
                                         const std::vector<std::string>& regions,
                                         const std::vector<IpRange>& allowlist) {
  std::vector<TagCoverage> out;
  const auto covered = merge_ranges(allowlist);
  for (auto& needed : needed_tags(tags, regions)) {
    TagCoverage coverage;
    coverage.tag = needed;
    if (needed.entry != nullptr) {
      coverage.prefixes = needed.entry->prefixes.size();
      for (const auto& range : merge_ranges(needed.entry->prefixes)) {
        for (const auto& gap : subtract_ranges(range, covered)) {
          const auto cidrs = to_cidrs(gap);
          coverage.uncovered.insert(coverage.uncovered.end(), cidrs.begin(), cidrs.end());
        }
      }
    }
    out.push_back(std::move(coverage));
  }
  return out;
}

}  // namespace gwprobe::rules::firewall
