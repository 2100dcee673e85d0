// Markdown report: the ticket layout, table integrity (cells split the way GFM splits them) and
// escaping of hostile text.
#include <gtest/gtest.h>

#include <sstream>

#include "reports/report_writer.hpp"
#include "reports/testdata/test_support.hpp"

namespace gwprobe::reports {
namespace {

std::string markdown(const core::RunReport& report) {
  return render_report(ReportFormat::markdown, report);
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

/// Cell delimiters in a GFM table row, found the way cmark-gfm finds them: a backslash and the
/// character after it form a pair, so only a pipe not consumed by such a pair splits cells.
std::size_t delimiters(const std::string& row) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < row.size(); ++i) {
    if (row[i] == '\\') {
      ++i;
    } else if (row[i] == '|') {
      ++n;
    }
  }
  return n;
}

/// The table that follows the heading line `heading`.
std::vector<std::string> table_after(const std::vector<std::string>& lines,
                                     const std::string& heading) {
  std::vector<std::string> rows;
  std::size_t i = 0;
  while (i < lines.size() && lines[i] != heading) ++i;
  while (i < lines.size() && (lines[i].empty() || lines[i][0] != '|')) ++i;
  while (i < lines.size() && !lines[i].empty() && lines[i][0] == '|') rows.push_back(lines[i++]);
  return rows;
}

/// The line with code spans removed (CommonMark: a run of n backticks closes at the next run of
/// exactly n), so what is left is what Markdown would interpret.
std::string outside_code(const std::string& line) {
  std::string out;
  std::size_t i = 0;
  while (i < line.size()) {
    if (line[i] == '\\' && i + 1 < line.size()) {
      out += line.substr(i, 2);
      i += 2;
      continue;
    }
    if (line[i] != '`') {
      out += line[i++];
      continue;
    }
    std::size_t n = 0;
    while (i + n < line.size() && line[i + n] == '`') ++n;
    const std::string fence(n, '`');
    std::size_t close = i + n;
    for (;;) {
      close = line.find(fence, close);
      if (close == std::string::npos) break;
      std::size_t run = 0;
      while (close + run < line.size() && line[close + run] == '`') ++run;
      if (run == n) break;
      close += run;
    }
    if (close == std::string::npos) {
      out += fence;
      i += n;
    } else {
      i = close + n;
    }
  }
  return out;
}

bool has_unescaped(const std::string& text, char c) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\') {
      ++i;
    } else if (text[i] == c) {
      return true;
    }
  }
  return false;
}

/// An unescaped underscore with a non-word character on either side (inside a word CommonMark
/// never reads it as emphasis).
bool has_emphasis_underscore(const std::string& text) {
  auto word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || (c & 0x80); };
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\') {
      ++i;
    } else if (text[i] == '_' &&
               !(i > 0 && word(text[i - 1]) && i + 1 < text.size() && word(text[i + 1]))) {
      return true;
    }
  }
  return false;
}

TEST(MarkdownReport, OpensWithVerdictProfileTimeAndVersion) {
  const auto lines = lines_of(markdown(testdata::sample_report()));
  EXPECT_EQ(lines[0], "## ❌ gwprobe: NOT READY");
  EXPECT_EQ(lines[2],
            "**4 failed · 2 warnings · 1 error · 6 passed · 1 skipped** (14 checks in 4 m 03 s)");
  const std::string all = markdown(testdata::sample_report());
  EXPECT_NE(all.find("| Profile | `contoso` (/etc/gwprobe/contoso.toml) |"), std::string::npos);
  EXPECT_NE(all.find("| Started | 2024-05-14 09:30:00 UTC |"), std::string::npos);
  EXPECT_NE(all.find("| gwprobe | 0.1.0 |"), std::string::npos);
  EXPECT_NE(all.find("| proxy | http://proxy.contoso.local:3128 (from HTTPS_PROXY) |"),
            std::string::npos);
  EXPECT_EQ(lines_of(markdown(testdata::ready_report()))[0], "## ✅ gwprobe: READY");
}

