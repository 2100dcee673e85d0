// The demo's sample database: its shape, its row count, byte-for-byte determinism, and atomic
// replacement of an existing file.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "gateway/datasource/datasource.hpp"
#include "gateway/datasource/sqlite_source.hpp"
#include "gateway/datasource/test_support.hpp"

namespace gwprobe::gateway::datasource {
namespace {

using testing::CollectingSink;
using testing::ScratchDir;
using namespace std::chrono_literals;

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

CollectingSink query(const std::string& path, std::string_view sql) {
  CollectingSink sink;
  auto done = SqliteSource("sample", path).run(sql, std::nullopt, sink, core::Deadline::after(30s));
  EXPECT_TRUE(done) << done.error().message;
  return sink;
}

TEST(SampleDatabase, HasTheDocumentedTableAndRowCount) {
  ScratchDir dir("sample-db");
  const std::string path = dir.file("sample.db");
  ASSERT_TRUE(create_sample_database(path, 250));
  auto count = query(path, "SELECT count(*), count(note), min(id), max(id) FROM sample");
  ASSERT_EQ(count.rows.size(), 1u);
  EXPECT_EQ(count.rows[0], (Row{"250", "167", "1", "250"}));  // every third note is NULL

  auto rows = query(path, "SELECT * FROM sample WHERE id IN (1, 3, 7) ORDER BY id");
  EXPECT_EQ(rows.column_names,
            (std::vector<std::string>{"id", "name", "amount", "created", "note"}));
  ASSERT_EQ(rows.rows.size(), 3u);
  EXPECT_EQ(rows.rows[0], (Row{"1", "item-00001", "37.01", "2026-01-01T00:00:00Z", "note 1"}));
  EXPECT_EQ(rows.rows[1], (Row{"3", "item-00003", "111.03", "2026-01-01T02:00:00Z", std::nullopt}));
  EXPECT_EQ(rows.rows[2],
            (Row{"7", "item-00007", "259.07", "2026-01-01T06:00:00Z", "naïve café 7"}));
}

TEST(SampleDatabase, TheSameCountGivesTheSameBytes) {
  ScratchDir dir("sample-db");
  ASSERT_TRUE(create_sample_database(dir.file("a.db"), 1000));
  ASSERT_TRUE(create_sample_database(dir.file("b.db"), 1000));
  const std::string a = read_bytes(dir.file("a.db"));
  EXPECT_FALSE(a.empty());
  EXPECT_EQ(a, read_bytes(dir.file("b.db")));
  ASSERT_TRUE(create_sample_database(dir.file("c.db"), 999));
  EXPECT_NE(a, read_bytes(dir.file("c.db")));
}

TEST(SampleDatabase, ReplacesAnExistingFileAndLeavesNoTemporaryBehind) {
  ScratchDir dir("sample-db");
  const std::string path = dir.file("sample.db");
  { std::ofstream(path) << "an old file"; }
  ASSERT_TRUE(create_sample_database(path, 10));
  EXPECT_EQ(query(path, "SELECT count(*) FROM sample").rows[0], (Row{"10"}));
  ASSERT_TRUE(create_sample_database(path, 0));
  EXPECT_EQ(query(path, "SELECT count(*) FROM sample").rows[0], (Row{"0"}));
  std::size_t files = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    ++files;
  }
  EXPECT_EQ(files, 1u);
}

TEST(SampleDatabase, RejectsANegativeCountAndAnUnwritableDirectory) {
  ScratchDir dir("sample-db");
  auto negative = create_sample_database(dir.file("x.db"), -1);
  ASSERT_FALSE(negative);
  EXPECT_EQ(negative.error().kind, core::FailureKind::invalid_input);
  auto nowhere = create_sample_database(dir.file("no/such/dir/x.db"), 1);
  ASSERT_FALSE(nowhere);
  EXPECT_EQ(nowhere.error().kind, core::FailureKind::io);
}

}  // namespace
}  // namespace gwprobe::gateway::datasource
