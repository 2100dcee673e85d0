// Text report: layout, colour, verbosity and hostile input.
#include <gtest/gtest.h>

#include <sstream>

#include "reports/escape.hpp"
#include "reports/report_writer.hpp"
#include "reports/testdata/test_support.hpp"

namespace gwprobe::reports {
namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

std::string text(const core::RunReport& report, WriteOptions options = {}) {
  return render_report(ReportFormat::text, report, options);
}

std::size_t line_index(const std::vector<std::string>& lines, std::string_view needle) {
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].find(needle) != std::string::npos) return i;
  }
  return lines.size();
}

TEST(TextReport, StartsWithTheVerdictAndTheCounts) {
  EXPECT_EQ(lines_of(text(testdata::sample_report()))[0],
            "NOT READY  4 failed · 2 warnings · 1 error · 6 passed · 1 skipped  (14 checks in "
            "4 m 03 s)");
  EXPECT_EQ(lines_of(text(testdata::ready_report()))[0], "READY  1 passed  (1 check in 35 ms)");
  auto degraded = testdata::ready_report();
  degraded.verdict = core::Verdict::degraded;
  EXPECT_EQ(text(degraded).rfind("DEGRADED  ", 0), 0u);
}

TEST(TextReport, NamesTheProfileOrSaysSingleProbeOnTheSecondLine) {
  auto report = testdata::ready_report();
  report.profile = "contoso";
  report.profile_source = "/etc/gwprobe/contoso.toml";
  EXPECT_NE(lines_of(text(report))[1].find(" · profile contoso (/etc/gwprobe/contoso.toml) · "),
            std::string::npos);
  report.profile = core::RunReport::single_probe;
  report.profile_source.clear();
  const auto second = lines_of(text(report))[1];
  EXPECT_NE(second.find(" · single probe · "), std::string::npos) << second;
  EXPECT_EQ(second.find("profile"), std::string::npos) << second;
}

TEST(TextReport, KeepsEveryLineWithinOneHundredColumns) {
  for (const bool verbose : {false, true}) {
    for (const auto& line : lines_of(text(testdata::sample_report(), {.verbose = verbose}))) {
      EXPECT_LE(display_width(line), 100u) << line;
    }
  }
}

TEST(TextReport, LetsOnlyATargetLongerThanTheLineOverflowIt) {
  const std::string target = plain_text(testdata::kHostileMessage);
  for (const bool verbose : {false, true}) {
    for (const auto& line : lines_of(text(testdata::hostile_report(), {.verbose = verbose}))) {
      if (display_width(line) > 100) {
        EXPECT_NE(line.find(target), std::string::npos) << line;
      }
    }
  }
}

TEST(TextReport, MovesTheCodeBelowAVeryLongTarget) {
  auto report = testdata::ready_report();
  auto& r = report.results[0];
  r.target = "wss://contoso-relay.servicebus.windows.net/$hc/gateway-cluster-production-west-1";
  r.status = core::Status::fail;
  r.diagnosis = core::Diagnosis::ws_upgrade_stripped;
  r.message = "proxy answered 200 instead of 101";
  const auto lines = lines_of(text(report));
  const std::size_t i = line_index(lines, r.target);
  ASSERT_LT(i + 1, lines.size());
  EXPECT_EQ(lines[i].find("WS_UPGRADE_STRIPPED"), std::string::npos);
  EXPECT_EQ(lines[i + 1], "    WS_UPGRADE_STRIPPED  proxy answered 200 instead of 101");
}

TEST(TextReport, GroupsChecksByEndpointInPlanOrder) {
  const auto lines = lines_of(text(testdata::sample_report()));
  const std::size_t login = line_index(lines, "login.microsoftonline.com");
  const std::size_t relay = line_index(lines, "*.servicebus.windows.net");
  const std::size_t frontend = line_index(lines, "*.frontend.clouddatahub.net");
  const std::size_t e2e = line_index(lines, "relay (end to end)");
  const std::size_t other = line_index(lines, "other checks");
  EXPECT_LT(login, relay);
  EXPECT_LT(relay, frontend);
  EXPECT_LT(frontend, e2e);
  EXPECT_LT(e2e, other);
  EXPECT_LT(other, lines.size());
  EXPECT_EQ(lines[login], "login.microsoftonline.com");  // a heading line of its own
}

TEST(TextReport, AlignsTheTargetColumnAcrossAllChecks) {
  const auto lines = lines_of(text(testdata::sample_report()));
  const auto column = [&](std::string_view target) {
    const std::string& line = lines[line_index(lines, target)];
    return display_width(line.substr(0, line.find(target)));
  };
  EXPECT_EQ(column("login.microsoftonline.com:443"),
            column("contoso-relay.servicebus.windows.net:9350"));
  EXPECT_EQ(column("login.microsoftonline.com:443"), column("any"));
}

TEST(TextReport, ShowsCodeAndMessageForAFailureAndLeavesTheAdviceToTheFindings) {
  const auto lines = lines_of(text(testdata::sample_report()));
  const std::size_t i = line_index(lines, "TLS_INTERCEPTED");
  ASSERT_LT(i + 2, lines.size());
  EXPECT_EQ(lines[i].rfind("  ✗ tls ", 0), 0u) << lines[i];
  EXPECT_NE(lines[i].find("63 ms"), std::string::npos);
  EXPECT_EQ(lines[i + 1],
            "    certificate issued by \"Contoso TLS Inspection CA\", not a Microsoft or DigiCert "
            "root");
  EXPECT_EQ(lines[i + 2].find("→"), std::string::npos) << lines[i + 2];
}

