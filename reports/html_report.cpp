// HTML report: one self-contained page (inline CSS and SVG, no script, a CSP that forbids any
// fetch): verdict banner, findings with advice, and per endpoint a status table, a phase
// waterfall on a shared time axis, and the facts behind a <details>.
#include <algorithm>
#include <cmath>
#include <map>
#include <ostream>
#include <set>

#include "core/duration.hpp"
#include "reports/escape.hpp"
#include "reports/report_parts.hpp"
#include "reports/writers.hpp"

namespace gwprobe::reports {
namespace {

using std::chrono::microseconds;

// Waterfall geometry, in SVG user units (the SVG scales to the page width).
constexpr int kSvgWidth = 1040;
constexpr int kLabelWidth = 310;  // check labels, right-aligned against the plot
constexpr int kPlotRight = 960;   // room after the longest bar for its duration text
constexpr int kAxisHeight = 30;
constexpr int kRowHeight = 26;
constexpr int kBarHeight = 14;
constexpr int kBottomPad = 6;
constexpr std::size_t kLabelColumns = 44;  // kind and target, at ~6.7 units per character
constexpr int kMaxTicks = 5;
constexpr microseconds kMinAxis{100};  // an endpoint whose checks took no time still gets an axis

constexpr std::string_view kStyle = R"css(
:root{--ink:#1f2933;--muted:#64748b;--line:#e2e8f0;--card:#fff;--bg:#f1f5f9;
--pass:#15803d;--warn:#b45309;--fail:#b91c1c;--skip:#64748b;--error:#7e22ce}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);
font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","DejaVu Sans",sans-serif}
main{max-width:1120px;margin:0 auto;padding:24px 20px 40px}
code,.mono{font-family:ui-monospace,"SFMono-Regular","Cascadia Mono",Menlo,Consolas,"DejaVu Sans Mono",monospace;font-size:12.5px}
h2{font-size:17px;margin:0 0 12px}
.banner{border-radius:14px;padding:22px 26px;color:#fff;display:flex;flex-wrap:wrap;gap:18px 40px;
justify-content:space-between;align-items:center;box-shadow:0 2px 8px rgba(15,23,42,.15)}
.banner.ready{background:linear-gradient(135deg,#16a34a,#15803d)}
.banner.degraded{background:linear-gradient(135deg,#d97706,#b45309)}
.banner.not_ready{background:linear-gradient(135deg,#dc2626,#991b1b)}
.verdict{font-size:34px;font-weight:800;letter-spacing:.04em;line-height:1.1}
.tally{font-size:15px;opacity:.95;margin-top:6px}
.meta{display:grid;grid-template-columns:auto auto;gap:2px 14px;margin:0;font-size:13px}
.meta dt{opacity:.8}.meta dd{margin:0;font-weight:600}
.card{background:var(--card);border-radius:12px;padding:18px 22px;margin-top:18px;
box-shadow:0 1px 3px rgba(15,23,42,.08)}
.interrupted{background:#fef3c7;color:#78350f;border-radius:10px;padding:10px 16px;margin-top:14px}
.notes dl{display:grid;grid-template-columns:max-content 1fr;gap:4px 18px;margin:0}
.notes dt{color:var(--muted)}.notes dd{margin:0;overflow-wrap:anywhere}
.finding{border-left:4px solid var(--fail);padding:8px 14px;margin:10px 0;background:#fafafa;border-radius:0 8px 8px 0}
.finding.warn{border-color:var(--warn)}.finding.error{border-color:var(--error)}
.finding .code{font-weight:700;margin-right:8px}
.finding.fail .code{color:var(--fail)}.finding.warn .code{color:var(--warn)}.finding.error .code{color:var(--error)}
.advice{margin:6px 0 0;color:#334155}
.advice b{color:var(--ink)}
.refs{margin:4px 0 0;font-size:12.5px;color:var(--muted)}
.refs a{color:inherit}
.endpoint h2{display:flex;justify-content:space-between;align-items:baseline;gap:12px;overflow-wrap:anywhere}
.endpoint h2 small{font-weight:400;font-size:13px;color:var(--muted);white-space:nowrap}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;vertical-align:top;padding:7px 10px;border-bottom:1px solid var(--line)}
th{font-size:12px;text-transform:uppercase;letter-spacing:.05em;color:var(--muted);font-weight:600}
td.num,th.num{text-align:right;white-space:nowrap}
table.checks{table-layout:fixed}
col.status{width:78px}col.kind{width:88px}col.target{width:31%}col.result{width:160px}col.time{width:80px}
td.target,td.msg{overflow-wrap:anywhere}
tr.check:target{background:#fef9c3}
.pill{display:inline-block;min-width:54px;text-align:center;padding:1px 9px;border-radius:999px;
font-size:12px;font-weight:700;white-space:nowrap}
.pill.pass{background:#dcfce7;color:#166534}.pill.warn{background:#fef3c7;color:#92400e}
.pill.fail{background:#fee2e2;color:#991b1b}.pill.skip{background:#e2e8f0;color:#475569}
.pill.error{background:#f3e8ff;color:#6b21a8}
tr.skip td{color:var(--muted)}
.result.fail{color:var(--fail);font-weight:700}.result.warn{color:var(--warn);font-weight:700}
.result.error{color:var(--error);font-weight:700}.result.skip{color:var(--muted)}
.result.pass{color:var(--pass)}
.msg .advice{font-size:13px}
figure{margin:16px 0 0}
svg.waterfall{width:100%;height:auto;display:block}
svg text{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","DejaVu Sans",sans-serif;font-size:12px;fill:#334155}
svg .axis text{fill:#64748b;font-size:11px}
svg .grid{stroke:#e2e8f0;stroke-width:1}
svg .stripe{fill:#f8fafc}
svg .label .kind{font-weight:700}
svg .notrun{fill:#94a3b8;font-style:italic}
.ph-resolve{fill:#0ea5e9;background:#0ea5e9}.ph-connect{fill:#6366f1;background:#6366f1}
.ph-proxy{fill:#a855f7;background:#a855f7}.ph-tls{fill:#f59e0b;background:#f59e0b}
.ph-upgrade{fill:#ec4899;background:#ec4899}.ph-first_byte{fill:#10b981;background:#10b981}
.ph-transfer{fill:#475569;background:#475569}.ph-other{fill:#94a3b8;background:#94a3b8}
.rest-pass{fill:#cbd5e1;background:#cbd5e1}.rest-warn{fill:#fcd34d;background:#fcd34d}
.rest-fail{fill:#fca5a5;background:#fca5a5}.rest-error{fill:#d8b4fe;background:#d8b4fe}
.rest-skip{fill:#e2e8f0;background:#e2e8f0}
figcaption{display:flex;flex-wrap:wrap;gap:4px 16px;font-size:12px;color:var(--muted);margin-top:6px;padding-left:8px}
figcaption span{display:inline-flex;align-items:center;gap:6px}
figcaption i{display:inline-block;width:12px;height:10px;border-radius:2px}
details{margin-top:14px}
summary{cursor:pointer;color:var(--muted);font-weight:600}
details table{margin-top:8px}
details td{font-size:13px}
details td.value{overflow-wrap:anywhere}
footer{margin-top:22px;color:var(--muted);font-size:12px;text-align:center}
@media print{body{background:#fff}.banner,.pill,svg{-webkit-print-color-adjust:exact;print-color-adjust:exact}}
)css";

std::string_view phase_label(std::string_view name) {
  if (name == core::phase::resolve) return "DNS";
  if (name == core::phase::connect) return "TCP connect";
  if (name == core::phase::proxy) return "proxy CONNECT";
  if (name == core::phase::tls) return "TLS";
  if (name == core::phase::upgrade) return "WebSocket upgrade";
  if (name == core::phase::first_byte) return "first byte";
  if (name == core::phase::transfer) return "transfer";
  return "";
}

/// CSS class of a phase bar: one per standard phase; anything else shares "ph-other". Never
/// built from report text.
std::string phase_class(std::string_view name) {
  const auto label = phase_label(name);
  return label.empty() ? "ph-other" : "ph-" + std::string(name);
}

std::string_view status_word(core::Status s) {
  return core::to_string(s);
}

/// A "nice" axis step: the smallest one that covers `longest` in at most kMaxTicks steps. Below
/// 10 s steps go 1-2-5; above, they are whole seconds and minutes people count in.
microseconds axis_step(microseconds longest) {
  using std::chrono::seconds;
  const auto target = std::max(longest, kMinAxis) / kMaxTicks;
  if (target <= seconds(2)) {
    double magnitude = std::pow(10.0, std::floor(std::log10(static_cast<double>(target.count()))));
    for (;;) {
      for (const double m : {1.0, 2.0, 5.0}) {
        if (m * magnitude >= static_cast<double>(target.count())) {
          return microseconds(static_cast<long long>(m * magnitude));
        }
      }
      magnitude *= 10;
    }
  }
  for (const long long s : {5LL, 10LL, 15LL, 30LL, 60LL, 120LL, 300LL, 600LL, 900LL, 1800LL}) {
    if (seconds(s) >= target) return seconds(s);
  }
  const auto hours = std::chrono::ceil<std::chrono::hours>(target);
  return hours;
}

/// Tick labels: "0", "250 µs", "20 ms", "1.5 s", "45 s", "4 min", "2 min 30 s".
std::string axis_label(microseconds t) {
  if (t.count() == 0) return "0";
  const double us = static_cast<double>(t.count());
  char buf[48];
  if (us < 1e3) {
    std::snprintf(buf, sizeof buf, "%.0f µs", us);
  } else if (us < 1e6) {
    std::snprintf(buf, sizeof buf, "%g ms", us / 1e3);
  } else if (us < 60e6) {
    std::snprintf(buf, sizeof buf, "%g s", us / 1e6);
  } else {
    const long long total_s = t.count() / 1'000'000;
    if (total_s % 60 == 0) {
      std::snprintf(buf, sizeof buf, "%lld min", total_s / 60);
    } else {
      std::snprintf(buf, sizeof buf, "%lld min %lld s", total_s / 60, total_s % 60);
    }
  }
  return buf;
}

std::string fixed(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

void write_waterfall(std::ostream& out, const EndpointGroup& group) {
  microseconds longest{0};
  for (const auto* r : group.results) {
    microseconds sum{0};
    for (const auto& p : r->phases) sum += p.duration;
    longest = std::max({longest, r->duration, sum});
  }
  const microseconds step = axis_step(longest);
  const long long steps = std::max<long long>(
      1, (std::max(longest, kMinAxis).count() + step.count() - 1) / step.count());
  const double axis = static_cast<double>(step.count() * steps);
  const double plot = kPlotRight - kLabelWidth;
  auto x_of = [&](microseconds t) {
    return kLabelWidth + plot * static_cast<double>(t.count()) / axis;
  };

  const int rows = static_cast<int>(group.results.size());
  const int height = kAxisHeight + rows * kRowHeight + kBottomPad;
  out << "<figure><svg class=\"waterfall\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 "
      << kSvgWidth << ' ' << height << "\" role=\"img\" aria-label=\"Phase timings for "
      << html_escape(group_title(group)) << "\">\n";
  for (int i = 0; i < rows; i += 2) {
    out << "<rect class=\"stripe\" x=\"0\" y=\"" << kAxisHeight + i * kRowHeight << "\" width=\""
        << kSvgWidth << "\" height=\"" << kRowHeight << "\"/>\n";
  }
  out << "<g class=\"axis\">";
  for (long long k = 0; k <= steps; ++k) {
    const microseconds t = step * k;
    const std::string x = fixed(x_of(t));
    out << "<line class=\"grid\" x1=\"" << x << "\" y1=\"" << kAxisHeight - 6 << "\" x2=\"" << x
        << "\" y2=\"" << height - kBottomPad << "\"/><text x=\"" << x << "\" y=\""
        << kAxisHeight - 12 << "\" text-anchor=\"middle\">" << html_escape(axis_label(t))
        << "</text>";
  }
  out << "</g>\n";

  int row = 0;
  std::set<std::string> used;      // phases drawn, "" for non-standard ones
  std::set<core::Status> waiting;  // statuses of the bars drawn for time no phase accounts for
  for (const auto* r : group.results) {
    const int y = kAxisHeight + row * kRowHeight;
    const int bar_y = y + (kRowHeight - kBarHeight) / 2;
    const int text_y = y + kRowHeight / 2 + 4;
    const std::string kind = plain_text(r->kind);
    const std::size_t kind_width = std::min(display_width(kind), kLabelColumns / 2);
    const std::string label =
        truncate_middle(plain_text(r->target), kLabelColumns - kind_width - 1);
    out << "<g class=\"row " << status_word(r->status) << "\"><title>"
        << html_escape(check_name(*r) + " — " + std::string(core::to_code(r->diagnosis)) + ", " +
                       core::format_duration(r->duration))
        << "</title>";
    out << "<text class=\"label\" x=\"" << kLabelWidth - 10 << "\" y=\"" << text_y
        << "\" text-anchor=\"end\"><tspan class=\"kind\">"
        << html_escape(truncate_to_width(kind, kind_width)) << "</tspan> " << html_escape(label)
        << "</text>";
    const bool ran = r->status != core::Status::skip || r->duration.count() > 0;
    if (!ran) {
      out << "<text class=\"notrun\" x=\"" << kLabelWidth + 6 << "\" y=\"" << text_y
          << "\">not run</text></g>\n";
      ++row;
      continue;
    }
    microseconds at{0};
    for (const auto& p : phases_in_order(*r)) {
      const double x0 = x_of(at), x1 = x_of(at + p.duration);
      used.insert(phase_label(p.name).empty() ? std::string() : p.name);
      out << "<rect class=\"" << phase_class(p.name) << "\" x=\"" << fixed(x0) << "\" y=\"" << bar_y
          << "\" width=\"" << fixed(std::max(1.0, x1 - x0)) << "\" height=\"" << kBarHeight
          << "\" rx=\"2\"><title>" << html_escape(p.name) << ": "
          << html_escape(core::format_duration(p.duration)) << "</title></rect>";
      at += p.duration;
    }
    if (r->duration > at) {
      // Time no phase accounts for: typically waiting for an answer that never came.
      waiting.insert(r->status);
      const double x0 = x_of(at), x1 = x_of(r->duration);
      out << "<rect class=\"rest-" << status_word(r->status) << "\" x=\"" << fixed(x0) << "\" y=\""
          << bar_y << "\" width=\"" << fixed(std::max(1.0, x1 - x0)) << "\" height=\"" << kBarHeight
          << "\" rx=\"2\"><title>" << (at.count() == 0 ? "total" : "unaccounted") << ": "
          << html_escape(core::format_duration(r->duration - at)) << "</title></rect>";
      at = r->duration;
    }
    out << "<text x=\"" << fixed(x_of(at) + 6) << "\" y=\"" << text_y << "\">"
        << html_escape(core::format_duration(r->duration)) << "</text></g>\n";
    ++row;
  }
  out << "</svg>\n<figcaption>";
  // The legend names only what this chart shows.
  for (const auto name :
       {core::phase::resolve, core::phase::connect, core::phase::proxy, core::phase::tls,
        core::phase::upgrade, core::phase::first_byte, core::phase::transfer}) {
    if (!used.contains(std::string(name))) continue;
    out << "<span><i class=\"ph-" << name << "\"></i>" << phase_label(name) << "</span>";
  }
  if (used.contains("")) out << "<span><i class=\"ph-other\"></i>other phases</span>";
  if (!waiting.empty()) {
    out << "<span>";
    for (const auto st : waiting) out << "<i class=\"rest-" << status_word(st) << "\"></i>";
    out << "no phase recorded (waiting; coloured by result)</span>";
  }
  out << "</figcaption></figure>\n";
}

void write_banner(std::ostream& out, const core::RunReport& report) {
  out << "<header class=\"banner " << core::to_string(report.verdict) << "\">\n<div>"
      << "<div class=\"verdict\">" << verdict_label(report.verdict) << "</div>"
      << "<div class=\"tally\">" << html_escape(counts_summary(counts_of(report))) << "</div>"
      << "</div>\n<dl class=\"meta\">";
  std::string profile = report.profile;
  if (!report.profile_source.empty()) profile += " (" + report.profile_source + ")";
  const std::pair<std::string, std::string> rows[] = {{"Profile", profile},
                                                      {"Started", human_utc(report.started_at)},
                                                      {"Duration", run_size_summary(report)},
                                                      {"gwprobe", report.tool_version}};
  for (const auto& [k, v] : rows) out << "<dt>" << k << "</dt><dd>" << html_escape(v) << "</dd>";
  out << "</dl>\n</header>\n";
  if (report.interrupted) {
    out << "<p class=\"interrupted\"><b>Interrupted:</b> the run was cut short (Ctrl-C or the "
           "overall deadline); the results are partial.</p>\n";
  }
}

void write_findings(std::ostream& out, const core::RunReport& report,
                    const std::map<std::string, std::size_t>& anchors) {
  if (report.findings.empty()) return;
  out << "<section class=\"card findings\">\n<h2>Findings</h2>\n";
  for (const auto& f : report.findings) {
    out << "<div class=\"finding " << status_word(f.severity)
        << "\"><div><span class=\"code mono\">" << core::to_code(f.diagnosis) << "</span>"
        << html_escape(f.summary) << "</div>";
    if (!f.advice.empty()) {
      out << "<p class=\"advice\"><b>What to change:</b> " << html_escape(f.advice) << "</p>";
    }
    if (!f.result_ids.empty()) {
      out << "<p class=\"refs\">Checks:";
      for (const auto& id : f.result_ids) {
        const auto it = anchors.find(id);
        if (it == anchors.end()) {
          out << " <code>" << html_escape(id) << "</code>";
        } else {
          out << " <a href=\"#check-" << it->second << "\"><code>" << html_escape(id)
              << "</code></a>";
        }
      }
      out << "</p>";
    }
    out << "</div>\n";
  }
  out << "</section>\n";
}

void write_notes(std::ostream& out, const core::RunReport& report) {
  if (report.notes.empty()) return;
  out << "<section class=\"card notes\">\n<h2>Context</h2>\n<dl>";
  for (const auto& n : report.notes) {
    out << "<dt>" << html_escape(n.key) << "</dt><dd>" << html_escape(n.value) << "</dd>";
  }
  out << "</dl>\n</section>\n";
}

void write_facts(std::ostream& out, const EndpointGroup& group) {
  std::size_t count = 0;
  for (const auto* r : group.results) count += r->facts.size();
  if (count == 0) return;
  out << "<details class=\"facts\"><summary>Facts (" << count << ")</summary>\n"
      << "<table><thead><tr><th>Check</th><th>Fact</th><th>Value</th></tr></thead><tbody>\n";
  for (const auto* r : group.results) {
    for (const auto& f : r->facts) {
      out << "<tr><td><code>" << html_escape(check_name(*r)) << "</code></td><td><code>"
          << html_escape(f.key) << "</code></td><td class=\"value\">";
      if (const auto* list = std::get_if<std::vector<std::string>>(&f.value)) {
        bool first = true;
        for (const auto& item : *list) {
          out << (first ? "" : "<br>") << "<code>" << html_escape(item) << "</code>";
          first = false;
        }
      } else {
        out << "<code>" << html_escape(core::to_text(f.value)) << "</code>";
      }
      out << "</td></tr>\n";
    }
  }
  out << "</tbody></table></details>\n";
}

void write_endpoint(std::ostream& out, const EndpointGroup& group,
                    const std::map<const core::ProbeResult*, std::size_t>& index) {
  out << "<section class=\"card endpoint\">\n<h2><span>" << html_escape(group_title(group))
      << "</span><small>" << html_escape(counts_summary(counts_of(group))) << "</small></h2>\n";
  out << "<table class=\"checks\"><colgroup><col class=\"status\"><col class=\"kind\">"
         "<col class=\"target\"><col class=\"result\"><col class=\"time\"><col class=\"msg\">"
         "</colgroup><thead><tr><th>Status</th><th>Check</th><th>Target</th>"
         "<th>Result</th><th class=\"num\">Time</th><th>Message</th></tr></thead><tbody>\n";
  for (const auto* r : group.results) {
    const auto status = status_word(r->status);
    const bool ran = r->status != core::Status::skip || r->duration.count() > 0;
    out << "<tr class=\"check " << status << "\" id=\"check-" << index.at(r) << "\" data-status=\""
        << status << "\"><td><span class=\"pill " << status << "\">" << status << "</span></td><td>"
        << html_escape(r->kind) << "</td><td class=\"target\"><code>" << html_escape(r->target)
        << "</code></td><td><span class=\"result mono " << status << "\">"
        << core::to_code(r->diagnosis) << "</span>"
        << (r->required ? "" : "<br><small>optional</small>") << "</td><td class=\"num\">"
        << (ran ? html_escape(core::format_duration(r->duration)) : "") << "</td><td class=\"msg\">"
        << html_escape(r->message);
    if (r->status != core::Status::pass && r->status != core::Status::skip && !r->advice.empty()) {
      out << "<p class=\"advice\"><b>→</b> " << html_escape(r->advice) << "</p>";
    }
    out << "</td></tr>\n";
  }
  out << "</tbody></table>\n";
  write_waterfall(out, group);
  write_facts(out, group);
  out << "</section>\n";
}

}  // namespace

void write_html(const core::RunReport& report, std::ostream& out) {
  std::map<const core::ProbeResult*, std::size_t> index;
  std::map<std::string, std::size_t> anchors;
  for (std::size_t i = 0; i < report.results.size(); ++i) {
    index[&report.results[i]] = i;
    anchors.emplace(report.results[i].id, i);
  }
  out << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
         // Belt and braces: even if something slipped through escaping, nothing loads or runs.
         "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
         "style-src 'unsafe-inline'; img-src data:\">\n"
      << "<meta name=\"generator\" content=\"gwprobe " << html_escape(report.tool_version)
      << "\">\n<title>gwprobe: " << verdict_label(report.verdict) << " · "
      << html_escape(report.profile) << "</title>\n<style>" << kStyle << "</style>\n</head>\n"
      << "<body>\n<main>\n";
  write_banner(out, report);
  write_findings(out, report, anchors);
  if (report.results.empty())
    out << "<section class=\"card\"><p>No checks were run.</p></section>\n";
  for (const auto& group : group_by_endpoint(report.results)) write_endpoint(out, group, index);
  write_notes(out, report);
  out << "<footer>gwprobe " << html_escape(report.tool_version) << " · " << core::RunReport::schema
      << " · " << html_escape(rfc3339_utc(report.started_at))
      << "</footer>\n</main>\n</body>\n</html>\n";
}

}  // namespace gwprobe::reports
