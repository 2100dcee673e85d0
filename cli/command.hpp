// Subcommand registration and the errors that carry exit codes. Each cli/<name>.cpp registers
// itself, so adding a subcommand touches no shared file.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <stdexcept>
#include <string>

namespace gwprobe::cli {

/// Process exit codes (the user-facing contract; see README "Exit codes").
namespace exit_code {
inline constexpr int ready = 0;          ///< every required check passed
inline constexpr int not_ready = 1;      ///< at least one required check failed
inline constexpr int usage = 2;          ///< bad command line, profile or input file
inline constexpr int internal = 3;       ///< a bug or an unexpected local failure
inline constexpr int interrupted = 130;  ///< Ctrl-C: partial report printed (shell convention)
}  // namespace exit_code

/// Thrown from a run_x() function to stop with a message and an exit code. The message is one
/// line, printed as "gwprobe: <message>" on stderr.
class CliError : public std::runtime_error {
 public:
  CliError(int code, const std::string& message) : std::runtime_error(message), code_(code) {}
  int code() const noexcept { return code_; }

 private:
  int code_;
};

/// Bad input from the user: exit 2.
[[noreturn]] inline void usage_error(const std::string& message) {
  throw CliError(exit_code::usage, message);
}

/// What main() runs once the command line is parsed; returns the exit code.
using Action = std::function<int()>;

/// A subcommand: `setup` adds it to the root app and, in its CLI11 callback, stores the action.
struct CommandRegistration {
  const char* name;
  int order;  ///< position in --help
  void (*setup)(CLI::App& root, Action& action);
};

/// Called from a static initializer in each subcommand's file.
bool register_command(const CommandRegistration& registration);

/// Runs the CLI: parses argv, runs the chosen subcommand, maps every failure to an exit code.
int run_cli(int argc, char** argv);

}  // namespace gwprobe::cli
