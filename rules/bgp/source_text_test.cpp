// Input-file helpers: positions, JSON error positions, locating values for messages.
#include "rules/bgp/source_text.hpp"

#include <gtest/gtest.h>

namespace gwprobe::rules::bgp {
namespace {

using Pointer = nlohmann::json::json_pointer;

TEST(SourceText, PositionsCountLinesAndColumnsFromOne) {
  const std::string text = "ab\ncd\n\nef";
  EXPECT_EQ(position_at(text, 0).line, 1);
  EXPECT_EQ(position_at(text, 0).column, 1);
  EXPECT_EQ(position_at(text, 4).line, 2);
  EXPECT_EQ(position_at(text, 4).column, 2);
  EXPECT_EQ(position_at(text, 7).line, 4);
  EXPECT_EQ(position_at(text, 1000).line, 4);  // clamped
}

TEST(SourceText, LocatesNestedJsonValuesForMessages) {
  const SourceText source{"f.json", "{\n  \"a\": [1,\n    {\"b/c\": \"x\"}],\n  \"d\": null\n}"};
  EXPECT_EQ(where(source, Pointer("/a/1/b~1c")), "f.json:3:13");
  EXPECT_EQ(where(source, Pointer("/d")), "f.json:4:8");
  EXPECT_EQ(where(source, Pointer("/a/0")), "f.json:2:9");
  EXPECT_EQ(where(source, Pointer("")), "f.json:1:1");
  EXPECT_EQ(where(source, Pointer("/nope")), "f.json (at /nope)");
}

TEST(SourceText, SkipsStringsWithEscapedQuotesAndBrackets) {
  const SourceText source{"f.json", R"({"a":"x\"]}","b":[{"c":"[{"}],"d":2})"};
  EXPECT_EQ(offset_of(source.text, Pointer("/d")), source.text.rfind('2'));
}

TEST(SourceText, InvalidJsonNamesFileLineAndColumn) {
  auto parsed = parse_json(SourceText{"bad.json", "{\n  \"a\": [1, 2,]\n}"});
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error().kind, core::FailureKind::invalid_input);
  EXPECT_EQ(parsed.error().message.rfind("bad.json:2:14: invalid JSON: syntax error", 0), 0u)
      << parsed.error().message;
}

TEST(SourceText, MissingFilesAreNotFound) {
  auto read = read_source_text("/nonexistent/gwprobe/route-filter.json");
  ASSERT_FALSE(read);
  EXPECT_EQ(read.error().kind, core::FailureKind::not_found);
  EXPECT_EQ(read.error().message, "/nonexistent/gwprobe/route-filter.json: no such file");
}

TEST(SourceText, FilesOverTheLimitAreRefused) {
  auto read = read_source_text(std::string(GWPROBE_SOURCE_DIR) + "/README.md", 10);
  ASSERT_FALSE(read);
  EXPECT_EQ(read.error().kind, core::FailureKind::invalid_input);
}

TEST(SourceText, FindsKeysCaseInsensitively) {
  const auto object = nlohmann::json::parse(R"({"Rules": [1], "name": "x"})");
  ASSERT_NE(find_key(object, "rules"), nullptr);
  EXPECT_EQ(find_key(object, "rules")->size(), 1u);
  EXPECT_EQ(find_key(object, "missing"), nullptr);
}

}  // namespace
}  // namespace gwprobe::rules::bgp
