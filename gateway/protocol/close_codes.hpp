// WebSocket close codes the relay sends (reference A.4), by meaning.
#pragma once

#include <cstdint>

namespace gwprobe::gateway::protocol::close_code {

inline constexpr std::uint16_t normal = 1000;      ///< listener shut down / done
inline constexpr std::uint16_t going_away = 1001;  ///< peer left, relay shutting down, path gone
inline constexpr std::uint16_t policy_violation = 1008;  ///< token expired or renewToken refused
inline constexpr std::uint16_t message_too_big = 1009;   ///< over the relay's message limit
inline constexpr std::uint16_t internal_error = 1011;    ///< relay error

}  // namespace gwprobe::gateway::protocol::close_code
