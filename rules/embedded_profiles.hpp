// The profiles compiled into the binary. The definition is generated at build time from
// rules/profiles/*.toml by rules/embed_profiles.cmake (the bytes are the files' bytes).
#pragma once

#include <span>
#include <string_view>

namespace gwprobe::rules {

struct EmbeddedProfile {
  std::string_view name;  ///< file name without ".toml": "public"
  std::string_view text;  ///< the file's exact bytes
};

/// Every embedded profile, sorted by name.
std::span<const EmbeddedProfile> embedded_profiles() noexcept;

}  // namespace gwprobe::rules
