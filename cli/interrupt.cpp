// Signal handlers that only touch the pre-allocated cancel state.
#include "cli/interrupt.hpp"

#include <signal.h>

#include <optional>

namespace gwprobe::cli {

namespace {
// The handler may only touch what exists before the signal arrives: a token copy made up front.
std::optional<core::CancelToken> g_token;  // NOLINT: signal handlers need a global
struct sigaction g_old_int {};
struct sigaction g_old_term {};

extern "C" void on_interrupt(int /*signal*/) {
  if (g_token) g_token->cancel();
}
}  // namespace

InterruptScope::InterruptScope(const core::CancelToken& token) {
  g_token = token;
  struct sigaction action {};
  action.sa_handler = on_interrupt;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESETHAND;  // the second Ctrl-C gets the default action: exit now
  ::sigaction(SIGINT, &action, &g_old_int);
  ::sigaction(SIGTERM, &action, &g_old_term);
}

InterruptScope::~InterruptScope() {
  ::sigaction(SIGINT, &g_old_int, nullptr);
  ::sigaction(SIGTERM, &g_old_term, nullptr);
}

}  // namespace gwprobe::cli
