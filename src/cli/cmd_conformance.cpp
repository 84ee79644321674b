#include <CLI/CLI.hpp>

#include "cli/command.h"

namespace folio {

// Not written yet: the subcommand is registered so --help lists it, and says so when run.
void add_conformance_command(CLI::App& app, CommandAction& action) {
  auto* cmd = app.add_subcommand("conformance", "(not available in this build yet)");
  cmd->allow_extras();
  cmd->callback([&action] { action = [] { std::fprintf(stderr, "folio conformance: not implemented yet\n"); return 2; }; });
}

}  // namespace folio
