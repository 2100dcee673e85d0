// Text report: verdict first, then checks grouped by endpoint, findings, notes. Built to be
// pasted into chat: aligned columns, lines of at most ~100 columns except long messages.
#include <algorithm>
#include <ostream>
#include <sstream>

#include "core/duration.hpp"
#include "reports/escape.hpp"
#include "reports/report_parts.hpp"
#include "reports/writers.hpp"

namespace gwprobe::reports {
namespace {

constexpr std::size_t kLineWidth = 100;
constexpr std::size_t kKindColumnMax = 9;      // "websocket"
constexpr std::size_t kTargetColumnMax = 44;   // "contoso-relay.servicebus.windows.net:5671"
constexpr std::size_t kDurationColumn = 8;     // "850 µs", "4 m 05 s"
constexpr std::size_t kFactKeyColumnMax = 24;  // longer keys push their own line's value
constexpr std::size_t kKeyMax = 32;            // keys are identifiers; longer ones are cut
constexpr std::string_view kCheckIndent = "  ";
constexpr std::string_view kDetailIndent = "    ";  // under the kind column

/// A short identifier (kind, fact or note key) for a column: printable, cut in the middle when it
/// is longer than `max` columns.
std::string short_label(std::string_view text, std::size_t max) {
  return truncate_middle(plain_text(text), max);
}

/// ANSI SGR colouring that disappears when colour is off.
class Painter {
 public:
  explicit Painter(bool on) : on_(on) {}
  std::string operator()(std::string_view text, std::string_view sgr) const {
    if (!on_ || text.empty()) return std::string(text);
    std::string out;
    out.reserve(text.size() + 12);
    out.append("\x1b[").append(sgr).append("m").append(text).append("\x1b[0m");
    return out;
  }

 private:
  bool on_;
};

/// Terminal columns of a line we built: our own SGR sequences take none. Report strings went
/// through plain_text(), so every ESC in the line is one of ours.
std::size_t visible_width(std::string_view line) {
  std::string bare;
  bare.reserve(line.size());
  for (std::size_t i = 0; i < line.size(); ++i) {
    if (line[i] == '\x1b') {
      while (i < line.size() && line[i] != 'm') ++i;
      continue;
    }
    bare += line[i];
  }
  return display_width(bare);
}

std::string pad_right(std::string text, std::size_t width) {
  const std::size_t w = visible_width(text);
  if (w < width) text.append(width - w, ' ');
  return text;
}

std::string pad_left(const std::string& text, std::size_t width) {
  const std::size_t w = visible_width(text);
  return w < width ? std::string(width - w, ' ') + text : text;
}

void rtrim(std::string& line) {
  while (!line.empty() && line.back() == ' ') line.pop_back();
}

std::string_view symbol(core::Status s) {
  switch (s) {
    case core::Status::pass:
      return "✓";
    case core::Status::warn:
      return "!";
    case core::Status::fail:
      return "✗";
    case core::Status::skip:
      return "-";
    case core::Status::error:
      return "?";
  }
  return "?";
}

std::string_view status_sgr(core::Status s) {
  switch (s) {
    case core::Status::pass:
      return "32";
    case core::Status::warn:
      return "33";
    case core::Status::fail:
      return "31";
    case core::Status::skip:
      return "2";
    case core::Status::error:
      return "35";
  }
  return "0";
}

/// Diagnosis codes stand out: bold in the status colour (skips stay dim).
std::string_view code_sgr(core::Status s) {
  switch (s) {
    case core::Status::pass:
      return "1;32";
    case core::Status::warn:
      return "1;33";
    case core::Status::fail:
      return "1;31";
    case core::Status::skip:
      return "2";
    case core::Status::error:
      return "1;35";
  }
  return "1";
}

std::string_view verdict_sgr(core::Verdict v) {
  switch (v) {
    case core::Verdict::ready:
      return "1;30;42";
    case core::Verdict::degraded:
      return "1;30;43";
    case core::Verdict::not_ready:
      return "1;97;41";
  }
  return "1";
}

/// Word-wraps one paragraph; `first` starts the first line, `next` the others. A word longer
/// than the line (a URL) keeps a line of its own rather than being cut.
std::vector<std::string> wrap(std::string_view text, const std::string& first,
                              const std::string& next) {
  std::vector<std::string> lines;
  std::string line = first;
  std::size_t width = visible_width(line);
  bool empty = true;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && text[i] == ' ') ++i;
    const std::size_t start = i;
    while (i < text.size() && text[i] != ' ') ++i;
    if (start == i) break;
    const std::string_view word = text.substr(start, i - start);
    const std::size_t w = display_width(word);
    if (!empty && width + 1 + w > kLineWidth) {
      lines.push_back(line);
      line = next;
      width = visible_width(line);
      empty = true;
    }
    if (!empty) {
      line += ' ';
      ++width;
    }
    line += word;
    width += w;
    empty = false;
  }
  if (!empty) lines.push_back(line);
  return lines;
}

