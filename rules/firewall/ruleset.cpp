// Ruleset lookups and hook names.
#include "rules/firewall/ruleset.hpp"

namespace gwprobe::rules::firewall {

const Chain* Ruleset::find_chain(const std::string& family, const std::string& table,
                                 const std::string& name) const {
  for (const auto& chain : chains) {
    if (chain.family == family && chain.table == table && chain.name == name) return &chain;
  }
  return nullptr;
}

const NamedSet* Ruleset::find_set(const std::string& family, const std::string& table,
                                  const std::string& name) const {
  for (const auto& set : sets) {
    if (set.family == family && set.table == table && set.name == name) return &set;
  }
  return nullptr;
}

std::optional<Hook> parse_hook(std::string_view name) {
  if (name == "prerouting") return Hook::prerouting;
  if (name == "input") return Hook::input;
  if (name == "forward") return Hook::forward;
  if (name == "output") return Hook::output;
  if (name == "postrouting") return Hook::postrouting;
  if (name == "ingress") return Hook::ingress;
  if (name == "egress") return Hook::egress;
  return std::nullopt;
}

std::string_view to_string(Hook hook) noexcept {
  switch (hook) {
    case Hook::prerouting:
      return "prerouting";
    case Hook::input:
      return "input";
    case Hook::forward:
      return "forward";
    case Hook::output:
      return "output";
    case Hook::postrouting:
      return "postrouting";
    case Hook::ingress:
      return "ingress";
    case Hook::egress:
      return "egress";
  }
  return "?";
}

}  // namespace gwprobe::rules::firewall
