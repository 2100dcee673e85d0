// `gwprobe probe KIND TARGET`: each kind registers its own sub-subcommand from
// cli/probe_<kind>.cpp.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>

#include "core/result.hpp"
#include "probes/probe.hpp"

namespace gwprobe::cli {

/// Builds the probe spec once the command line is parsed (validation errors -> usage_error).
using SpecBuilder = std::function<probes::ProbeSpec()>;

struct ProbeKindRegistration {
  const char* name;
  int order;
  /// Adds the kind's flags and positional TARGET to `command` and stores a spec builder.
  void (*setup)(CLI::App& command, SpecBuilder& build);
};

bool register_probe_kind(const ProbeKindRegistration& registration);

}  // namespace gwprobe::cli
