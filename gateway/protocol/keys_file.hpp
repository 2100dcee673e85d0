// The relay's keys file: named SAS rules, each with a key and rights, in TOML or JSON.
//
//   # TOML                                   // JSON
//   [[rule]]                                 {"rules": [
//   name = "gateway"                           {"name": "gateway", "key": "...",
//   key = "k3y..."                              "rights": ["Listen"]}]}
//   rights = ["Listen"]          # Listen, Send, Manage (Manage implies both)
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "gateway/protocol/sas.hpp"

namespace gwprobe::gateway::protocol {

struct LoadedKeys {
  KeyRing keys;
  /// Not fatal, but the admin should hear it (e.g. the file is readable by others).
  std::vector<std::string> warnings;
};

/// Parses keys-file text. `source_name` prefixes every error ("keys.toml:3:8: ..."). TOML
/// unless the first non-blank character is '{'. Errors never quote a key.
core::Result<KeyRing> parse_keys(std::string_view text, std::string_view source_name);

/// Reads and parses a keys file; warns when its mode grants any group/other permission (it
/// should be 0600).
core::Result<LoadedKeys> load_keys_file(const std::string& path);

/// A TOML keys file for the given rules (keys written verbatim), as `gwprobe relay init` writes.
std::string format_keys_toml(const KeyRing& keys);

/// A fresh random key: 32 CSPRNG bytes in base64, the shape Azure's portal generates.
std::string generate_sas_key();

}  // namespace gwprobe::gateway::protocol
