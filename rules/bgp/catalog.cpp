// Loading the ExpressRoute catalog and looking things up in it.
#include "rules/bgp/catalog.hpp"

#include <cctype>
#include <stdexcept>

#include <fmt/format.h>

#include "rules/data/embedded_data.hpp"

namespace gwprobe::rules::bgp {

namespace {

using nlohmann::json;
using Pointer = json::json_pointer;

std::string fold(std::string_view name) {
  std::string out;
  for (const unsigned char c : name) {
    if (std::isalnum(c)) out.push_back(static_cast<char>(std::tolower(c)));
  }
  return out;
}

// Small reader that turns "field missing / wrong type" into one positioned message.
class CatalogReader {
 public:
  CatalogReader(const SourceText& source, const json& root) : source_(source), root_(root) {}

  core::Result<BgpCatalog> read() {
    BgpCatalog catalog;
    if (!root_.is_object()) return error(Pointer(), "expected a JSON object");
    const Pointer sources_at("/sources");
    if (!root_.contains("sources") || !root_["sources"].is_object()) {
      return error(root_.contains("sources") ? sources_at : Pointer(),
                   "expected \"sources\": an object of source id -> document");
    }
    for (const auto& [id, text] : root_["sources"].items()) {
      if (!text.is_string()) return error(sources_at / id, "expected a string");
      catalog.sources[id] = text.get<std::string>();
    }
    if (auto r = read_rule(catalog); !r) return core::fail(r.error());
    if (auto r = read_regions(catalog); !r) return core::fail(r.error());
    if (auto r = read_services(catalog); !r) return core::fail(r.error());
    if (auto r = read_geographies(catalog); !r) return core::fail(r.error());
    if (root_.contains("notes")) {
      for (std::size_t i = 0; i < root_["notes"].size(); ++i) {
        const auto text = string_at(Pointer("/notes") / i, true);
        if (!text) return core::fail(text.error());
        catalog.notes.push_back(*text);
      }
    }
    return catalog;
  }

 private:
  core::Unexpected error(const Pointer& at, std::string_view what) const {
    return core::fail(core::FailureKind::invalid_input,
                      fmt::format("{}: {}", where(source_, at), what));
  }

  core::Result<std::string> string_at(const Pointer& at, bool required) const {
    if (!root_.contains(at)) {
      if (required) return error(at.parent_pointer(), fmt::format("missing \"{}\"", at.back()));
      return std::string();
    }
    const auto& value = root_.at(at);
    if (!value.is_string()) return error(at, "expected a string");
    return value.get<std::string>();
  }

  core::Result<bool> bool_at(const Pointer& at) const {
    if (!root_.contains(at)) return false;
    const auto& value = root_.at(at);
    if (!value.is_boolean()) return error(at, "expected true or false");
    return value.get<bool>();
  }

  core::Result<std::string> source_id_at(const Pointer& at, const BgpCatalog& catalog) const {
    auto id = string_at(at, true);
    if (!id) return id;
    if (*id != "DERIVED" && catalog.sources.count(*id) == 0) {
      return error(at, fmt::format("unknown source id \"{}\" (not in \"sources\")", *id));
    }
    return id;
  }

  core::Result<const json*> array_at(const Pointer& at) const {
    if (!root_.contains(at) || !root_.at(at).is_array()) {
      return error(root_.contains(at) ? at : at.parent_pointer(),
                   fmt::format("expected \"{}\": an array", at.back()));
    }
    return &root_.at(at);
  }

  core::Result<void> read_rule(BgpCatalog& catalog) const {
    auto text = string_at(Pointer("/rule/text"), true);
    if (!text) return core::fail(text.error());
    auto id = source_id_at(Pointer("/rule/source"), catalog);
    if (!id) return core::fail(id.error());
    catalog.rule_text = *text;
    catalog.rule_source = *id;
    if (root_.contains(Pointer("/rule/notes"))) {
      for (std::size_t i = 0; i < root_.at(Pointer("/rule/notes")).size(); ++i) {
        auto note = string_at(Pointer("/rule/notes") / i, true);
        if (!note) return core::fail(note.error());
        catalog.rule_notes.push_back(*note);
      }
    }
    return {};
  }

