// The writer front door: format names, and what every format guarantees for any report.
#include "reports/report_writer.hpp"

#include <gtest/gtest.h>

#include "reports/escape.hpp"
#include "reports/testdata/test_support.hpp"

namespace gwprobe::reports {
namespace {

TEST(ParseReportFormat, AcceptsEveryFormatByItsName) {
  ASSERT_EQ(all_report_formats().size(), 6u);
  for (const auto f : all_report_formats()) {
    const auto parsed = parse_report_format(to_string(f));
    ASSERT_TRUE(parsed) << to_string(f);
    EXPECT_EQ(*parsed, f);
  }
}

TEST(ParseReportFormat, RejectsAnUnknownNameAndListsTheValidOnes) {
  const auto parsed = parse_report_format("xml");
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error().kind, core::FailureKind::invalid_input);
  EXPECT_EQ(parsed.error().message,
            "unknown report format 'xml' (expected one of: text, json, junit, markdown, html, "
            "prometheus)");
}

TEST(ParseReportFormat, NeverEchoesControlCharactersFromTheFlag) {
  const auto parsed = parse_report_format("te\x1b[2Jxt\n");
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error().message.find('\x1b'), std::string::npos);
  EXPECT_EQ(parsed.error().message.find('\n'), std::string::npos);
}

TEST(ParseReportFormat, IsCaseSensitiveLikeTheFlagDocuments) {
  EXPECT_FALSE(parse_report_format("JSON"));
  EXPECT_FALSE(parse_report_format(""));
}

TEST(FileExtension, NamesTheUsualExtensionOfEachFormat) {
  EXPECT_EQ(file_extension(ReportFormat::text), "txt");
  EXPECT_EQ(file_extension(ReportFormat::json), "json");
  EXPECT_EQ(file_extension(ReportFormat::junit), "xml");
  EXPECT_EQ(file_extension(ReportFormat::markdown), "md");
  EXPECT_EQ(file_extension(ReportFormat::html), "html");
  EXPECT_EQ(file_extension(ReportFormat::prometheus), "prom");
}

struct NamedReport {
  const char* name;
  core::RunReport report;
};

std::vector<NamedReport> all_reports() {
  return {{"sample", testdata::sample_report()},
          {"ready", testdata::ready_report()},
          {"empty", testdata::empty_report()},
          {"hostile", testdata::hostile_report()}};
}

TEST(WriteReport, EveryFormatWritesValidUtf8EndingInANewlineForEveryReport) {
  for (const auto& [name, report] : all_reports()) {
    for (const auto f : all_report_formats()) {
      const std::string out = render_report(f, report);
      ASSERT_FALSE(out.empty()) << name << " " << to_string(f);
      EXPECT_EQ(out.back(), '\n') << name << " " << to_string(f);
      EXPECT_EQ(valid_utf8(out), out) << name << " " << to_string(f);
    }
  }
}

TEST(WriteReport, NoFormatPassesOnTerminalEscapesOrBidiOverridesFromTheReport) {
  const auto report = testdata::hostile_report();
  for (const auto f : all_report_formats()) {
    const std::string out = render_report(f, report);
    EXPECT_EQ(out.find('\x1b'), std::string::npos) << to_string(f);
    EXPECT_EQ(out.find('\x07'), std::string::npos) << to_string(f);
    if (f != ReportFormat::json) {  // JSON keeps the text faithfully, as \u escapes or UTF-8
      EXPECT_EQ(out.find("\xe2\x80\xae"), std::string::npos) << to_string(f);
    }
  }
}

TEST(WriteReport, XmlAndHtmlNeverContainTheHostileMarkupRaw) {
  const auto report = testdata::hostile_report();
  for (const auto f : {ReportFormat::html, ReportFormat::junit}) {
    const std::string out = render_report(f, report);
    EXPECT_EQ(out.find("<script"), std::string::npos) << to_string(f);
    EXPECT_EQ(out.find("<b>bold"), std::string::npos) << to_string(f);
    EXPECT_EQ(out.find("]]>"), std::string::npos) << to_string(f);
  }
}

TEST(WriteReport, OnlyTextWithColourEmitsAnsiSequences) {
  const auto report = testdata::sample_report();
  EXPECT_NE(render_report(ReportFormat::text, report, {.color = true}).find("\x1b["),
            std::string::npos);
  for (const auto f : all_report_formats()) {
    EXPECT_EQ(render_report(f, report, {.color = f != ReportFormat::text}).find('\x1b'),
              std::string::npos)
        << to_string(f);
  }
}

TEST(WriteReport, WritesToTheStreamWhatRenderReportReturns) {
  const auto report = testdata::sample_report();
  for (const auto f : all_report_formats()) {
    std::ostringstream out;
    write_report(f, report, out);
    EXPECT_EQ(out.str(), render_report(f, report)) << to_string(f);
  }
}

}  // namespace
}  // namespace gwprobe::reports
