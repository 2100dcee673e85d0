// Prometheus exposition: a strict parser of the 0.0.4 text format checks every output (and is
// itself shown to reject what it must), the values are checked by name, and promtool checks the
// files too when it is installed.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <variant>

#include "reports/escape.hpp"
#include "reports/report_writer.hpp"
#include "reports/testdata/test_support.hpp"
#include "tests/fixtures/exposition_parser.hpp"
#include "tests/fixtures/subprocess.hpp"

namespace gwprobe::reports {
namespace {

using testing::Exposition;
using testing::parse_exposition;
using testing::Sample;

Exposition parsed(const core::RunReport& report) {
  auto result = parse_exposition(render_report(ReportFormat::prometheus, report));
  if (const auto* error = std::get_if<std::string>(&result)) {
    ADD_FAILURE() << *error;
    return {};
  }
  return std::get<Exposition>(result);
}

/// The value of the one sample of `name` whose labels include `labels`.
double value_of(const Exposition& x, const std::string& name,
                const std::map<std::string, std::string>& labels) {
  const Sample* found = nullptr;
  for (const auto& s : x.samples) {
    if (s.name != name) continue;
    bool match = true;
    for (const auto& [k, v] : labels) match = match && s.labels.count(k) && s.labels.at(k) == v;
    if (!match) continue;
    EXPECT_EQ(found, nullptr) << "more than one " << name;
    found = &s;
  }
  if (found == nullptr) {
    ADD_FAILURE() << "no sample " << name;
    return std::nan("");
  }
  return found->value;
}

std::size_t samples_of(const Exposition& x, const std::string& name) {
  std::size_t n = 0;
  for (const auto& s : x.samples) n += s.name == name;
  return n;
}

TEST(ExpositionParser, RejectsWhatTheFormatForbids) {
  const std::pair<const char*, const char*> bad[] = {
      {"a{l=\"x\"y\"} 1\n", "unescaped quote"},
      {"a{l=\"\\t\"} 1\n", "undefined escape"},
      {"a 1\na 2\n", "duplicate series"},
      {"a 1\nb 1\na{x=\"1\"} 1\n", "family split"},
      {"a 1\n# TYPE a gauge\n", "TYPE after samples"},
      {"1a 1\n", "bad metric name"},
      {"a{__x=\"1\"} 1\n", "reserved label name"},
      {"a 1", "no final newline"},
      {"a one\n", "bad value"},
      {"a{l=\"\xff\"} 1\n", "invalid UTF-8"},
      {"# TYPE a gauge\n# TYPE a gauge\n", "second TYPE"},
      {"# TYPE a gauges\n", "unknown type"},
  };
  for (const auto& [text, why] : bad) {
    EXPECT_TRUE(std::holds_alternative<std::string>(parse_exposition(text))) << why;
  }
  EXPECT_TRUE(std::holds_alternative<Exposition>(
      parse_exposition("# HELP a x\\ny\n# TYPE a gauge\na{l=\"q\\\"\\n\\\\\"} +Inf\nb NaN 17\n")));
}

TEST(PrometheusReport, ParsesStrictlyForEveryReport) {
  for (const auto& report : {testdata::sample_report(), testdata::ready_report(),
                             testdata::empty_report(), testdata::hostile_report()}) {
    const auto result = parse_exposition(render_report(ReportFormat::prometheus, report));
    EXPECT_TRUE(std::holds_alternative<Exposition>(result)) << std::get<std::string>(result);
  }
}

TEST(PrometheusReport, EveryFamilyHasHelpAndIsAGauge) {
  const auto x = parsed(testdata::sample_report());
  std::set<std::string> names;
  for (const auto& s : x.samples) names.insert(s.name);
  EXPECT_EQ(names, (std::set<std::string>{
                       "gwprobe_run_info", "gwprobe_run_verdict", "gwprobe_run_interrupted",
                       "gwprobe_run_timestamp_seconds", "gwprobe_run_duration_seconds",
                       "gwprobe_run_checks", "gwprobe_check_success", "gwprobe_check_required",
                       "gwprobe_check_duration_seconds", "gwprobe_phase_seconds",
                       "gwprobe_tls_cert_expiry_timestamp_seconds", "gwprobe_idle_cut_seconds",
                       "gwprobe_diagnosis_info"}));
  for (const auto& name : names) {
    EXPECT_EQ(x.types.count(name) ? x.types.at(name) : "", "gauge") << name;
    EXPECT_FALSE(x.helps.count(name) ? x.helps.at(name).empty() : true) << name;
  }
}

TEST(PrometheusReport, ExposesTheRun) {
  const auto x = parsed(testdata::sample_report());
  EXPECT_EQ(value_of(x, "gwprobe_run_verdict", {{"verdict", "not_ready"}}), 1);
  EXPECT_EQ(value_of(x, "gwprobe_run_verdict", {{"verdict", "ready"}}), 0);
  EXPECT_EQ(value_of(x, "gwprobe_run_verdict", {{"verdict", "degraded"}}), 0);
  EXPECT_DOUBLE_EQ(value_of(x, "gwprobe_run_timestamp_seconds", {}), 1715679000.25);
  EXPECT_DOUBLE_EQ(value_of(x, "gwprobe_run_duration_seconds", {}), 243.2164);
  EXPECT_EQ(value_of(x, "gwprobe_run_checks", {{"status", "fail"}}), 4);
  EXPECT_EQ(value_of(x, "gwprobe_run_checks", {{"status", "pass"}}), 6);
  EXPECT_EQ(value_of(x, "gwprobe_run_interrupted", {}), 0);
  EXPECT_EQ(value_of(x, "gwprobe_run_info", {{"profile", "contoso"}, {"version", "0.1.0"}}), 1);
}

TEST(PrometheusReport, ExposesEachCheckWithItsLabels) {
  const auto x = parsed(testdata::sample_report());
  const std::map<std::string, std::string> tls = {{"check", "tls:login.microsoftonline.com:443"},
                                                  {"kind", "tls"},
                                                  {"target", "login.microsoftonline.com:443"}};
  EXPECT_EQ(samples_of(x, "gwprobe_check_success"), 14u);
  EXPECT_EQ(value_of(x, "gwprobe_check_success", tls), 0);
  EXPECT_EQ(value_of(x, "gwprobe_check_success", {{"check", "dns:login.microsoftonline.com"}}), 1);
  EXPECT_EQ(value_of(x, "gwprobe_check_success",
                     {{"check", "tcp:contoso-relay.servicebus.windows.net:9350"}}),
            0);
  EXPECT_EQ(value_of(x, "gwprobe_check_required",
                     {{"check", "tcp:contoso-relay.servicebus.windows.net:9350"}}),
            0);
  EXPECT_DOUBLE_EQ(value_of(x, "gwprobe_check_duration_seconds", tls), 0.0634);
  auto with_phase = tls;
  with_phase["phase"] = "tls";
  EXPECT_DOUBLE_EQ(value_of(x, "gwprobe_phase_seconds", with_phase), 0.0433);
  auto with_code = tls;
  with_code["code"] = "TLS_INTERCEPTED";
  EXPECT_EQ(value_of(x, "gwprobe_diagnosis_info", with_code), 1);
  EXPECT_EQ(value_of(x, "gwprobe_diagnosis_info",
                     {{"check", "dns:login.microsoftonline.com"}, {"code", "OK"}}),
            1);
}

TEST(PrometheusReport, TakesCertificateExpiryAndIdleCutFromFacts) {
  const auto x = parsed(testdata::sample_report());
  EXPECT_EQ(samples_of(x, "gwprobe_tls_cert_expiry_timestamp_seconds"), 1u);
  EXPECT_EQ(value_of(x, "gwprobe_tls_cert_expiry_timestamp_seconds",
                     {{"check", "tls:login.microsoftonline.com:443"}}),
            1767225600);
  EXPECT_EQ(samples_of(x, "gwprobe_idle_cut_seconds"), 1u);
  EXPECT_EQ(value_of(x, "gwprobe_idle_cut_seconds",
                     {{"check", "idle:contoso-relay.servicebus.windows.net:443"}}),
            240);
}

TEST(PrometheusReport, ReadsNumericFactsGivenAsText) {
  auto report = testdata::ready_report();
  report.results[0].set_fact("cert_not_after_unix", std::string("1767225600"));
  report.results[0].set_fact("idle_cut_seconds", std::string("about four minutes"));
  const auto x = parsed(report);
  EXPECT_EQ(value_of(x, "gwprobe_tls_cert_expiry_timestamp_seconds", {}), 1767225600);
  EXPECT_EQ(samples_of(x, "gwprobe_idle_cut_seconds"), 0u);  // not a number: no sample
}

TEST(PrometheusReport, KeepsSeriesUniqueWhenTwoChecksShareAnId) {
  const auto x = parsed(testdata::hostile_report());
  const std::string id = plain_text(testdata::kHostileMessage, true);
  EXPECT_EQ(value_of(x, "gwprobe_check_required", {{"check", id}}), 1);
  EXPECT_EQ(value_of(x, "gwprobe_check_required", {{"check", id + "#2"}}), 1);
}

TEST(PrometheusReport, RoundTripsHostileLabelValues) {
  const auto x = parsed(testdata::hostile_report());
  const std::string expected = plain_text(testdata::kHostileMessage, true);
  EXPECT_EQ(value_of(x, "gwprobe_run_info", {{"profile", expected}, {"version", expected}}), 1);
}

TEST(PrometheusReport, LeavesOutFamiliesWithoutSamples) {
  const std::string out = render_report(ReportFormat::prometheus, testdata::empty_report());
  EXPECT_EQ(out.find("gwprobe_check_success"), std::string::npos);
  EXPECT_NE(out.find("gwprobe_run_interrupted 1\n"), std::string::npos);
}

/// promtool from Debian's prometheus package (scripts/setup.sh installs it).
TEST(PrometheusReport, PassesPromtoolCheckMetrics) {
  const std::string promtool = testdata::find_tool("/usr/bin/promtool");
  if (promtool.empty()) {
    GTEST_SKIP() << "SKIPPED LOUDLY: /usr/bin/promtool is not installed (Debian package "
                    "prometheus; scripts/setup.sh installs it); the strict parser above still "
                    "checked the format";
  }
  for (const auto& report :
       {testdata::sample_report(), testdata::empty_report(), testdata::hostile_report()}) {
    testing::ProcessOptions options;
    options.stdin_data = render_report(ReportFormat::prometheus, report);
    const auto r = testing::run_process({promtool, "check", "metrics"}, options);
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_EQ(r.out + r.err, "") << "promtool has lint remarks";
  }
}

}  // namespace
}  // namespace gwprobe::reports
