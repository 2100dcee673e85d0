// Renderings of firewall checks and allowlist coverage.
#include "rules/firewall/firewall_format.hpp"

#include <fmt/format.h>

namespace gwprobe::rules::firewall {

namespace {

using json = nlohmann::ordered_json;

// Text output stays readable; JSON has every uncovered prefix.
constexpr std::size_t kMaxTextPrefixes = 20;

std::string path_text(const FirewallCheckOptions& o) {
  const std::string oif = o.oif.empty() ? "unknown" : o.oif;
  if (o.path == Path::forward) {
    return fmt::format("forward (a router in front of the gateway; iif {}, oif {})",
                       o.iif.empty() ? "unknown" : o.iif, oif);
  }
  return fmt::format("output (the gateway host's own connections; oif {})", oif);
}

std::string word_for(const core::ProbeResult& r) {
  const std::string verdict = r.fact_text("verdict");
  if (verdict == "accept") return "ACCEPT";
  if (verdict == "drop") return "DROP";
  if (verdict == "reject") return "REJECT";
  return "UNKNOWN";
}

json result_to_json(const core::ProbeResult& r) {
  json out = {{"id", r.id},
              {"target", r.target},
              {"endpoint", r.endpoint},
              {"required", r.required},
              {"status", std::string(core::to_string(r.status))},
              {"diagnosis", std::string(core::to_code(r.diagnosis))},
              {"message", r.message},
              {"advice", r.advice},
              {"facts", json::object()}};
  for (const auto& fact : r.facts) {
    std::visit([&](const auto& value) { out["facts"][fact.key] = value; }, fact.value);
  }
  return out;
}

json verdict_to_json(const Verdict& v) {
  json out = {{"verdict", std::string(to_string(v.kind))}};
  if (!v.reject_type.empty()) out["reject_type"] = v.reject_type;
  if (v.on_reply_path) out["on_reply_path"] = true;
  if (v.kind == VerdictKind::unknown) out["unknown_because"] = v.unknown_because;
  json rules = json::array();
  for (const auto& rule : v.decided_by) {
    rules.push_back({{"location", rule.location}, {"rule", rule.text}});
  }
  out["decided_by"] = rules;
  if (!v.notes.empty()) out["notes"] = v.notes;
  return out;
}

}  // namespace

int FirewallReport::required_blocked() const {
  int n = 0;
  for (const auto& r : results) n += r.status == core::Status::fail ? 1 : 0;
  return n;
}

int FirewallReport::warnings() const {
  int n = 0;
  for (const auto& r : results) n += r.status == core::Status::warn ? 1 : 0;
  return n;
}

std::string format_firewall_text(const FirewallReport& report) {
  std::string out;
  out += fmt::format("Ruleset: {} ({})\n", report.ruleset_source, report.ruleset_format);
  out += fmt::format("Path: {}\n", path_text(report.options));
  out += fmt::format("Destinations: {}\n\n", report.destinations_from);
  for (const auto& r : report.results) {
    const std::string word = word_for(r);
    const bool named = !r.endpoint.empty() && r.target.rfind(r.endpoint + ":", 0) != 0 &&
                       r.target.rfind("[" + r.endpoint + "]:", 0) != 0;
    std::string line = fmt::format("  {:<8} {:<36} {}", word, r.target, named ? r.endpoint : "");
    if (!r.required) line += " (optional)";
    if (r.diagnosis != core::Diagnosis::ok) line += fmt::format("  {}", core::to_code(r.diagnosis));
    out += line + "\n";
    out += fmt::format("           {}\n", r.message);
    if (const auto tcp = r.fact_text("expected_tcp"); !tcp.empty() && tcp != "OK") {
      out += fmt::format("           a connection would see {}\n", tcp);
    }
    if (const auto origin = r.fact_text("address_origin"); !origin.empty() && origin != "literal") {
      out += fmt::format("           addresses: {}\n", origin);
    }
    if (!r.advice.empty() && r.status != core::Status::pass) {
      out += fmt::format("           advice: {}\n", r.advice);
    }
  }
  if (!report.notes.empty()) {
    out += "\nNotes:\n";
    for (const auto& note : report.notes) out += fmt::format("  - {}\n", note);
  }
  const int blocked = report.required_blocked();
  const int warnings = report.warnings();
  if (blocked > 0) {
    out += fmt::format(
        "\nResult: {} required destination port{} blocked{}\n", blocked, blocked == 1 ? "" : "s",
        warnings > 0 ? fmt::format(", {} warning{}", warnings, warnings == 1 ? "" : "s")
                     : std::string());
  } else if (warnings > 0) {
    out += fmt::format(
        "\nResult: no required destination blocked; {} warning{} (unknown "
        "verdicts or optional ports)\n",
        warnings, warnings == 1 ? "" : "s");
  } else {
    out += "\nResult: every destination port accepted\n";
  }
  return out;
}

json firewall_to_json(const FirewallReport& report) {
  json out = {{"schema", "gwprobe.firewall/v1"},
              {"ruleset", {{"source", report.ruleset_source}, {"format", report.ruleset_format}}},
              {"path",
               {{"hooks", report.options.path == Path::forward ? "forward" : "output"},
                {"oif", report.options.oif},
                {"iif", report.options.iif},
                {"check_replies", report.options.check_replies}}},
              {"destinations_from", report.destinations_from},
              {"verdict", report.required_blocked() > 0 ? "blocked"
                          : report.warnings() > 0       ? "warnings"
                                                        : "accepted"},
              {"results", json::array()},
              {"destinations", json::array()},
              {"notes", report.notes}};
  for (const auto& r : report.results) out["results"].push_back(result_to_json(r));
  for (const auto& dv : report.verdicts) {
    json d = {{"name", dv.destination.name},         {"host", dv.destination.host},
              {"required", dv.destination.required}, {"address_origin", dv.address_origin},
              {"addresses", json::array()},          {"ports", json::array()}};
    if (!dv.unresolved_because.empty()) d["unresolved_because"] = dv.unresolved_because;
    for (const auto& a : dv.addresses) d["addresses"].push_back(a.to_string());
    for (const auto& pv : dv.ports) {
      json p = {
          {"port", pv.port}, {"verdict", verdict_to_json(pv.verdict)}, {"ranges", json::array()}};
      for (const auto& rv : pv.ranges) {
        json range = verdict_to_json(rv.verdict);
        range["range"] = rv.range.to_string();
        p["ranges"].push_back(std::move(range));
      }
      d["ports"].push_back(std::move(p));
    }
    out["destinations"].push_back(std::move(d));
  }
  return out;
}

bool AllowlistReport::any_uncovered() const {
  for (const auto& c : coverage) {
    if (c.tag.entry == nullptr || !c.uncovered.empty()) return true;
  }
  return false;
}

std::string format_allowlist_text(const AllowlistReport& report) {
  std::string out;
  out += fmt::format("Allowlist: {}\n", report.allowlist_source);
  out += fmt::format("Service tags: {} (changeNumber {})\n", report.service_tags_source,
                     report.change_number);
  out += fmt::format("Regions: {}\n\n", report.regions.empty()
                                            ? std::string("none given (global tags)")
                                            : fmt::format("{}", fmt::join(report.regions, ", ")));
  int gaps = 0;
  for (const auto& c : report.coverage) {
    if (c.tag.entry == nullptr) {
      ++gaps;
      out += fmt::format("  MISSING  {:<28} not in the service tags file\n", c.tag.name);
      continue;
    }
    if (c.uncovered.empty()) {
      out += fmt::format("  OK       {:<28} all {} prefixes covered\n", c.tag.name, c.prefixes);
      continue;
    }
    ++gaps;
    out += fmt::format("  GAPS     {:<28} {} uncovered block{} (of {} prefixes):\n", c.tag.name,
                       c.uncovered.size(), c.uncovered.size() == 1 ? "" : "s", c.prefixes);
    for (std::size_t i = 0; i < c.uncovered.size() && i < kMaxTextPrefixes; ++i) {
      out += fmt::format("             {}\n", c.uncovered[i]);
    }
    if (c.uncovered.size() > kMaxTextPrefixes) {
      out += fmt::format("             ... and {} more (--format json lists all)\n",
                         c.uncovered.size() - kMaxTextPrefixes);
    }
    out += fmt::format("           why the gateway needs it: {} ({})\n", c.tag.why, c.tag.source);
  }
  out += gaps > 0
             ? fmt::format("\nResult: {} tag{} not fully covered\n", gaps, gaps == 1 ? "" : "s")
             : "\nResult: the allowlist covers every tag the gateway needs\n";
  return out;
}

json allowlist_to_json(const AllowlistReport& report) {
  json out = {{"schema", "gwprobe.allowlist/v1"},
              {"allowlist", report.allowlist_source},
              {"service_tags",
               {{"source", report.service_tags_source}, {"change_number", report.change_number}}},
              {"regions", report.regions},
              {"verdict", report.any_uncovered() ? "gaps" : "covered"},
              {"tags", json::array()}};
  for (const auto& c : report.coverage) {
    out["tags"].push_back({{"tag", c.tag.name},
                           {"base", c.tag.base},
                           {"region", c.tag.region},
                           {"in_file", c.tag.entry != nullptr},
                           {"prefixes", c.prefixes},
                           {"uncovered", c.uncovered},
                           {"why", c.tag.why},
                           {"source", c.tag.source}});
  }
  return out;
}

}  // namespace gwprobe::rules::firewall
