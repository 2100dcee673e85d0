// JUnit report: structure, the outcome of each status, and validity against the schema Jenkins and
// GitLab read (checked with xmllint when it is installed).
#include <gtest/gtest.h>

#include <regex>

#include "reports/escape.hpp"
#include "reports/report_writer.hpp"
#include "reports/testdata/test_support.hpp"
#include "tests/fixtures/subprocess.hpp"

namespace gwprobe::reports {
namespace {

std::string junit(const core::RunReport& report) {
  return render_report(ReportFormat::junit, report);
}

std::size_t count(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

/// The <testcase …>…</testcase> element whose name is `name`.
std::string testcase(const std::string& xml, const std::string& name) {
  const auto start = xml.find("<testcase name=\"" + name + "\"");
  if (start == std::string::npos) return {};
  const auto self_closed = xml.find("/>", start);
  const auto open_end = xml.find('>', start);
  if (self_closed != std::string::npos && self_closed + 1 == open_end) {
    return xml.substr(start, open_end + 1 - start);
  }
  const auto end = xml.find("</testcase>", start);
  return xml.substr(start, end + std::string("</testcase>").size() - start);
}

TEST(JunitReport, SumsTheRunOnTheRootElement) {
  const std::string xml = junit(testdata::sample_report());
  EXPECT_EQ(xml.rfind("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"gwprobe "
                      "contoso\" tests=\"14\" failures=\"4\" errors=\"1\" time=\"243.216\">",
                      0),
            0u);
}

TEST(JunitReport, HasOneSuitePerEndpointAndOneCasePerCheck) {
  const std::string xml = junit(testdata::sample_report());
  EXPECT_EQ(count(xml, "<testsuite "), 5u);
  EXPECT_EQ(count(xml, "<testcase "), 14u);
  EXPECT_NE(xml.find("<testsuite name=\"*.servicebus.windows.net\" tests=\"7\" failures=\"1\" "
                     "errors=\"0\" skipped=\"0\""),
            std::string::npos);
  EXPECT_NE(xml.find("<testsuite name=\"other checks\" tests=\"1\" failures=\"0\" errors=\"1\""),
            std::string::npos);
}

TEST(JunitReport, AFailureCarriesTheCodeAsTypeAndTheMessageAndAdviceAndFacts) {
  const std::string tc =
      testcase(junit(testdata::sample_report()), "tls:login.microsoftonline.com:443");
  EXPECT_NE(tc.find("classname=\"gwprobe.tls\" time=\"0.063\""), std::string::npos) << tc;
  EXPECT_NE(tc.find("<failure type=\"TLS_INTERCEPTED\" message=\"certificate issued by "
                    "&quot;Contoso TLS Inspection CA&quot;, not a Microsoft or DigiCert root\">"
                    "Advice: Exclude"),
            std::string::npos)
      << tc;
  EXPECT_NE(tc.find("  issuer: CN=Contoso TLS Inspection CA,O=Contoso Ltd\n"), std::string::npos);
}

TEST(JunitReport, AWarningPassesWithItsDiagnosisInSystemOut) {
  const std::string tc =
      testcase(junit(testdata::sample_report()), "tcp:contoso-relay.servicebus.windows.net:9350");
  EXPECT_EQ(tc.find("<failure"), std::string::npos) << tc;
  EXPECT_EQ(tc.find("<error"), std::string::npos) << tc;
  EXPECT_NE(tc.find("<system-out>WARNING TCP_FILTERED (optional check, does not fail the run): "
                    "no answer from 203.0.113.40:9350 within 3.0 s\nAdvice: Optional"),
            std::string::npos)
      << tc;
}

TEST(JunitReport, ASkipIsSkippedAndAnErrorIsAnError) {
  const std::string xml = junit(testdata::sample_report());
  EXPECT_NE(
      testcase(xml, "tcp:contoso.frontend.clouddatahub.net:443")
          .find("<skipped message=\"not run: dns:contoso.frontend.clouddatahub.net failed\"/>"),
      std::string::npos);
  EXPECT_NE(testcase(xml, "capture:any")
                .find("<error type=\"PROBE_ERROR\" message=\"cannot open a capture on any: "
                      "permission denied\">"),
            std::string::npos);
}

TEST(JunitReport, APassWithoutDetailsIsAnEmptyTestcase) {
  const std::string tc = testcase(junit(testdata::ready_report()), "tcp:127.0.0.1:8443");
  EXPECT_NE(tc.find("<system-out>Phases: connect=0.000s\n</system-out>"), std::string::npos) << tc;
  auto bare = testdata::ready_report();
  bare.results[0].phases.clear();
  EXPECT_EQ(testcase(junit(bare), "tcp:127.0.0.1:8443"),
            "<testcase name=\"tcp:127.0.0.1:8443\" classname=\"gwprobe.tcp\" time=\"0.000\"/>");
}

TEST(JunitReport, UsesAZonelessTimestampAndPlainDecimalTimes) {
  const std::string xml = junit(testdata::sample_report());
  EXPECT_NE(xml.find("timestamp=\"2024-05-14T09:30:00\""), std::string::npos);
  const std::regex time_attr(R"re(time="([^"]*)")re");
  for (auto it = std::sregex_iterator(xml.begin(), xml.end(), time_attr);
       it != std::sregex_iterator(); ++it) {
    EXPECT_TRUE(std::regex_match((*it)[1].str(), std::regex(R"(\d+\.\d{3})"))) << (*it)[1];
  }
}

TEST(JunitReport, WritesAValidEmptyDocumentForARunWithoutChecks) {
  EXPECT_EQ(junit(testdata::empty_report()),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"gwprobe local\" "
            "tests=\"0\" failures=\"0\" errors=\"0\" time=\"0.000\">\n</testsuites>\n");
}

/// xmllint from libxml2-utils (scripts/setup.sh installs it).
class JunitSchema : public ::testing::Test {
 protected:
  void SetUp() override {
    xmllint_ = testdata::find_tool("/usr/bin/xmllint");
    if (xmllint_.empty()) {
      GTEST_SKIP() << "SKIPPED LOUDLY: /usr/bin/xmllint is not installed (Debian package "
                      "libxml2-utils; scripts/setup.sh installs it), so the JUnit output is not "
                      "validated against the schema in this run";
    }
  }
  testing::ProcessResult xmllint(const std::vector<std::string>& args) {
    std::vector<std::string> argv{xmllint_, "--nonet"};
    argv.insert(argv.end(), args.begin(), args.end());
    return testing::run_process(argv);
  }
  std::string xmllint_;
  testdata::TempDir dir_;
  const std::string schema_ =
      std::string(GWPROBE_SOURCE_DIR) + "/reports/testdata/junit-common.xsd";
};

TEST_F(JunitSchema, SampleHostileAndEmptyReportsValidate) {
  const std::pair<const char*, core::RunReport> reports[] = {
      {"sample", testdata::sample_report()},
      {"hostile", testdata::hostile_report()},
      {"empty", testdata::empty_report()}};
  for (const auto& [name, report] : reports) {
    const std::string path = dir_.file(std::string(name) + ".xml");
    testdata::write_file(path, junit(report));
    const auto r = xmllint({"--noout", "--schema", schema_, path});
    EXPECT_EQ(r.exit_code, 0) << name << ": " << r.err;
  }
}

TEST_F(JunitSchema, HostileTextSurvivesTheRoundTripThroughAnXmlParser) {
  const std::string path = dir_.file("hostile.xml");
  testdata::write_file(path, junit(testdata::hostile_report()));
  const auto r = xmllint({"--xpath", "string(//failure[@type='TLS_UNTRUSTED']/@message)", path});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, plain_text(testdata::kHostileMessage, true) + "\n");  // xmllint adds the \n
}

}  // namespace
}  // namespace gwprobe::reports
