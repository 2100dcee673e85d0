// Test helper: the files under rules/bgp/testdata (captured dumps, route filter shapes).
#pragma once

#include <string>

#include "rules/bgp/source_text.hpp"

namespace gwprobe::rules::bgp::testing {

inline std::string testdata_path(const std::string& name) {
  return std::string(GWPROBE_SOURCE_DIR) + "/rules/bgp/testdata/" + name;
}

/// Reads a testdata file; the source name is the bare file name so messages are stable.
inline SourceText testdata(const std::string& name) {
  auto source = read_source_text(testdata_path(name));
  if (!source) return SourceText{name, "<unreadable: " + source.error().message + ">"};
  source->name = name;
  return *source;
}

}  // namespace gwprobe::rules::bgp::testing
