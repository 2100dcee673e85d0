// Plan building with only_ids: the checks asked for plus what they depend on, renumbered.
#include "cli/plan_builder.hpp"

#include <gtest/gtest.h>

namespace gwprobe::cli {
namespace {

rules::Profile two_endpoint_profile() {
  auto profile = rules::parse_profile(
      "name = \"p\"\n[tls]\nca_file = \"/nonexistent/ca.pem\"\n"
      "[[endpoint]]\nname = \"A\"\nhost = \"a.example.test\"\nports = [443, 9350]\ntls = true\n"
      "[[endpoint]]\nname = \"B\"\nhost = \"b.example.test\"\nports = [443]\n",
      "p.toml");
  EXPECT_TRUE(profile.has_value()) << profile.error().message;
  return *profile;
}

std::vector<std::string> ids(const std::vector<probes::ProbeSpec>& plan) {
  std::vector<std::string> out;
  for (const auto& spec : plan) out.push_back(spec.id);
  return out;
}

TEST(PlanOnlyIds, KeepsTheCheckAndWhatItDependsOnInPlanOrder) {
  PlanSettings settings;
  settings.only_ids = {"tls:a.example.test:9350"};
  const auto plan = build_plan(two_endpoint_profile(), settings);
  ASSERT_TRUE(plan.has_value()) << plan.error().message;
  EXPECT_EQ(ids(*plan), (std::vector<std::string>{"dns:a.example.test", "tcp:a.example.test:9350",
                                                  "tls:a.example.test:9350"}));
  EXPECT_TRUE((*plan)[0].depends_on.empty());
  EXPECT_EQ((*plan)[1].depends_on, std::vector<std::size_t>{0});
  EXPECT_EQ((*plan)[2].depends_on, std::vector<std::size_t>{1});
}

TEST(PlanOnlyIds, ACheckWithoutDependenciesRunsAlone) {
  PlanSettings settings;
  settings.only_ids = {"dns:b.example.test"};
  const auto plan = build_plan(two_endpoint_profile(), settings);
  ASSERT_TRUE(plan.has_value());
  EXPECT_EQ(ids(*plan), std::vector<std::string>{"dns:b.example.test"});
}

TEST(PlanOnlyIds, AnUnknownIdIsNotFoundAndNamesTheKnownOnes) {
  PlanSettings settings;
  settings.only_ids = {"tcp:a.example.test:444"};
  const auto plan = build_plan(two_endpoint_profile(), settings);
  ASSERT_FALSE(plan.has_value());
  EXPECT_EQ(plan.error().kind, core::FailureKind::not_found);
  EXPECT_EQ(plan.error().message,
            "unknown check 'tcp:a.example.test:444' (the profile's checks: dns:a.example.test, "
            "tcp:a.example.test:443, tls:a.example.test:443, tcp:a.example.test:9350, "
            "tls:a.example.test:9350, dns:b.example.test, tcp:b.example.test:443)");
}

TEST(PlanOnlyIds, WithoutIdsThePlanIsWhole) {
  const auto plan = build_plan(two_endpoint_profile(), PlanSettings{});
  ASSERT_TRUE(plan.has_value());
  EXPECT_EQ(plan->size(), 7u);
}

}  // namespace
}  // namespace gwprobe::cli