TEST(MarkdownReport, HasOneTableRowPerCheckWithTheSameNumberOfCells) {
  for (const auto& report : {testdata::sample_report(), testdata::hostile_report()}) {
    const auto rows = table_after(lines_of(markdown(report)), "### Checks");
    ASSERT_EQ(rows.size(), report.results.size() + 2);  // header and delimiter rows
    for (const auto& row : rows) EXPECT_EQ(delimiters(row), 8u) << row;
  }
}

TEST(MarkdownReport, NamesEachEndpointOnItsFirstRowOnly) {
  const auto rows = table_after(lines_of(markdown(testdata::sample_report())), "### Checks");
  EXPECT_EQ(rows[2].rfind("| ✅ pass | **login.microsoftonline.com** | dns | "
                          "`login.microsoftonline.com` | `OK` | 14 ms |",
                          0),
            0u)
      << rows[2];
  EXPECT_EQ(rows[3].rfind("| ✅ pass |  | tcp |", 0), 0u) << rows[3];
}

TEST(MarkdownReport, ListsFindingsAndUncoveredProblemsWithAdvice) {
  const std::string all = markdown(testdata::sample_report());
  EXPECT_NE(all.find("- ❌ **TLS_INTERCEPTED**: TLS inspection by \"Contoso TLS Inspection CA\" "
                     "re-signs login.microsoftonline.com<br>**Advice:** Exclude "
                     "\\*.microsoftonline.com"),
            std::string::npos);
  EXPECT_NE(all.find("- ⚠️ **TCP_FILTERED**:"), std::string::npos);
  EXPECT_NE(all.find("- ❗ **PROBE_ERROR** on `capture:any`: cannot open a capture on any: "
                     "permission denied<br>**Advice:** Run as root or grant CAP_NET_RAW"),
            std::string::npos);
  EXPECT_EQ(all.find("**TCP_FILTERED** on"), std::string::npos);  // covered by its finding
}

TEST(MarkdownReport, PutsFactsInACollapsedDetailsBlockThatGithubRenders) {
  const std::string all = markdown(testdata::sample_report());
  EXPECT_NE(all.find("<details>\n<summary>Facts and timings (28)</summary>\n\n| Check | Fact | "
                     "Value |\n"),
            std::string::npos);
  EXPECT_NE(all.find("| `tls:login.microsoftonline.com:443` | issuer | CN=Contoso TLS "
                     "Inspection CA,O=Contoso Ltd |"),
            std::string::npos);
  EXPECT_EQ(all.substr(all.size() - 12), "\n</details>\n");
  for (const auto& row : table_after(lines_of(all), "<summary>Facts and timings (28)</summary>")) {
    EXPECT_EQ(delimiters(row), 4u) << row;
  }
}

TEST(MarkdownReport, LeavesNoHostileMarkupOutsideCodeSpans) {
  for (const auto& line : lines_of(markdown(testdata::hostile_report()))) {
    std::string live = outside_code(line);
    for (const std::string own : {"<br>", "<details>", "</details>", "<summary>", "</summary>"}) {
      for (auto at = live.find(own); at != std::string::npos; at = live.find(own)) {
        live.erase(at, own.size());
      }
    }
    EXPECT_FALSE(has_unescaped(live, '<')) << line;       // no HTML
    EXPECT_FALSE(has_unescaped(live, '[')) << line;       // no links or images
    EXPECT_FALSE(has_emphasis_underscore(live)) << line;  // "_under_" must not turn italic
  }
}

TEST(MarkdownReport, SaysWhenNothingRanAndTheRunWasInterrupted) {
  const std::string all = markdown(testdata::empty_report());
  EXPECT_NE(all.find("> **Interrupted:**"), std::string::npos);
  EXPECT_NE(all.find("No checks were run."), std::string::npos);
  EXPECT_EQ(all.find("<details>"), std::string::npos);
}

}  // namespace
}  // namespace gwprobe::reports
