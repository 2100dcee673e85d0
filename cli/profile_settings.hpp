// What `check` and `watch` derive alike from their flags and the loaded profile: the --only list,
// the proxy (flags > profile [proxy] > environment) with its report notes, and the relay's SAS
// token source. One place, so the two commands cannot drift apart.
#pragma once

#include <string>
#include <vector>

#include "cli/plan_builder.hpp"
#include "cli/proxy_flags.hpp"
#include "core/report.hpp"
#include "rules/profile.hpp"

namespace gwprobe::cli {

/// "dns,tcp" "tls" -> {"dns", "tcp", "tls"} (repeatable, comma-separated flags; empty pieces
/// dropped).
std::vector<std::string> split_commas(const std::vector<std::string>& items);

/// Sets `plan.proxy`, `plan.relay_token_for`, `plan.relay_send_token_for` and (from [relay]
/// gateway_public_key + credentials_file) `plan.sealed_credentials` for `profile` and appends the
/// proxy notes.
/// Reads the proxy password/credentials files each time (a rotated password is picked up on the
/// next run). Bad input throws CliError (exit 2) with a message that never holds a password.
void apply_profile_settings(const rules::Profile& profile, const ProxyFlags& proxy,
                            PlanSettings& plan, std::vector<core::Note>& notes);

}  // namespace gwprobe::cli
