// JSON report: the gwprobe.report/v1 schema, field by field and type by type.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <regex>

#include "reports/report_writer.hpp"
#include "reports/testdata/test_support.hpp"

namespace gwprobe::reports {
namespace {

using nlohmann::json;

json parse(const core::RunReport& report, WriteOptions options = {}) {
  return json::parse(render_report(ReportFormat::json, report, options));
}

const json& result_by_id(const json& doc, const std::string& id) {
  for (const auto& r : doc.at("results")) {
    if (r.at("id") == id) return r;
  }
  static const json none;
  ADD_FAILURE() << "no result " << id;
  return none;
}

TEST(JsonReport, HasTheDocumentedTopLevelFieldsInOrder) {
  const std::string text = render_report(ReportFormat::json, testdata::sample_report());
  const auto doc = nlohmann::ordered_json::parse(text);
  std::vector<std::string> keys;
  for (const auto& [key, value] : doc.items()) keys.push_back(key);
  EXPECT_EQ(keys, (std::vector<std::string>{"schema", "tool_version", "profile", "started_at",
                                            "duration_ms", "verdict", "interrupted", "counts",
                                            "notes", "results", "findings"}));
}

TEST(JsonReport, DescribesTheRun) {
  const auto doc = parse(testdata::sample_report());
  EXPECT_EQ(doc.at("schema"), "gwprobe.report/v1");
  EXPECT_EQ(doc.at("tool_version"), "0.1.0");
  EXPECT_EQ(doc.at("profile"), "contoso");
  EXPECT_EQ(doc.at("started_at"), "2024-05-14T09:30:00.250Z");
  EXPECT_DOUBLE_EQ(doc.at("duration_ms").get<double>(), 243216.4);
  EXPECT_EQ(doc.at("verdict"), "not_ready");
  EXPECT_EQ(doc.at("interrupted"), false);
  EXPECT_EQ(
      doc.at("counts"),
      json({{"pass", 6}, {"warn", 2}, {"fail", 4}, {"skip", 1}, {"error", 1}, {"total", 14}}));
  EXPECT_EQ(
      doc.at("notes").at(0),
      json({{"key", "proxy"}, {"value", "http://proxy.contoso.local:3128 (from HTTPS_PROXY)"}}));
}

TEST(JsonReport, TimestampsAreRfc3339InUtc) {
  const std::regex rfc3339(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)");
  for (const auto& report : {testdata::sample_report(), testdata::empty_report()}) {
    EXPECT_TRUE(std::regex_match(parse(report).at("started_at").get<std::string>(), rfc3339));
  }
}

TEST(JsonReport, GivesEveryResultItsFieldsInOrder) {
  const auto doc =
      nlohmann::ordered_json::parse(render_report(ReportFormat::json, testdata::sample_report()));
  ASSERT_EQ(doc.at("results").size(), 14u);
  std::vector<std::string> keys;
  for (const auto& [key, value] : doc.at("results").at(0).items()) keys.push_back(key);
  EXPECT_EQ(keys, (std::vector<std::string>{"id", "kind", "target", "endpoint", "required",
                                            "status", "diagnosis", "message", "advice",
                                            "duration_ms", "phases", "facts"}));
}

TEST(JsonReport, WritesStatusDiagnosisAndPlanMetadata) {
  const auto doc = parse(testdata::sample_report());
  const auto& tls = result_by_id(doc, "tls:login.microsoftonline.com:443");
  EXPECT_EQ(tls.at("status"), "fail");
  EXPECT_EQ(tls.at("diagnosis"), "TLS_INTERCEPTED");
  EXPECT_EQ(tls.at("endpoint"), "login.microsoftonline.com");
  EXPECT_EQ(tls.at("required"), true);
  EXPECT_DOUBLE_EQ(tls.at("duration_ms").get<double>(), 63.4);
  const auto& filtered = result_by_id(doc, "tcp:contoso-relay.servicebus.windows.net:9350");
  EXPECT_EQ(filtered.at("status"), "warn");
  EXPECT_EQ(filtered.at("required"), false);
  EXPECT_EQ(result_by_id(doc, "capture:any").at("endpoint"), "");
}

TEST(JsonReport, WritesPhasesAsMillisecondsByName) {
  const auto doc = parse(testdata::sample_report());
  EXPECT_EQ(result_by_id(doc, "tls:login.microsoftonline.com:443").at("phases"),
            json({{"connect", 20.1}, {"tls", 43.3}}));
  EXPECT_EQ(result_by_id(doc, "tcp:contoso.frontend.clouddatahub.net:443").at("phases"),
            json::object());
}

TEST(JsonReport, KeepsFactTypesNumbersAsNumbersAndListsAsArrays) {
  const auto doc = parse(testdata::sample_report());
  const auto& dns = result_by_id(doc, "dns:login.microsoftonline.com").at("facts");
  EXPECT_TRUE(dns.at("ttl").is_number_integer());
  EXPECT_EQ(dns.at("ttl"), 300);
  EXPECT_EQ(dns.at("addresses"), json({"203.0.113.10", "203.0.113.11"}));
  const auto& e2e = result_by_id(doc, "e2e:relay.contoso.local/sales").at("facts");
  EXPECT_TRUE(e2e.at("query_ms").is_number_float());
  EXPECT_EQ(e2e.at("trailer_ok"), false);
  const auto& tls = result_by_id(doc, "tls:login.microsoftonline.com:443").at("facts");
  EXPECT_EQ(tls.at("cert_not_after_unix"), 1767225600);
  EXPECT_EQ(tls.at("issuer"), "CN=Contoso TLS Inspection CA,O=Contoso Ltd");
}

TEST(JsonReport, ListsFindingsWithTheirChecks) {
  const auto doc = parse(testdata::sample_report());
  ASSERT_EQ(doc.at("findings").size(), 4u);
  const auto& warn = doc.at("findings").at(3);
  EXPECT_EQ(warn.at("diagnosis"), "TCP_FILTERED");
  EXPECT_EQ(warn.at("severity"), "warn");
  EXPECT_EQ(warn.at("result_ids"), json({"tcp:contoso-relay.servicebus.windows.net:9350",
                                         "tcp:contoso-relay.servicebus.windows.net:9351"}));
  EXPECT_FALSE(warn.at("advice").get<std::string>().empty());
}

TEST(JsonReport, RepairsInvalidUtf8AndEscapesControlsButKeepsTheText) {
  const std::string out = render_report(ReportFormat::json, testdata::sample_report());
  EXPECT_NE(out.find("\\u001b[31mred\\u001b[0m\\u0007"), std::string::npos);
  const auto doc = json::parse(out);
  const std::string message = result_by_id(doc, "e2e:relay.contoso.local/sales").at("message");
  EXPECT_NE(message.find("\xEF\xBF\xBD naïve Straße 東京"), std::string::npos);
  EXPECT_NE(message.find("</script><script>"), std::string::npos);
  EXPECT_NE(message.find("exist ]]> "), std::string::npos);
  EXPECT_NE(message.find("\nsecond line"), std::string::npos);
}

TEST(JsonReport, ParsesForAHostileReportEvenWithDuplicateIds) {
  const auto doc = parse(testdata::hostile_report());
  EXPECT_EQ(doc.at("results").size(), 16u);
  EXPECT_EQ(doc.at("counts").at("total"), 16);
}

TEST(JsonReport, CompactModeWritesOneLine) {
  const std::string out =
      render_report(ReportFormat::json, testdata::sample_report(), {.compact = true});
  EXPECT_EQ(out.find('\n'), out.size() - 1);
  EXPECT_EQ(json::parse(out), parse(testdata::sample_report()));
}

TEST(JsonReport, DescribesAnInterruptedRunWithNoResults) {
  const auto doc = parse(testdata::empty_report());
  EXPECT_EQ(doc.at("interrupted"), true);
  EXPECT_EQ(doc.at("results"), json::array());
  EXPECT_EQ(doc.at("findings"), json::array());
  EXPECT_EQ(doc.at("counts").at("total"), 0);
}

}  // namespace
}  // namespace gwprobe::reports
