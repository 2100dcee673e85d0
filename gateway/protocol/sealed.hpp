// Data-source credentials sealed to a gateway's own key pair, so that they travel (in a query)
// and rest (in the data-sources file) only encrypted, and the relay never sees them in clear.
// X25519 key agreement with an ephemeral key, HKDF-SHA256, AES-256-GCM (an ECIES construction,
// like libsodium's sealed boxes): anyone with the public key can seal, only the gateway opens.
#pragma once

#include <string>
#include <string_view>

#include "core/result.hpp"
#include "core/secret.hpp"

namespace gwprobe::gateway::protocol {

/// A gateway key pair as PEM text: the private key (PKCS#8) and the public key (SPKI).
struct GatewayKeyPair {
  core::Secret private_pem;
  std::string public_pem;
};

/// A fresh X25519 key pair. Fails (internal) only if OpenSSL does.
core::Result<GatewayKeyPair> generate_gateway_key();

/// Seals `plaintext` to the X25519 public key in `public_pem`. The result is printable:
/// "gwp-sealed-v1:" + base64(ephemeral public key 32 | nonce 12 | ciphertext | tag 16).
/// Fails (invalid_input) when the PEM is not an X25519 public key.
core::Result<std::string> seal(std::string_view public_pem, const core::Secret& plaintext);

/// The gateway's private key, loaded once and used to open sealed credentials.
class GatewayKey {
 public:
  /// Parses a PKCS#8 X25519 private key. Fails (invalid_input) on anything else; the message
  /// never quotes the key.
  static core::Result<GatewayKey> from_pem(const core::Secret& private_pem);
  /// Reads the key file (io / not_found errors name the path, never the contents).
  static core::Result<GatewayKey> load(const std::string& path);

  /// The matching public key, PEM (what `gwprobe gateway keygen` writes to gateway.pub).
  const std::string& public_pem() const { return public_pem_; }

  /// Opens a value from seal(). Fails (auth) when it was sealed to another key or tampered
  /// with, (invalid_input) when it is not a sealed value at all.
  core::Result<core::Secret> open(std::string_view sealed) const;

 private:
  core::Secret private_pem_;
  std::string public_pem_;
};

}  // namespace gwprobe::gateway::protocol
