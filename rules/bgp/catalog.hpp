// The ExpressRoute facts gwprobe ships (rules/data/expressroute.json): regional and service
// communities, Power Platform geographies and their region pairs, each with its source.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "rules/bgp/community.hpp"
#include "rules/bgp/source_text.hpp"

namespace gwprobe::rules::bgp {

/// An Azure region and its Microsoft-peering regional community (12076:51xxx).
struct RegionEntry {
  std::string name;                    ///< "West Europe" (S7's spelling)
  std::string azure_name;              ///< "westeurope" (programmatic name)
  std::string azure_name_source;       ///< "S9", or "DERIVED" (display name folded)
  std::string cloud;                   ///< public | usgov | china
  std::string geopolitical_region;     ///< "Europe" (S7's grouping), may be empty
  std::optional<Community> community;  ///< empty when unverified
  std::string source;                  ///< "S7"
  bool unverified = false;             ///< no source confirmed the community: never treat as fact
  std::string note;
};

/// A service community (four-digit 12076:5xxx, Microsoft peering only).
struct ServiceEntry {
  std::string name;
  std::string cloud;
  Community community;
  std::string source;
  bool needs_authorization = false;  ///< Microsoft must authorize it for the route filter
  bool microsoft_365 = false;
  std::string gateway_role;  ///< why a gateway needs it; empty when it usually does not
};

/// A Power Platform geography and the Azure regions its environments are paired across.
struct GeographyEntry {
  std::string name;                  ///< "Europe"
  std::vector<std::string> aliases;  ///< "EU"
  std::vector<std::string> regions;  ///< azure names, S9's order
  std::string source;                ///< "S9"
  bool communities_derived = true;   ///< the region -> community join is DERIVED (S9 + S7)
};

struct BgpCatalog {
  std::map<std::string, std::string> sources;  ///< "S7" -> document
  std::string rule_text;                       ///< the ExpressRoute rule, quoted
  std::string rule_source;                     ///< "S8"
  std::vector<std::string> rule_notes;
  std::vector<RegionEntry> regions;
  std::vector<ServiceEntry> services;
  std::vector<GeographyEntry> geographies;
  std::vector<std::string> notes;

  const RegionEntry* region_by_azure_name(std::string_view azure_name) const;
  /// The region whose regional community this is (any cloud), or nullptr.
  const RegionEntry* region_by_community(Community community) const;
  const ServiceEntry* service_by_community(Community community) const;
  /// Case-insensitive, ignoring spaces and punctuation, names and aliases ("us", "United
  /// States", "UNITED-STATES"); nullptr when unknown.
  const GeographyEntry* find_geography(std::string_view name) const;
  /// Every geography name, in data order (for BGP_UNKNOWN_GEOGRAPHY's list).
  std::vector<std::string> geography_names() const;
  /// "S7: MicrosoftDocs/azure-docs ..." or the id alone when unknown.
  std::string describe_source(std::string_view id) const;
};

/// Parses and checks catalog JSON: every region, service and geography must be complete, every
/// community valid, every source id known, every geography region defined.
core::Result<BgpCatalog> parse_catalog(const SourceText& source);

/// The catalog compiled into the binary, parsed on first use. The data is tested at build time;
/// a broken embedded file is a bug and throws std::logic_error.
const BgpCatalog& shipped_catalog();

}  // namespace gwprobe::rules::bgp
