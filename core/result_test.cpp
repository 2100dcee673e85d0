#include "core/result.hpp"

#include <gtest/gtest.h>

#include <memory>

namespace gwprobe::core {
namespace {

Result<int> half(int x) {
  if (x % 2) return fail(FailureKind::invalid_input, "odd", "x=" + std::to_string(x));
  return x / 2;
}

TEST(Result, HoldsAValueWhenTheCallSucceeds) {
  auto r = half(8);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, 4);
  EXPECT_EQ(r.value_or(-1), 4);
}

TEST(Result, HoldsTheErrorKindMessageAndCauseWhenTheCallFails) {
  auto r = half(3);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, FailureKind::invalid_input);
  EXPECT_EQ(r.error().describe(), "odd (x=3)");
  EXPECT_EQ(r.value_or(-1), -1);
}

TEST(Result, MovesOnlyTypesThrough) {
  Result<std::unique_ptr<int>> r = std::make_unique<int>(7);
  auto p = std::move(r).value();
  EXPECT_EQ(*p, 7);
}

TEST(Result, VoidResultCarriesOnlySuccessOrError) {
  Result<void> ok;
  EXPECT_TRUE(ok);
  Result<void> bad = fail(FailureKind::timeout, "late");
  ASSERT_FALSE(bad);
  EXPECT_EQ(to_string(bad.error().kind), "timeout");
}

TEST(ResultDeathTest, ReadingTheValueOfAnErrorIsABugThatAborts) {
  auto r = half(1);
  EXPECT_DEATH((void)r.value(), "");
}

TEST(Error, DescribeOmitsAnEmptyOrRepeatedCause) {
  EXPECT_EQ((Error{FailureKind::io, "gone", ""}).describe(), "gone");
  EXPECT_EQ((Error{FailureKind::io, "gone", "gone"}).describe(), "gone");
}

}  // namespace
}  // namespace gwprobe::core
