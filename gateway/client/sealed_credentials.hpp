// Data-source credentials for a query, sealed on this machine to the gateway's public key
// (protocol/sealed.hpp) so that only that gateway can open them: the relay and anything on the
// path see ciphertext.
#pragma once

#include <string>

#include "core/result.hpp"

namespace gwprobe::gateway::client {

/// Reads the gateway's public key (PEM, what `gwprobe gateway keygen` writes to
/// gateway-identity.pub) and the password file (its first line, trailing newline dropped) and seals
/// the password to the key. Fails (not_found / io) naming the file, (invalid_input) when the key is
/// not an X25519 public key or the password file is empty; no message ever holds the password.
core::Result<std::string> seal_credentials_file(const std::string& public_key_file,
                                                const std::string& credentials_file);

}  // namespace gwprobe::gateway::client
