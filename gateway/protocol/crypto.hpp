// The few OpenSSL primitives the relay protocol needs: HMAC-SHA256, base64, random bytes and a
// constant-time compare. Kept apart so SAS tokens and capability URLs share one implementation.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace gwprobe::gateway::protocol {

/// HMAC-SHA256 of `message` under `key` (raw bytes in, 32 raw bytes out).
std::string hmac_sha256(std::string_view key, std::string_view message);

/// Standard base64 with padding (RFC 4648 section 4), as Node's and .NET's SAS code produce.
std::string base64_encode(std::string_view bytes);
/// Strict standard base64 decoding; nullopt on any character outside the alphabet or bad padding.
std::optional<std::string> base64_decode(std::string_view text);

/// Lower-case hex of raw bytes.
std::string hex_encode(std::string_view bytes);

/// `count` bytes from OpenSSL's CSPRNG. Aborts if the CSPRNG fails: a relay must never hand out
/// guessable capability URLs or keys.
std::string random_bytes(std::size_t count);

/// Equal length and equal bytes, in time that depends only on the length (CRYPTO_memcmp).
bool constant_time_equal(std::string_view a, std::string_view b);

/// A random RFC 4122 version-4 GUID, "8-4-4-4-12" lower-case hex.
std::string random_guid();

}  // namespace gwprobe::gateway::protocol
