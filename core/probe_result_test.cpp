#include "core/probe_result.hpp"

#include <gtest/gtest.h>

#include <set>
#include <sstream>

#include "core/diagnosis.hpp"
#include "core/report.hpp"
#include "core/secret.hpp"

namespace gwprobe::core {
namespace {
using namespace std::chrono_literals;

TEST(DiagnosisTable, HasOneRowPerEnumeratorInDeclarationOrder) {
  const auto all = all_diagnoses();
  for (std::size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(static_cast<std::size_t>(all[i].diagnosis), i) << all[i].code;
  }
  EXPECT_EQ(all.back().diagnosis, Diagnosis::skipped);
}

TEST(DiagnosisTable, CodesAreUniqueUpperCaseAndRoundTrip) {
  std::set<std::string_view> seen;
  for (const auto& row : all_diagnoses()) {
    EXPECT_TRUE(seen.insert(row.code).second) << row.code;
    for (char c : row.code)
      EXPECT_TRUE((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_') << row.code;
    EXPECT_EQ(diagnosis_from_code(row.code), row.diagnosis);
    EXPECT_FALSE(row.meaning.empty());
  }
  EXPECT_FALSE(diagnosis_from_code("NOPE"));
}

TEST(DiagnosisTable, KeepsTheDesignsStableStrings) {
  // Users script against these; renaming one is a breaking change.
  for (const char* code : {"OK",
                           "DNS_NXDOMAIN",
                           "DNS_TIMEOUT",
                           "DNS_SERVFAIL",
                           "DNS_REFUSED",
                           "DNS_PRIVATE_ANSWER",
                           "DNS_MISMATCH",
                           "TCP_FILTERED",
                           "TCP_REFUSED",
                           "TCP_UNREACHABLE",
                           "PROXY_UNREACHABLE",
                           "PROXY_AUTH_REQUIRED",
                           "PROXY_AUTH_FAILED",
                           "PROXY_CONNECT_DENIED",
                           "TLS_HANDSHAKE_FAILED",
                           "TLS_VERSION_TOO_OLD",
                           "TLS_INTERCEPTED",
                           "TLS_UNTRUSTED",
                           "TLS_CERT_EXPIRED",
                           "TLS_NAME_MISMATCH",
                           "WS_UPGRADE_STRIPPED",
                           "WS_UPGRADE_DENIED",
                           "WS_FRAMES_BLOCKED",
                           "IDLE_CUT",
                           "RELAY_AUTH_FAILED",
                           "RELAY_NO_LISTENER",
                           "E2E_QUERY_FAILED",
                           "E2E_RESULT_CORRUPT",
                           "BGP_COMMUNITY_MISSING",
                           "BGP_UNKNOWN_GEOGRAPHY",
                           "FW_BLOCKS_REQUIRED"}) {
    EXPECT_TRUE(diagnosis_from_code(code)) << code;
  }
}

TEST(ProbeResult, PhasesAndFactsKeepFirstInsertionOrderAndReplaceInPlace) {
  ProbeResult r;
  r.set_phase(phase::resolve, 2ms);
  r.set_phase(phase::connect, 5ms);
  r.set_phase(phase::resolve, 3ms);
  ASSERT_EQ(r.phases.size(), 2u);
  EXPECT_EQ(r.phases[0].name, "resolve");
  EXPECT_EQ(r.phases[0].duration, 3ms);
  r.set_fact("addresses", std::vector<std::string>{"10.0.0.1", "::1"});
  r.set_fact("ttl", std::int64_t{30});
  r.set_fact("addresses", std::vector<std::string>{"10.0.0.2"});
  EXPECT_EQ(r.facts.front().key, "addresses");
  EXPECT_EQ(r.fact_text("addresses"), "10.0.0.2");
  EXPECT_EQ(r.fact_text("ttl"), "30");
  EXPECT_EQ(r.fact_text("missing"), "");
}

TEST(ProbeResult, StatusForMakesOptionalFailuresWarnings) {
  EXPECT_EQ(status_for(Diagnosis::ok, true), Status::pass);
  EXPECT_EQ(status_for(Diagnosis::tcp_filtered, true), Status::fail);
  EXPECT_EQ(status_for(Diagnosis::tcp_filtered, false), Status::warn);
}

TEST(RunReport, CountsByStatus) {
  std::vector<ProbeResult> results(5);
  results[0].status = Status::pass;
  results[1].status = Status::pass;
  results[2].status = Status::warn;
  results[3].status = Status::fail;
  results[4].status = Status::skip;
  const auto c = count_results(results);
  EXPECT_EQ(c.pass, 2);
  EXPECT_EQ(c.warn, 1);
  EXPECT_EQ(c.fail, 1);
  EXPECT_EQ(c.skip, 1);
  EXPECT_EQ(c.total(), 5);
}

TEST(Secret, PrintsAsStarsAndRevealsOnlyOnRequest) {
  Secret s("hunter2");
  std::ostringstream os;
  os << s;
  EXPECT_EQ(os.str(), "***");
  EXPECT_EQ(s.reveal(), "hunter2");
}

}  // namespace
}  // namespace gwprobe::core
