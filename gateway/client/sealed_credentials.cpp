// Reading and sealing a query's data-source password.
#include "gateway/client/sealed_credentials.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/secret.hpp"
#include "core/secret_file.hpp"
#include "gateway/protocol/sealed.hpp"

namespace gwprobe::gateway::client {

namespace {

/// A public key or a one-line password: anything larger is not what was meant.
constexpr std::uintmax_t kMaxFileBytes = std::uintmax_t{64} * 1024;

core::Result<std::string> read_small_file(const std::string& path, const char* what) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return core::fail(core::FailureKind::not_found,
                      std::string(what) + " " + path + " does not exist or is not a file");
  }
  if (std::filesystem::file_size(path, ec) > kMaxFileBytes) {
    return core::fail(core::FailureKind::invalid_input,
                      std::string(what) + " " + path + " is too large");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return core::fail(core::FailureKind::io, std::string("cannot read ") + what + " " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

core::Result<std::string> seal_credentials_file(const std::string& public_key_file,
                                                const std::string& credentials_file) {
  auto public_pem = read_small_file(public_key_file, "the gateway public key");
  if (!public_pem) return core::fail(public_pem.error());
  auto password = core::read_secret_file(credentials_file, "the credentials file");
  if (!password) return core::fail(password.error());
  auto sealed = protocol::seal(*public_pem, *password);
  if (!sealed) {
    return core::fail(sealed.error().kind, "cannot seal the credentials to " + public_key_file +
                                               ": " + sealed.error().message);
  }
  return sealed;
}

}  // namespace gwprobe::gateway::client
