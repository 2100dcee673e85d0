// seal_credentials_file: the files it reads, its refusals (never quoting the password), and a
// round trip through the gateway's key.
#include "gateway/client/sealed_credentials.hpp"

#include <gtest/gtest.h>

#include "gateway/protocol/sealed.hpp"
#include "tests/fixtures/scratch_dir.hpp"

namespace gwprobe::gateway::client {
namespace {

constexpr const char* kPassword = "db-password-s3cr3t";

TEST(SealCredentialsFile, RefusesMissingAndEmptyFilesNamingTheFileNotThePassword) {
  testing::ScratchDir dir;
  const auto password = dir.write("password", std::string(kPassword) + "\n");
  const auto empty = dir.write("empty", "\n");
  const auto key = dir.write("gateway.pub", "not a key\n");
  struct Case {
    std::string public_key;
    std::string credentials;
    core::FailureKind kind;
    std::string says;
  };
  const std::vector<Case> cases = {
      {dir.path() + "/missing.pub", password, core::FailureKind::not_found, "missing.pub"},
      {key, dir.path() + "/missing", core::FailureKind::not_found, "missing"},
      {key, empty, core::FailureKind::invalid_input, "is empty"},
  };
  for (const auto& c : cases) {
    const auto sealed = seal_credentials_file(c.public_key, c.credentials);
    ASSERT_FALSE(sealed) << c.says;
    EXPECT_EQ(sealed.error().kind, c.kind) << sealed.error().message;
    EXPECT_NE(sealed.error().message.find(c.says), std::string::npos) << sealed.error().message;
    EXPECT_EQ(sealed.error().describe().find(kPassword), std::string::npos);
  }
}

TEST(SealCredentialsFile, OnlyTheGatewaysKeyOpensWhatItSeals) {
  testing::ScratchDir dir;
  auto pair = protocol::generate_gateway_key();
  ASSERT_TRUE(pair) << pair.error().message;
  const auto public_key = dir.write("gateway.pub", pair->public_pem);
  const auto password = dir.write("password", std::string(kPassword) + "\r\n");
  const auto sealed = seal_credentials_file(public_key, password);
  ASSERT_TRUE(sealed) << sealed.error().message;
  EXPECT_EQ(sealed->rfind("gwp-sealed-v1:", 0), 0u);
  EXPECT_EQ(sealed->find(kPassword), std::string::npos);
  auto key = protocol::GatewayKey::from_pem(pair->private_pem);
  ASSERT_TRUE(key) << key.error().message;
  const auto opened = key->open(*sealed);
  ASSERT_TRUE(opened) << opened.error().message;
  EXPECT_EQ(opened->reveal(), kPassword);  // the line, without its CR LF

  const auto not_a_key = dir.write("bad.pub", "-----BEGIN PUBLIC KEY-----\nAAAA\n");
  const auto refused = seal_credentials_file(not_a_key, password);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().kind, core::FailureKind::invalid_input);
  EXPECT_NE(refused.error().message.find("bad.pub"), std::string::npos);
}

}  // namespace
}  // namespace gwprobe::gateway::client
