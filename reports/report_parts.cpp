// Shared wording and grouping for the report writers.
#include "reports/report_parts.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdio>
#include <ctime>
#include <iterator>
#include <variant>

#include "core/duration.hpp"

namespace gwprobe::reports {

std::vector<EndpointGroup> group_by_endpoint(const std::vector<core::ProbeResult>& results) {
  std::vector<EndpointGroup> groups;
  for (const auto& r : results) {
    auto it = std::find_if(groups.begin(), groups.end(),
                           [&](const EndpointGroup& g) { return g.name == r.endpoint; });
    if (it == groups.end()) {
      groups.push_back(EndpointGroup{r.endpoint, {}});
      it = std::prev(groups.end());
    }
    it->results.push_back(&r);
  }
  return groups;
}

std::string group_title(const EndpointGroup& group) {
  return group.name.empty() ? std::string("other checks") : group.name;
}

std::string_view verdict_label(core::Verdict verdict) noexcept {
  switch (verdict) {
    case core::Verdict::ready:
      return "READY";
    case core::Verdict::degraded:
      return "DEGRADED";
    case core::Verdict::not_ready:
      return "NOT READY";
  }
  return "NOT READY";
}

std::string counts_summary(const core::Counts& counts, std::string_view separator) {
  std::string out;
  auto add = [&](int n, const char* one, const char* many) {
    if (n == 0) return;
    if (!out.empty()) out += separator;
    out += std::to_string(n);
    out += ' ';
    out += n == 1 ? one : many;
  };
  add(counts.fail, "failed", "failed");
  add(counts.warn, "warning", "warnings");
  add(counts.error, "error", "errors");
  add(counts.pass, "passed", "passed");
  add(counts.skip, "skipped", "skipped");
  return out.empty() ? std::string("no checks") : out;
}

std::string run_size_summary(const core::RunReport& report) {
  const auto n = report.results.size();
  return std::to_string(n) + (n == 1 ? " check in " : " checks in ") +
         core::format_duration(report.duration);
}

std::string check_name(const core::ProbeResult& result) {
  if (!result.id.empty()) return result.id;
  return result.kind + ":" + result.target;
}

namespace {
std::tm utc_tm(std::chrono::system_clock::time_point when, int& millis) {
  const auto ms = std::chrono::floor<std::chrono::milliseconds>(when.time_since_epoch());
  const auto secs = std::chrono::floor<std::chrono::seconds>(ms);
  millis = static_cast<int>((ms - secs).count());
  const std::time_t t = static_cast<std::time_t>(secs.count());
  std::tm tm{};
  gmtime_r(&t, &tm);
  return tm;
}
}  // namespace

std::string rfc3339_utc(std::chrono::system_clock::time_point when) {
  int millis = 0;
  const std::tm tm = utc_tm(when, millis);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
  return buf;
}

std::string human_utc(std::chrono::system_clock::time_point when) {
  int millis = 0;
  const std::tm tm = utc_tm(when, millis);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d UTC", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

std::optional<double> fact_number(const core::ProbeResult& result, std::string_view key) {
  const core::FactValue* value = result.fact(key);
  if (value == nullptr) return std::nullopt;
  if (const auto* i = std::get_if<std::int64_t>(value)) return static_cast<double>(*i);
  if (const auto* d = std::get_if<double>(value)) return *d;
  if (const auto* s = std::get_if<std::string>(value)) {
    double parsed = 0;
    const char* end = s->data() + s->size();
    const auto [ptr, ec] = std::from_chars(s->data(), end, parsed, std::chars_format::fixed);
    if (ec == std::errc() && ptr == end && !s->empty()) return parsed;
  }
  return std::nullopt;
}

std::vector<core::Phase> phases_in_order(const core::ProbeResult& result) {
  static constexpr std::array kOrder = {
      core::phase::resolve, core::phase::connect,    core::phase::proxy,   core::phase::tls,
      core::phase::upgrade, core::phase::first_byte, core::phase::transfer};
  std::vector<core::Phase> out;
  for (const auto name : kOrder) {
    for (const auto& p : result.phases) {
      if (p.name == name) out.push_back(p);
    }
  }
  for (const auto& p : result.phases) {
    if (std::find(kOrder.begin(), kOrder.end(), p.name) == kOrder.end()) out.push_back(p);
  }
  return out;
}

core::Counts counts_of(const core::RunReport& report) {
  return core::count_results(report.results);
}

core::Counts counts_of(const EndpointGroup& group) {
  core::Counts c;
  for (const auto* r : group.results) {
    switch (r->status) {
      case core::Status::pass:
        ++c.pass;
        break;
      case core::Status::warn:
        ++c.warn;
        break;
      case core::Status::fail:
        ++c.fail;
        break;
      case core::Status::skip:
        ++c.skip;
        break;
      case core::Status::error:
        ++c.error;
        break;
    }
  }
  return c;
}

std::string seconds_text(std::chrono::microseconds d, int decimals) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, static_cast<double>(d.count()) / 1e6);
  return buf;
}

}  // namespace gwprobe::reports