/// Advice under a check or finding: "→ " then the text, wrapped with a hanging indent; each
/// paragraph of the advice starts a new line.
void write_advice(std::ostream& out, std::string_view advice, std::string_view indent,
                  const Painter& paint) {
  std::istringstream paragraphs(plain_text(advice, true));
  std::string paragraph;
  const std::string arrow = std::string(indent) + paint("→", "36") + " ";
  const std::string hanging = std::string(indent) + "  ";
  bool first = true;
  while (std::getline(paragraphs, paragraph)) {
    for (const auto& line : wrap(paragraph, first ? arrow : hanging, hanging)) {
      out << line << '\n';
      first = false;
    }
  }
}

struct Columns {
  std::size_t kind = 0;
  std::size_t target = 0;
};

/// Column widths from the widest value that fits its cap; a longer value pushes only the
/// diagnosis code on its own line, never the columns of the other lines.
Columns measure(const core::RunReport& report) {
  Columns c;
  for (const auto& r : report.results) {
    const std::size_t kind = display_width(short_label(r.kind, kKindColumnMax));
    const std::size_t target = display_width(plain_text(r.target));
    if (kind <= kKindColumnMax) c.kind = std::max(c.kind, kind);
    if (target <= kTargetColumnMax) c.target = std::max(c.target, target);
  }
  return c;
}

/// Key/value lines under a check (verbose): its phases, then its facts, keys aligned.
void write_details(std::ostream& out, const core::ProbeResult& r, const Painter& paint) {
  std::vector<std::pair<std::string, std::string>> rows;
  std::string phases;
  for (const auto& p : phases_in_order(r)) {
    if (!phases.empty()) phases += " · ";
    phases += plain_text(p.name) + " " + core::format_duration(p.duration);
  }
  if (!phases.empty()) rows.emplace_back("phases", phases);
  for (const auto& f : r.facts)
    rows.emplace_back(short_label(f.key, kKeyMax), plain_text(core::to_text(f.value)));
  std::size_t key_width = 0;
  for (const auto& [key, value] : rows) {
    const std::size_t w = display_width(key);
    if (w <= kFactKeyColumnMax) key_width = std::max(key_width, w);
  }
  const std::string indent = std::string(kDetailIndent) + "  ";
  for (const auto& [key, value] : rows) {
    const std::string first = indent + paint(pad_right(key, key_width), "2") + "  ";
    const std::string next = indent + std::string(key_width + 2, ' ');
    auto lines = wrap(value, first, next);
    if (lines.empty()) lines.push_back(indent + paint(key, "2"));
    for (const auto& l : lines) out << l << '\n';
  }
}

/// One check: status, kind, duration, target and code on one aligned line; the message, the
/// advice ("→", when `show_advice`) and (verbose) the details indented below it.
void write_check(std::ostream& out, const core::ProbeResult& r, const Columns& columns,
                 const WriteOptions& options, const Painter& paint, bool show_advice) {
  const bool passed = r.status == core::Status::pass;
  const bool skipped = r.status == core::Status::skip;
  std::string line(kCheckIndent);
  line += paint(symbol(r.status), status_sgr(r.status));
  line += ' ';
  line += pad_right(short_label(r.kind, kKindColumnMax), columns.kind);
  line += "  ";
  const bool ran = !skipped || r.duration.count() > 0;
  line += pad_left(ran ? core::format_duration(r.duration) : std::string("—"), kDurationColumn);
  line += "  ";
  line += pad_right(plain_text(r.target), columns.target);
  // The code ends the line when it fits; after a very long target it leads the message instead.
  std::string code;
  if (r.diagnosis != core::Diagnosis::ok)
    code = paint(core::to_code(r.diagnosis), code_sgr(r.status));
  const bool code_fits = visible_width(line) + 2 + visible_width(code) <= kLineWidth;
  if (!code.empty() && code_fits) line += "  " + code;
  rtrim(line);
  out << line << '\n';
  const std::string indent(kDetailIndent);
  const std::string message = (!passed || options.verbose) ? plain_text(r.message) : std::string();
  std::string lead = indent;
  if (!code.empty() && !code_fits) lead += code + (message.empty() ? "" : "  ");
  auto lines = wrap(message, lead, indent);
  if (lines.empty() && lead != indent) lines.push_back(lead);
  for (auto& l : lines) {
    // Skips are dim: paint the text after the indent (colour was not part of the measuring).
    if (skipped) l = indent + paint(l.substr(indent.size()), "2");
    out << l << '\n';
  }
  if (show_advice && !passed && !skipped && !r.advice.empty()) {
    write_advice(out, r.advice, kDetailIndent, paint);
  }
  if (options.verbose) write_details(out, r, paint);
}

}  // namespace

