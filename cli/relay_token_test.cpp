// The tokens the WebSocket and idle checks send are the ones `gwprobe relay` accepts.
#include "cli/relay_token.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>

#include "gateway/protocol/sas.hpp"
#include "tests/fixtures/scratch_dir.hpp"

namespace gwprobe::cli {
namespace {

namespace protocol = gateway::protocol;

std::int64_t now_unix() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

protocol::KeyRing ring(const std::string& key) {
  protocol::KeyRing keys;
  EXPECT_TRUE(
      keys.add({"listener", core::Secret(key), protocol::rights_of(protocol::Right::listen)})
          .has_value());
  return keys;
}

TEST(RelayTokenSource, MintsATokenTheRelayAcceptsForThePathAndRight) {
  testing::ScratchDir dir;
  const auto key_file = dir.write("listener.key", "s3cret-key-material\n");
  auto source = relay_token_source("wss://localhost:9443/$hc/gwprobe-demo?sb-hc-action=listen",
                                   "listener", key_file);
  auto token = source();
  ASSERT_TRUE(token.has_value()) << token.error().message;
  const auto verdict = protocol::verify_sas_token(
      token->token.reveal(), ring("s3cret-key-material"),
      {.entity_path = "gwprobe-demo", .right = protocol::Right::listen, .now_unix = now_unix()});
  EXPECT_TRUE(verdict.ok()) << verdict.reason;
  EXPECT_EQ(token->description.find("s3cret"), std::string::npos);
}

TEST(RelayTokenSource, AWrongKeyIsRefusedByTheRelaysCheck) {
  testing::ScratchDir dir;
  const auto key_file = dir.write("listener.key", "not-the-key");
  auto token = relay_token_source("wss://localhost:9443/$hc/gwprobe-demo", "listener", key_file)();
  ASSERT_TRUE(token.has_value());
  const auto verdict = protocol::verify_sas_token(
      token->token.reveal(), ring("s3cret-key-material"),
      {.entity_path = "gwprobe-demo", .right = protocol::Right::listen, .now_unix = now_unix()});
  EXPECT_EQ(verdict.fault, protocol::TokenFault::bad_signature);
}

TEST(RelayTokenSource, AMissingOrEmptyKeyFileIsAnErrorThatNamesTheFile) {
  testing::ScratchDir dir;
  auto missing = relay_token_source("wss://h/$hc/p", "r", dir.path() + "/nope.key")();
  ASSERT_FALSE(missing.has_value());
  EXPECT_NE(missing.error().message.find("nope.key"), std::string::npos);
  const auto empty_file = dir.write("empty.key", "\n");
  auto empty = relay_token_source("wss://h/$hc/p", "r", empty_file)();
  ASSERT_FALSE(empty.has_value());
  EXPECT_NE(empty.error().message.find("is empty"), std::string::npos);
}

}  // namespace
}  // namespace gwprobe::cli
