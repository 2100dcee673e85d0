// JSON report, schema gwprobe.report/v1 (design.md "JSON report"; README "Report formats").
#include <nlohmann/json.hpp>
#include <ostream>
#include <variant>

#include "core/duration.hpp"
#include "reports/escape.hpp"
#include "reports/report_parts.hpp"
#include "reports/writers.hpp"

namespace gwprobe::reports {
namespace {

using Json = nlohmann::ordered_json;  // keys in schema order, as documented

Json fact_json(const core::FactValue& value) {
  struct Visitor {
    Json operator()(const std::string& s) const { return valid_utf8(s); }
    Json operator()(std::int64_t i) const { return i; }
    Json operator()(double d) const { return d; }  // NaN and infinities dump as null
    Json operator()(bool b) const { return b; }
    Json operator()(const std::vector<std::string>& list) const {
      Json array = Json::array();
      for (const auto& item : list) array.push_back(valid_utf8(item));
      return array;
    }
  };
  return std::visit(Visitor{}, value);
}

Json result_json(const core::ProbeResult& r) {
  Json phases = Json::object();
  for (const auto& p : r.phases) phases[valid_utf8(p.name)] = core::to_ms(p.duration);
  Json facts = Json::object();
  for (const auto& f : r.facts) facts[valid_utf8(f.key)] = fact_json(f.value);
  return Json{{"id", valid_utf8(r.id)},
              {"kind", valid_utf8(r.kind)},
              {"target", valid_utf8(r.target)},
              {"endpoint", valid_utf8(r.endpoint)},
              {"required", r.required},
              {"status", core::to_string(r.status)},
              {"diagnosis", core::to_code(r.diagnosis)},
              {"message", valid_utf8(r.message)},
              {"advice", valid_utf8(r.advice)},
              {"duration_ms", core::to_ms(r.duration)},
              {"phases", std::move(phases)},
              {"facts", std::move(facts)}};
}

Json finding_json(const core::Finding& f) {
  Json ids = Json::array();
  for (const auto& id : f.result_ids) ids.push_back(valid_utf8(id));
  return Json{{"diagnosis", core::to_code(f.diagnosis)},
              {"severity", core::to_string(f.severity)},
              {"summary", valid_utf8(f.summary)},
              {"advice", valid_utf8(f.advice)},
              {"result_ids", std::move(ids)}};
}

}  // namespace

void write_json(const core::RunReport& report, std::ostream& out, const WriteOptions& options) {
  const core::Counts counts = counts_of(report);
  Json notes = Json::array();
  for (const auto& n : report.notes) {
    notes.push_back(Json{{"key", valid_utf8(n.key)}, {"value", valid_utf8(n.value)}});
  }
  Json results = Json::array();
  for (const auto& r : report.results) results.push_back(result_json(r));
  Json findings = Json::array();
  for (const auto& f : report.findings) findings.push_back(finding_json(f));

  const Json doc{{"schema", core::RunReport::schema},
                 {"tool_version", valid_utf8(report.tool_version)},
                 {"profile", valid_utf8(report.profile)},
                 {"started_at", rfc3339_utc(report.started_at)},
                 {"duration_ms", core::to_ms(report.duration)},
                 {"verdict", core::to_string(report.verdict)},
                 {"interrupted", report.interrupted},
                 {"counts", Json{{"pass", counts.pass},
                                 {"warn", counts.warn},
                                 {"fail", counts.fail},
                                 {"skip", counts.skip},
                                 {"error", counts.error},
                                 {"total", counts.total()}}},
                 {"notes", std::move(notes)},
                 {"results", std::move(results)},
                 {"findings", std::move(findings)}};
  // Every string went through valid_utf8 already; `replace` keeps dump() from ever throwing.
  out << doc.dump(options.compact ? -1 : 2, ' ', false, Json::error_handler_t::replace) << '\n';
}

}  // namespace gwprobe::reports
