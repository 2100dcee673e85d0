// SharedLibrary: functions bound from a library that opens; a missing library or function is an
// Error that says what to install, never a crash at the first call.
#include "core/shared_library.hpp"

#include <gtest/gtest.h>

#include <cstring>

namespace gwprobe::core {
namespace {

TEST(SharedLibrary, BindsFunctionsOfALibraryThatOpens) {
  SharedLibrary libc("libc.so.6", "libc6");
  decltype(&std::strlen) strlen_fn = nullptr;
  libc.bind(strlen_fn, "strlen");
  ASSERT_FALSE(libc.error().has_value());
  ASSERT_NE(strlen_fn, nullptr);
  EXPECT_EQ(strlen_fn("gwprobe"), 7u);
}

TEST(SharedLibrary, AMissingLibraryNamesItAndThePackageToInstall) {
  SharedLibrary missing("libgwprobe-no-such-library.so.9", "gwprobe-no-such-package");
  decltype(&std::strlen) fn = &std::strlen;
  missing.bind(fn, "strlen");
  EXPECT_EQ(fn, nullptr);
  const auto error = missing.error();
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->kind, FailureKind::unsupported);
  EXPECT_NE(error->message.find("cannot load libgwprobe-no-such-library.so.9"), std::string::npos)
      << error->message;
  EXPECT_NE(error->message.find("install the gwprobe-no-such-package package"), std::string::npos)
      << error->message;
  EXPECT_NE(error->cause.find("libgwprobe-no-such-library.so.9"), std::string::npos)
      << error->cause;
}

TEST(SharedLibrary, AMissingFunctionIsReportedWithItsName) {
  SharedLibrary libc("libc.so.6", "libc6");
  decltype(&std::strlen) present = nullptr;
  decltype(&std::strlen) absent = &std::strlen;
  libc.bind(absent, "gwprobe_no_such_function");
  libc.bind(present, "strlen");
  EXPECT_EQ(absent, nullptr);
  EXPECT_NE(present, nullptr);
  const auto error = libc.error();
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->kind, FailureKind::unsupported);
  EXPECT_NE(error->message.find("libc.so.6 is too old"), std::string::npos) << error->message;
  EXPECT_NE(error->cause.find("gwprobe_no_such_function"), std::string::npos) << error->cause;
}

struct StrlenApi {
  decltype(&std::strlen) strlen = nullptr;
};
int opened = 0;
Result<const StrlenApi*> open_strlen_api() {
  ++opened;
  static StrlenApi api;
  SharedLibrary libc("libc.so.6", "libc6");
  libc.bind(api.strlen, "strlen");
  if (auto error = libc.error()) return fail(std::move(*error));
  return &api;
}
int missing_opened = 0;
Result<const StrlenApi*> open_missing_api() {
  ++missing_opened;
  static StrlenApi api;
  SharedLibrary lib("libgwprobe-no-such-library.so.9", "gwprobe-no-such-package");
  lib.bind(api.strlen, "strlen");
  if (auto error = lib.error()) return fail(std::move(*error));
  return &api;
}

TEST(SharedLibrary, ATableIsOpenedOnceAndEveryCallGetsTheSameAnswer) {
  const auto& first = load_once<StrlenApi, open_strlen_api>();
  const auto& second = load_once<StrlenApi, open_strlen_api>();
  ASSERT_TRUE(first);
  EXPECT_EQ(&first, &second);
  EXPECT_EQ(opened, 1);
  EXPECT_EQ((loaded_table<StrlenApi, open_strlen_api>().strlen("abc")), 3u);

  const auto& failed = load_once<StrlenApi, open_missing_api>();
  ASSERT_FALSE(failed);
  EXPECT_NE(failed.error().message.find("cannot load"), std::string::npos);
  EXPECT_FALSE((load_once<StrlenApi, open_missing_api>()));
  EXPECT_EQ(missing_opened, 1);  // a missing library is not looked for again on every call
}

}  // namespace
}  // namespace gwprobe::core