  core::Result<void> read_regions(BgpCatalog& catalog) const {
    auto list = array_at(Pointer("/regions"));
    if (!list) return core::fail(list.error());
    for (std::size_t i = 0; i < (*list)->size(); ++i) {
      const Pointer at = Pointer("/regions") / i;
      RegionEntry region;
      for (auto [field, out] :
           {std::pair{"name", &region.name}, std::pair{"azure_name", &region.azure_name},
            std::pair{"cloud", &region.cloud}}) {
        auto value = string_at(at / field, true);
        if (!value) return core::fail(value.error());
        *out = *value;
      }
      auto geo = string_at(at / "geopolitical_region", false);
      auto note = string_at(at / "note", false);
      auto name_source = string_at(at / "azure_name_source", false);
      auto id = source_id_at(at / "source", catalog);
      auto unverified = bool_at(at / "unverified");
      for (const auto* r : {&geo, &note, &name_source}) {
        if (!*r) return core::fail(r->error());
      }
      if (!id) return core::fail(id.error());
      if (!unverified) return core::fail(unverified.error());
      region.geopolitical_region = *geo;
      region.note = *note;
      region.azure_name_source = *name_source;
      region.source = *id;
      region.unverified = *unverified;
      const auto& community = root_.at(at).value("community", json());
      if (community.is_string()) {
        auto parsed = parse_community(community.get<std::string>());
        if (!parsed) return error(at / "community", parsed.error().message);
        region.community = *parsed;
      } else if (!community.is_null()) {
        return error(at / "community", "expected \"12076:51xxx\" or null");
      }
      if (!region.community && !region.unverified) {
        return error(at, "a region without a community must be marked \"unverified\": true");
      }
      if (catalog.region_by_azure_name(region.azure_name) != nullptr) {
        return error(at / "azure_name", fmt::format("duplicate region \"{}\"", region.azure_name));
      }
      catalog.regions.push_back(std::move(region));
    }
    return {};
  }

  core::Result<void> read_services(BgpCatalog& catalog) const {
    auto list = array_at(Pointer("/services"));
    if (!list) return core::fail(list.error());
    for (std::size_t i = 0; i < (*list)->size(); ++i) {
      const Pointer at = Pointer("/services") / i;
      ServiceEntry service;
      auto name = string_at(at / "name", true);
      auto cloud = string_at(at / "cloud", true);
      auto community = string_at(at / "community", true);
      auto role = string_at(at / "gateway_role", false);
      for (const auto* r : {&name, &cloud, &community, &role}) {
        if (!*r) return core::fail(r->error());
      }
      auto id = source_id_at(at / "source", catalog);
      if (!id) return core::fail(id.error());
      auto parsed = parse_community(*community);
      if (!parsed) return error(at / "community", parsed.error().message);
      auto authorization = bool_at(at / "needs_authorization");
      auto m365 = bool_at(at / "microsoft_365");
      if (!authorization) return core::fail(authorization.error());
      if (!m365) return core::fail(m365.error());
      service.name = *name;
      service.cloud = *cloud;
      service.community = *parsed;
      service.source = *id;
      service.gateway_role = *role;
      service.needs_authorization = *authorization;
      service.microsoft_365 = *m365;
      catalog.services.push_back(std::move(service));
    }
    return {};
  }

