// `gwprobe codes`: the table of diagnosis codes (the README's table is generated from it).
#include <cstdio>
#include <string>

#include "cli/command.hpp"
#include "core/diagnosis.hpp"

namespace gwprobe::cli {
namespace {

struct CodesOptions {
  bool markdown = false;
};

int run_codes(const CodesOptions& options) {
  if (options.markdown) {
    std::printf("| code | layer | meaning |\n|---|---|---|\n");
    for (const auto& row : core::all_diagnoses()) {
      std::printf("| `%.*s` | %.*s | %.*s |\n", static_cast<int>(row.code.size()), row.code.data(),
                  static_cast<int>(row.layer.size()), row.layer.data(),
                  static_cast<int>(row.meaning.size()), row.meaning.data());
    }
    return exit_code::ready;
  }
  for (const auto& row : core::all_diagnoses()) {
    std::printf("%-22.*s %-10.*s %.*s\n", static_cast<int>(row.code.size()), row.code.data(),
                static_cast<int>(row.layer.size()), row.layer.data(),
                static_cast<int>(row.meaning.size()), row.meaning.data());
  }
  return exit_code::ready;
}

void setup_codes(CLI::App& root, Action& action) {
  auto* sub = root.add_subcommand("codes", "List the diagnosis codes and what each means");
  auto options = std::make_shared<CodesOptions>();
  sub->add_flag("--markdown", options->markdown, "Print a Markdown table");
  sub->callback([options, &action] { action = [options] { return run_codes(*options); }; });
}

const bool registered = register_command({"codes", 90, setup_codes});

}  // namespace
}  // namespace gwprobe::cli