void write_text(const core::RunReport& report, std::ostream& out, const WriteOptions& options) {
  const Painter paint(options.color);
  const std::string label(verdict_label(report.verdict));
  std::string verdict_line =
      options.color ? paint(" " + label + " ", verdict_sgr(report.verdict)) : label;
  verdict_line += "  " + counts_summary(counts_of(report)) + "  (" + run_size_summary(report) + ")";
  out << verdict_line << '\n';

  std::string about = "gwprobe " + plain_text(report.tool_version);
  if (report.profile == core::RunReport::single_probe) {
    about += " · single probe";  // not "profile single probe"
  } else if (!report.profile.empty()) {
    about += " · profile " + plain_text(report.profile);
    if (!report.profile_source.empty()) about += " (" + plain_text(report.profile_source) + ")";
  }
  about += " · " + human_utc(report.started_at);
  for (const auto& l : wrap(about, "", "")) out << paint(l, "2") << '\n';
  if (report.interrupted) {
    out << paint("INTERRUPTED", "1;33")
        << ": the run was cut short (Ctrl-C or the overall deadline); results are partial.\n";
  }

  const Columns columns = measure(report);
  // "What to change" lives in the findings, once per problem; repeating it under every failing
  // port is noise. Verbose output (and a report without findings) keeps it per check.
  const bool show_advice = options.verbose || report.findings.empty();
  if (report.results.empty()) out << "\nNo checks were run.\n";
  for (const auto& group : group_by_endpoint(report.results)) {
    out << '\n';
    for (const auto& l : wrap(plain_text(group_title(group)), "", "")) out << paint(l, "1") << '\n';
    for (const auto* r : group.results) write_check(out, *r, columns, options, paint, show_advice);
  }

  if (!report.findings.empty()) {
    out << '\n' << paint("Findings", "1") << '\n';
    std::size_t code_width = 0;
    for (const auto& f : report.findings) {
      code_width = std::max(code_width, core::to_code(f.diagnosis).size());
    }
    for (const auto& f : report.findings) {
      std::string line(kCheckIndent);
      line += paint(symbol(f.severity), status_sgr(f.severity));
      line += ' ';
      line += paint(pad_right(std::string(core::to_code(f.diagnosis)), code_width),
                    code_sgr(f.severity));
      line += "  ";
      const std::string hanging(kCheckIndent.size() + 2 + code_width + 2, ' ');
      auto lines = wrap(plain_text(f.summary), line, hanging);
      if (lines.empty()) {
        rtrim(line);
        lines.push_back(line);
      }
      for (const auto& l : lines) out << l << '\n';
      if (!f.advice.empty()) write_advice(out, f.advice, kDetailIndent, paint);
      if (options.verbose && !f.result_ids.empty()) {
        std::string ids;
        for (const auto& id : f.result_ids) ids += (ids.empty() ? "" : ", ") + plain_text(id);
        const std::string first = std::string(kDetailIndent) + "  " + paint("checks", "2") + "  ";
        for (const auto& l : wrap(ids, first, std::string(kDetailIndent) + "          ")) {
          out << l << '\n';
        }
      }
    }
  }

  if (!report.notes.empty()) {
    out << '\n' << paint("Notes", "1") << '\n';
    std::size_t key_width = 0;
    for (const auto& n : report.notes) {
      const std::size_t w = display_width(short_label(n.key, kKeyMax));
      if (w <= kFactKeyColumnMax) key_width = std::max(key_width, w);
    }
    for (const auto& n : report.notes) {
      const std::string first =
          std::string(kCheckIndent) + pad_right(short_label(n.key, kKeyMax), key_width) + "  ";
      const std::string next = std::string(kCheckIndent) + std::string(key_width + 2, ' ');
      auto lines = wrap(plain_text(n.value), first, next);
      if (lines.empty()) {
        lines.push_back(first);
        rtrim(lines.back());
      }
      for (const auto& l : lines) out << l << '\n';
    }
  }
}

}  // namespace gwprobe::reports
