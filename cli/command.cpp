// The command registry and the one place where parse errors and exceptions become exit codes.
#include "cli/command.hpp"

#include <algorithm>
#include <cstdio>
#include <exception>
#include <vector>

#include "core/version.hpp"

namespace gwprobe::cli {

namespace {
std::vector<CommandRegistration>& registry() {
  static std::vector<CommandRegistration> commands;
  return commands;
}
}  // namespace

bool register_command(const CommandRegistration& registration) {
  registry().push_back(registration);
  return true;
}

int run_cli(int argc, char** argv) {
  CLI::App app{
      "gwprobe: can this machine keep an outbound connection to the data gateway's cloud relay?\n"
      "Checks DNS, TCP egress, proxies, TLS (and inspection), WebSocket upgrade, idle timeouts\n"
      "and ExpressRoute communities, and says what broke where and what to change.",
      "gwprobe"};
  app.set_version_flag("--version", std::string("gwprobe ") + core::kVersion);
  app.require_subcommand(1);
  app.fallthrough(false);

  auto commands = registry();
  std::sort(commands.begin(), commands.end(),
            [](const auto& a, const auto& b) { return a.order < b.order; });
  Action action;
  for (const auto& command : commands) command.setup(app, action);

  // CLI11 reports an unknown first word as "a subcommand is required"; name it instead.
  if (argc > 1 && argv[1][0] != '-') {
    const std::string first = argv[1];
    const bool known = std::any_of(commands.begin(), commands.end(),
                                   [&](const auto& c) { return first == c.name; });
    if (!known) {
      std::fprintf(stderr, "gwprobe: unknown command '%s'. Run 'gwprobe --help'.\n", argv[1]);
      return exit_code::usage;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "gwprobe: %s\nRun 'gwprobe --help' (or 'gwprobe COMMAND --help').\n",
                 e.what());
    return exit_code::usage;
  } catch (const CliError& e) {
    std::fprintf(stderr, "gwprobe: %s\n", e.what());
    return e.code();
  }

  if (!action) {
    std::fprintf(stderr, "gwprobe: no command given. Run 'gwprobe --help'.\n");
    return exit_code::usage;
  }
  try {
    return action();
  } catch (const CliError& e) {
    std::fprintf(stderr, "gwprobe: %s\n", e.what());
    return e.code();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "gwprobe: internal error: %s\n", e.what());
    return exit_code::internal;
  } catch (...) {
    std::fprintf(stderr, "gwprobe: internal error\n");
    return exit_code::internal;
  }
}

}  // namespace gwprobe::cli
