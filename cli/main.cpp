// gwprobe's entry point: the CLI app and exit-code mapping, nothing else.
#include "cli/command.hpp"

int main(int argc, char** argv) {
  return gwprobe::cli::run_cli(argc, argv);
}
