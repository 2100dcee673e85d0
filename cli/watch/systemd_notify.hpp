// The sd_notify(3) protocol without libsystemd: one datagram to $NOTIFY_SOCKET, so that a
// Type=notify unit knows when watch is listening, reloading and stopping.
#pragma once

#include <string>
#include <string_view>

namespace gwprobe::cli::watch {

/// Sends `state` ("READY=1", "RELOADING=1", "STOPPING=1", "STATUS=...") to the socket named by
/// $NOTIFY_SOCKET (a path, or "@name" for the abstract namespace). False when the variable is
/// unset (not run by systemd) or the send failed; never throws, never blocks.
bool notify_systemd(std::string_view state);

/// The same with an explicit socket name (tests).
bool notify_socket(const std::string& socket_name, std::string_view state);

}  // namespace gwprobe::cli::watch