TEST(TextReport, ShowsEachChecksOwnAdviceWhenVerboseOrWhenThereAreNoFindings) {
  auto report = testdata::sample_report();
  const auto verbose = lines_of(text(report, {.verbose = true}));
  const std::size_t i = line_index(verbose, "TLS_INTERCEPTED");
  EXPECT_EQ(verbose[i + 2].rfind("    → Exclude *.microsoftonline.com", 0), 0u) << verbose[i + 2];
  report.findings.clear();
  const auto plain = lines_of(text(report));
  const std::size_t warn = line_index(plain, "TCP_FILTERED");
  EXPECT_EQ(plain[warn + 2].rfind("    → Optional while", 0), 0u) << plain[warn + 2];
}

TEST(TextReport, HidesPassingDetailsUnlessVerbose) {
  const auto report = testdata::sample_report();
  EXPECT_EQ(text(report).find("2 addresses from 10.0.0.53"), std::string::npos);
  EXPECT_EQ(text(report).find("TLSv1.3"), std::string::npos);
  const std::string verbose = text(report, {.verbose = true});
  EXPECT_NE(verbose.find("2 addresses from 10.0.0.53"), std::string::npos);
  EXPECT_NE(verbose.find("tls_version          TLSv1.3"), std::string::npos);
  EXPECT_NE(verbose.find("phases               connect 20 ms · tls 43 ms"), std::string::npos);
  EXPECT_NE(verbose.find("checks  tls:login.microsoftonline.com:443"), std::string::npos);
}

TEST(TextReport, ShowsASkipsReasonDimAndNothingMore) {
  const auto lines = lines_of(text(testdata::sample_report()));
  const std::size_t skip = line_index(lines, "SKIPPED");
  EXPECT_EQ(lines[skip + 1], "    not run: dns:contoso.frontend.clouddatahub.net failed");
  EXPECT_TRUE(lines[skip + 2].empty());  // then the next group
}

TEST(TextReport, ListsFindingsWithAdviceThenNotes) {
  const auto lines = lines_of(text(testdata::sample_report()));
  const std::size_t findings = line_index(lines, "Findings");
  const std::size_t notes = line_index(lines, "Notes");
  ASSERT_LT(findings, notes);
  ASSERT_LT(notes + 2, lines.size());
  EXPECT_EQ(lines[findings + 1].rfind("  ✗ TLS_INTERCEPTED  TLS inspection by", 0), 0u);
  EXPECT_EQ(lines[notes + 1], "  proxy      http://proxy.contoso.local:3128 (from HTTPS_PROXY)");
}

TEST(TextReport, ColoursOnlyWhenAskedAndThenPaintsVerdictSymbolsAndCodes) {
  const auto report = testdata::sample_report();
  EXPECT_EQ(text(report).find('\x1b'), std::string::npos);
  const std::string coloured = text(report, {.color = true});
  EXPECT_EQ(coloured.rfind("\x1b[1;97;41m NOT READY \x1b[0m", 0), 0u);
  EXPECT_NE(coloured.find("\x1b[32m✓\x1b[0m dns"), std::string::npos);
  EXPECT_NE(coloured.find("\x1b[1;31mTLS_INTERCEPTED\x1b[0m"), std::string::npos);
}

TEST(TextReport, ColourDoesNotMoveTheColumns) {
  const auto report = testdata::sample_report();
  auto strip = [](std::string s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '\x1b') {
        while (i < s.size() && s[i] != 'm') ++i;
        continue;
      }
      out += s[i];
    }
    return out;
  };
  const auto plain = lines_of(text(report));
  const auto coloured = lines_of(strip(text(report, {.color = true})));
  ASSERT_EQ(plain.size(), coloured.size());
  for (std::size_t i = 1; i < plain.size(); ++i) EXPECT_EQ(plain[i], coloured[i]);
}

TEST(TextReport, SaysWhenTheRunWasInterruptedAndWhenNothingRan) {
  const std::string out = text(testdata::empty_report());
  EXPECT_NE(out.find("INTERRUPTED: the run was cut short"), std::string::npos);
  EXPECT_NE(out.find("No checks were run."), std::string::npos);
}

TEST(TextReport, WrapsLongMessagesAndKeepsHostileTextInert) {
  const auto lines = lines_of(text(testdata::sample_report()));
  const std::size_t i = line_index(lines, "E2E_QUERY_FAILED");
  EXPECT_EQ(lines[i + 1],
            "    data source said: ERROR: relation \"sales|2024\" does not exist ]]>");
  const std::string all = text(testdata::hostile_report());
  EXPECT_EQ(all.find('\x1b'), std::string::npos);
  EXPECT_NE(all.find("naïve Straße 東京"), std::string::npos);
}

TEST(TextReport, NeverBreaksAWordLongerThanTheLine) {
  auto report = testdata::ready_report();
  const std::string url = "https://example.invalid/" + std::string(120, 'a');
  report.results[0].status = core::Status::fail;
  report.results[0].diagnosis = core::Diagnosis::tcp_refused;
  report.results[0].advice = "See " + url + " for details.";
  const auto lines = lines_of(text(report));
  EXPECT_EQ(lines[line_index(lines, "→")], "    → See");
  EXPECT_EQ(lines[line_index(lines, url)], "      " + url);
}

}  // namespace
}  // namespace gwprobe::reports
