// Keys files: TOML and JSON, every rejection with its position, and the 0600 warning.
#include "gateway/protocol/keys_file.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

namespace gwprobe::gateway::protocol {
namespace {

TEST(KeysFile, ParsesTomlRulesWithTheirRights) {
  auto keys = parse_keys(R"([[rule]]
name = "gateway"
key = "k1"
rights = ["Listen"]

[[rule]]
name = "ops"
key = "k2"
rights = ["send", "MANAGE"]
)",
                         "keys.toml");
  ASSERT_TRUE(keys) << keys.error().message;
  ASSERT_EQ(keys->rules().size(), 2u);
  EXPECT_EQ(keys->find("gateway")->rights, rights_of(Right::listen));
  EXPECT_EQ(keys->find("ops")->rights, rights_of(Right::send) | rights_of(Right::manage));
  EXPECT_EQ(keys->find("ops")->key.reveal(), "k2");
}

TEST(KeysFile, ParsesJsonRules) {
  auto keys = parse_keys(R"({"rules":[{"name":"client","key":"k","rights":["Send"]}]})", "k.json");
  ASSERT_TRUE(keys) << keys.error().message;
  EXPECT_EQ(keys->find("client")->rights, rights_of(Right::send));
}

TEST(KeysFile, RejectsBadInputWithPositionAndWhatWasExpected) {
  struct Case {
    const char* text;
    const char* message;
  };
  const Case cases[] = {
      {"[[rule]]\nname = \"a\"\nkey = \"k\"\nrights = [\"Read\"]\n",
       "keys.toml:4:11: unknown right 'Read' (expected Listen, Send or Manage)"},
      {"[[rule]]\nname = \"a\"\nrights = [\"Send\"]\n",
       "keys.toml:1:1: rule 'a' needs a non-empty 'key'"},
      {"[[rule]]\nname = \"a\"\nkey = \"k\"\n",
       "keys.toml:1:1: rule 'a' needs 'rights' with at least one of Listen, Send, Manage"},
      {"[[rule]]\nname = \"a\"\nkey = \"k\"\nrights = \"Send\"\n",
       "keys.toml:4:10: 'rights' must be an array such as [\"Listen\", \"Send\"]"},
      {"[[rule]]\nname = \"a\"\nkey = \"k\"\nrights = [\"Send\"]\ncolour = 1\n",
       "keys.toml:5:10: unknown key 'colour' in [[rule]] (expected name, key, rights)"},
      {"[server]\nx = 1\n", "keys.toml:1:1: unknown key 'server' (expected [[rule]] tables)"},
      {"", "keys.toml:1:1: no [[rule]] tables: expected at least one"},
      {"[[rule]]\nname = \"a\"\nkey = \"k\"\nrights = [\"Send\"]\n[[rule]]\nname = \"a\"\nkey = "
       "\"j\"\nrights = [\"Send\"]\n",
       "keys.toml:5:1: duplicate rule 'a'"},
  };
  for (const auto& c : cases) {
    auto keys = parse_keys(c.text, "keys.toml");
    ASSERT_FALSE(keys) << c.text;
    EXPECT_EQ(keys.error().message, c.message);
    EXPECT_EQ(keys.error().kind, core::FailureKind::invalid_input);
  }
}

TEST(KeysFile, ATomlSyntaxErrorNamesLineAndColumn) {
  auto keys = parse_keys("[[rule]]\nname = \"a\nkey = 1\n", "bad.toml");
  ASSERT_FALSE(keys);
  EXPECT_EQ(keys.error().message.rfind("bad.toml:2:", 0), 0u) << keys.error().message;
}

TEST(KeysFile, AJsonSyntaxErrorNamesLineAndColumnAndNeverQuotesAKey) {
  auto keys = parse_keys("{\"rules\": [\n  {\"name\": \"a\", \"key\": \"s3cr3t\" \"rights\": []}]}",
                         "k.json");
  ASSERT_FALSE(keys);
  EXPECT_EQ(keys.error().message.rfind("k.json:2:", 0), 0u) << keys.error().message;
  EXPECT_EQ(keys.error().message.find("s3cr3t"), std::string::npos);
  auto semantic = parse_keys(R"({"rules":[{"name":"a","key":"k","rights":["Fly"]}]})", "k.json");
  ASSERT_FALSE(semantic);
  EXPECT_EQ(semantic.error().message,
            "k.json: rules[0]: unknown right 'Fly' (expected Listen, Send or Manage)");
}

TEST(KeysFile, WarnsWhenTheFileIsReadableByOthersAndNotWhen0600) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("gwprobe-keys-" + std::to_string(::getpid()) + ".toml");
  {
    std::ofstream out(path);
    out << "[[rule]]\nname = \"a\"\nkey = \"k\"\nrights = [\"Send\"]\n";
  }
  ::chmod(path.c_str(), 0644);
  auto loose = load_keys_file(path.string());
  ASSERT_TRUE(loose) << loose.error().message;
  ASSERT_EQ(loose->warnings.size(), 1u);
  EXPECT_NE(loose->warnings[0].find("mode 0644"), std::string::npos);
  ::chmod(path.c_str(), 0600);
  auto tight = load_keys_file(path.string());
  ASSERT_TRUE(tight);
  EXPECT_TRUE(tight->warnings.empty());
  std::filesystem::remove(path);
  auto missing = load_keys_file(path.string());
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind, core::FailureKind::not_found);
}

TEST(KeysFile, FormattedKeysParseBackToTheSameRules) {
  KeyRing keys;
  ASSERT_TRUE(keys.add({"gateway", core::Secret(generate_sas_key()), rights_of(Right::listen)}));
  ASSERT_TRUE(keys.add({"client", core::Secret(generate_sas_key()), rights_of(Right::send)}));
  auto again = parse_keys(format_keys_toml(keys), "roundtrip.toml");
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(again->find("gateway")->key, keys.find("gateway")->key);
  EXPECT_EQ(again->find("client")->rights, rights_of(Right::send));
  EXPECT_EQ(keys.find("gateway")->key.reveal().size(), 44u);  // 32 bytes in base64
}

}  // namespace
}  // namespace gwprobe::gateway::protocol