  core::Result<void> read_geographies(BgpCatalog& catalog) const {
    auto list = array_at(Pointer("/geographies"));
    if (!list) return core::fail(list.error());
    for (std::size_t i = 0; i < (*list)->size(); ++i) {
      const Pointer at = Pointer("/geographies") / i;
      GeographyEntry geography;
      auto name = string_at(at / "name", true);
      if (!name) return core::fail(name.error());
      auto id = source_id_at(at / "source", catalog);
      if (!id) return core::fail(id.error());
      geography.name = *name;
      geography.source = *id;
      auto derived = string_at(at / "communities", false);
      if (!derived) return core::fail(derived.error());
      geography.communities_derived = *derived == "DERIVED";
      auto regions = array_at(at / "regions");
      if (!regions) return core::fail(regions.error());
      if ((*regions)->empty()) return error(at / "regions", "expected at least one region");
      for (std::size_t r = 0; r < (*regions)->size(); ++r) {
        auto region = string_at(at / "regions" / r, true);
        if (!region) return core::fail(region.error());
        if (catalog.region_by_azure_name(*region) == nullptr) {
          return error(at / "regions" / r,
                       fmt::format("region \"{}\" is not in \"regions\"", *region));
        }
        geography.regions.push_back(*region);
      }
      if (root_.contains(at / "aliases")) {
        for (std::size_t a = 0; a < root_.at(at / "aliases").size(); ++a) {
          auto alias = string_at(at / "aliases" / a, true);
          if (!alias) return core::fail(alias.error());
          geography.aliases.push_back(*alias);
        }
      }
      for (const auto& label : geography.aliases) {
        if (const auto* other = catalog.find_geography(label)) {
          return error(at / "aliases",
                       fmt::format("alias \"{}\" already names \"{}\"", label, other->name));
        }
      }
      if (catalog.find_geography(geography.name) != nullptr) {
        return error(at / "name", fmt::format("duplicate geography \"{}\"", geography.name));
      }
      catalog.geographies.push_back(std::move(geography));
    }
    return {};
  }

  const SourceText& source_;
  const json& root_;
};

}  // namespace

const RegionEntry* BgpCatalog::region_by_azure_name(std::string_view azure_name) const {
  const std::string wanted = fold(azure_name);
  for (const auto& region : regions) {
    if (region.azure_name == wanted) return &region;
  }
  return nullptr;
}

const RegionEntry* BgpCatalog::region_by_community(Community community) const {
  for (const auto& region : regions) {
    if (region.community == community) return &region;
  }
  return nullptr;
}

const ServiceEntry* BgpCatalog::service_by_community(Community community) const {
  for (const auto& service : services) {
    if (service.community == community) return &service;
  }
  return nullptr;
}

const GeographyEntry* BgpCatalog::find_geography(std::string_view name) const {
  const std::string wanted = fold(name);
  if (wanted.empty()) return nullptr;
  for (const auto& geography : geographies) {
    if (fold(geography.name) == wanted) return &geography;
    for (const auto& alias : geography.aliases) {
      if (fold(alias) == wanted) return &geography;
    }
  }
  return nullptr;
}

std::vector<std::string> BgpCatalog::geography_names() const {
  std::vector<std::string> names;
  for (const auto& geography : geographies) names.push_back(geography.name);
  return names;
}

std::string BgpCatalog::describe_source(std::string_view id) const {
  if (const auto it = sources.find(std::string(id)); it != sources.end()) {
    return fmt::format("{}: {}", id, it->second);
  }
  return std::string(id);
}

core::Result<BgpCatalog> parse_catalog(const SourceText& source) {
  auto root = parse_json(source);
  if (!root) return core::fail(root.error());
  return CatalogReader(source, *root).read();
}

const BgpCatalog& shipped_catalog() {
  static const BgpCatalog catalog = [] {
    auto parsed = parse_catalog(
        SourceText{"rules/data/expressroute.json", std::string(data::expressroute_json)});
    if (!parsed) {
      throw std::logic_error("embedded ExpressRoute data is broken: " + parsed.error().message);
    }
    return std::move(parsed).value();
  }();
  return catalog;
}

}  // namespace gwprobe::rules::bgp
