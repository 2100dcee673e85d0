// State changes between runs, table by table.
#include "cli/watch/state_changes.hpp"

#include <gtest/gtest.h>

#include "cli/watch/event_log.hpp"

namespace gwprobe::cli::watch {
namespace {

using core::Diagnosis;
using core::Status;

core::ProbeResult result(const std::string& id, Status status, Diagnosis code) {
  core::ProbeResult r;
  r.id = id;
  r.kind = id.substr(0, id.find(':'));
  r.target = id.substr(id.find(':') + 1);
  r.status = status;
  r.diagnosis = code;
  r.message = "message of " + id;
  return r;
}

core::RunReport run(std::vector<core::ProbeResult> results) {
  core::RunReport report;
  report.results = std::move(results);
  return report;
}

TEST(StateChanges, AHealthyFirstRunLogsNothingButReportsWhatAlreadyFails) {
  const auto first = run({result("tcp:a:443", Status::pass, Diagnosis::ok),
                          result("tcp:a:9350", Status::warn, Diagnosis::tcp_filtered)});
  const auto changes = state_changes(nullptr, first);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].check, "tcp:a:9350");
  EXPECT_FALSE(changes[0].from.has_value());
  EXPECT_FALSE(changes[0].from_code.has_value());
  EXPECT_EQ(changes[0].to, Status::warn);
  EXPECT_EQ(changes[0].to_code, Diagnosis::tcp_filtered);
}

TEST(StateChanges, PassToFailAndBackAreBothReportedWithTheirCodes) {
  const auto up = run({result("tcp:a:443", Status::pass, Diagnosis::ok)});
  const auto down = run({result("tcp:a:443", Status::fail, Diagnosis::tcp_refused)});
  const auto broke = state_changes(&up, down);
  ASSERT_EQ(broke.size(), 1u);
  EXPECT_EQ(broke[0].from, Status::pass);
  EXPECT_EQ(broke[0].from_code, Diagnosis::ok);
  EXPECT_EQ(broke[0].to, Status::fail);
  EXPECT_EQ(broke[0].to_code, Diagnosis::tcp_refused);
  EXPECT_EQ(broke[0].message, "message of tcp:a:443");
  const auto healed = state_changes(&down, up);
  ASSERT_EQ(healed.size(), 1u);
  EXPECT_EQ(healed[0].from, Status::fail);
  EXPECT_EQ(healed[0].to, Status::pass);
  EXPECT_EQ(healed[0].to_code, Diagnosis::ok);
}

TEST(StateChanges, AFailureThatChangesItsCauseIsAChangeButTheSameFailureIsNot) {
  const auto filtered = run({result("tcp:a:443", Status::fail, Diagnosis::tcp_filtered)});
  const auto refused = run({result("tcp:a:443", Status::fail, Diagnosis::tcp_refused)});
  EXPECT_EQ(state_changes(&filtered, refused).size(), 1u);
  EXPECT_TRUE(state_changes(&refused, refused).empty());
}

TEST(StateChanges, ChecksAreMatchedByIdNotByPosition) {
  const auto before = run({result("dns:a", Status::pass, Diagnosis::ok),
                           result("tcp:a:443", Status::fail, Diagnosis::tcp_refused)});
  const auto after = run({result("tcp:a:443", Status::fail, Diagnosis::tcp_refused),
                          result("dns:a", Status::pass, Diagnosis::ok)});
  EXPECT_TRUE(state_changes(&before, after).empty());
}

TEST(StateChanges, ANewCheckAfterAReloadIsTreatedAsSeenForTheFirstTime) {
  const auto before = run({result("tcp:a:443", Status::pass, Diagnosis::ok)});
  const auto after = run({result("tcp:a:443", Status::pass, Diagnosis::ok),
                          result("tcp:b:443", Status::fail, Diagnosis::tcp_filtered),
                          result("tcp:c:443", Status::pass, Diagnosis::ok)});
  const auto changes = state_changes(&before, after);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].check, "tcp:b:443");
  EXPECT_FALSE(changes[0].from.has_value());
}

TEST(StateChanges, TheEventCarriesNullsForAFirstSightingAndTheCodesAsReportsWriteThem) {
  const auto before = run({result("tcp:a:443", Status::pass, Diagnosis::ok)});
  const auto after = run({result("tcp:a:443", Status::fail, Diagnosis::tcp_refused)});
  const auto fields = state_change_fields(state_changes(&before, after).at(0));
  EXPECT_EQ(
      fields.dump(),
      R"({"check":"tcp:a:443","kind":"tcp","target":"a:443","required":true,"from":"pass",)"
      R"("to":"fail","from_code":"OK","to_code":"TCP_REFUSED","message":"message of tcp:a:443"})");
  const auto first = state_change_fields(state_changes(nullptr, after).at(0));
  EXPECT_TRUE(first["from"].is_null());
  EXPECT_TRUE(first["from_code"].is_null());
}

}  // namespace
}  // namespace gwprobe::cli::watch
