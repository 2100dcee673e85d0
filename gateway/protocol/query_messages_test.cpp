// Query frames: round trips, rejections, batching sizes, UTF-8 repair and the row digest.
#include "gateway/protocol/query_messages.hpp"

#include <gtest/gtest.h>

#include <string>

namespace gwprobe::gateway::protocol {
namespace {

template <class T>
T parsed_as(const std::string& text) {
  auto m = parse_query_message(text);
  EXPECT_TRUE(m.has_value()) << (m ? "" : m.error().message) << " for " << text;
  if (!m) return T{};
  const T* t = std::get_if<T>(&*m);
  EXPECT_NE(t, nullptr) << text;
  return t != nullptr ? *t : T{};
}

TEST(QueryMessages, ARequestRoundTripsWithItsSealedCredentials) {
  QueryRequest r{"q1", "orders", "SELECT 1", std::string("gwp-sealed-v1:AAAA")};
  const auto back = parsed_as<QueryRequest>(serialize(r));
  EXPECT_EQ(back.id, "q1");
  EXPECT_EQ(back.datasource, "orders");
  EXPECT_EQ(back.sql, "SELECT 1");
  ASSERT_TRUE(back.sealed_credentials.has_value());
  EXPECT_EQ(*back.sealed_credentials, "gwp-sealed-v1:AAAA");
}

TEST(QueryMessages, ARequestWithoutCredentialsOrDatasourceUsesTheDefaults) {
  const auto back = parsed_as<QueryRequest>(R"({"gwprobeQuery":{"id":"x","sql":"SELECT 2"}})");
  EXPECT_EQ(back.datasource, "");
  EXPECT_FALSE(back.sealed_credentials.has_value());
  EXPECT_EQ(serialize(QueryRequest{"x", "", "SELECT 2", {}}).find("credentials"),
            std::string::npos);
}

TEST(QueryMessages, RowsKeepNullsApartFromEmptyStrings) {
  QueryRows rows{"q", {{std::string("1"), std::nullopt, std::string("")}, {}}};
  const auto back = parsed_as<QueryRows>(serialize(rows));
  ASSERT_EQ(back.rows.size(), 2u);
  ASSERT_EQ(back.rows[0].size(), 3u);
  EXPECT_EQ(back.rows[0][0], std::optional<std::string>("1"));
  EXPECT_FALSE(back.rows[0][1].has_value());
  EXPECT_EQ(back.rows[0][2], std::optional<std::string>(""));
  EXPECT_TRUE(back.rows[1].empty());
}

TEST(QueryMessages, ColumnsTrailerAndErrorRoundTrip) {
  EXPECT_EQ(parsed_as<QueryColumns>(serialize(QueryColumns{"q", {"id", "name"}})).names,
            (std::vector<std::string>{"id", "name"}));
  const auto t = parsed_as<QueryTrailer>(serialize(QueryTrailer{"q", 5000, "ab12"}));
  EXPECT_EQ(t.rows, 5000u);
  EXPECT_EQ(t.sha256, "ab12");
  const auto e =
      parsed_as<QueryError>(serialize(QueryError{"q", QueryStage::database, "connection refused"}));
  EXPECT_EQ(e.stage, QueryStage::database);
  EXPECT_EQ(e.message, "connection refused");
}

struct Rejection {
  const char* text;
  const char* message_part;
};

class QueryMessageRejection : public ::testing::TestWithParam<Rejection> {};

TEST_P(QueryMessageRejection, IsAProtocolErrorSayingWhy) {
  const auto m = parse_query_message(GetParam().text);
  ASSERT_FALSE(m.has_value()) << GetParam().text;
  EXPECT_EQ(m.error().kind, core::FailureKind::protocol);
  EXPECT_NE(m.error().message.find(GetParam().message_part), std::string::npos)
      << m.error().message;
}

INSTANTIATE_TEST_SUITE_P(
    Table, QueryMessageRejection,
    ::testing::Values(
        Rejection{"not json", "not valid JSON"}, Rejection{"[]", "one top-level key"},
        Rejection{R"({"rows":{"id":"q","values":[]},"trailer":{}})", "one top-level key"},
        Rejection{R"({"hello":{"id":"q"}})", "unknown message \"hello\""},
        Rejection{R"({"gwprobeQuery":{"sql":"x"}})", "needs a string 'id'"},
        Rejection{R"({"gwprobeQuery":{"id":"q"}})", "needs a string 'sql'"},
        Rejection{R"({"gwprobeQuery":{"id":"q","sql":"x","credentials":5}})",
                  "'credentials' must be a string"},
        Rejection{R"({"columns":{"id":"q","names":[1]}})", "column names must be strings"},
        Rejection{R"({"rows":{"id":"q","values":[[1]]}})", "null or a string"},
        Rejection{R"({"rows":{"id":"q","values":["a"]}})", "a row must be an array"},
        Rejection{R"({"trailer":{"id":"q","rows":-1,"sha256":"x"}})", "non-negative integer"},
        Rejection{R"({"trailer":{"id":"q","rows":1}})", "needs a string 'sha256'"},
        Rejection{R"({"queryError":{"id":"q","stage":"nope"}})", "unknown 'stage'"},
        Rejection{R"({"columns":"q"})", "must be an object"}));

TEST(RowDigest, IsTheSha256OfTheFramedRows) {
  RowDigest empty;
  // SHA-256 of nothing.
  EXPECT_EQ(empty.hex(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  RowDigest one;
  one.add({});
  // SHA-256 of "\n".
  EXPECT_EQ(one.hex(), "01ba4719c80b6fe911b091a7c05124b64eeece964e09c058ef8f9805daca546b");
  EXPECT_EQ(one.rows(), 1u);
}

TEST(RowDigest, TellsApartRowsThatConcatenateAlike) {
  auto digest_of = [](const std::vector<Row>& rows) {
    RowDigest d;
    for (const auto& r : rows) d.add(r);
    return d.hex();
  };
  const Row ab{std::string("ab")};
  const Row a_b{std::string("a"), std::string("b")};
  const Row null_value{std::nullopt};
  const Row empty_value{std::string("")};
  EXPECT_NE(digest_of({ab}), digest_of({a_b}));
  EXPECT_NE(digest_of({null_value}), digest_of({empty_value}));
  EXPECT_NE(digest_of({a_b, ab}), digest_of({ab, a_b}));
  EXPECT_EQ(digest_of({a_b, ab}), digest_of({a_b, ab}));
}

TEST(RowDigest, HexCanBeReadMidwayAndKeepsGrowing) {
  RowDigest d;
  d.add({std::string("1")});
  const std::string first = d.hex();
  EXPECT_EQ(d.hex(), first);
  d.add({std::string("2")});
  EXPECT_NE(d.hex(), first);
  EXPECT_EQ(d.rows(), 2u);
}

TEST(QueryMessages, InvalidUtf8IsRepairedNotFatal) {
  EXPECT_EQ(to_valid_utf8("caf\xC3\xA9"), "caf\xC3\xA9");
  EXPECT_EQ(to_valid_utf8("a\xFF"
                          "b"),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(to_valid_utf8("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");                  // overlong '/'
  EXPECT_EQ(to_valid_utf8("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
  // A row with raw bytes still serializes (nlohmann would throw on invalid UTF-8).
  EXPECT_FALSE(serialize(QueryRows{"q", {{std::string("\xFF")}}}).empty());
}

TEST(QueryMessages, EncodedSizeGrowsWithTheValues) {
  EXPECT_EQ(encoded_size({}), 3u);  // "[]" and a comma
  EXPECT_EQ(encoded_size({std::string("abc"), std::nullopt}),
            std::string(R"(["abc",null])").size() + 1);
}

}  // namespace
}  // namespace gwprobe::gateway::protocol
