// Each subcommand lives in its own cli/cmd_<name>.cpp and adds itself to the app with an
// add_<name>_command function; `action` is set to what runs when that subcommand is chosen
// and returns the exit code.
#pragma once
#include <functional>

namespace CLI {
class App;
}

namespace folio {

using CommandAction = std::function<int()>;

void add_ocr_command(CLI::App& app, CommandAction& action);
void add_serve_command(CLI::App& app, CommandAction& action);
void add_conformance_command(CLI::App& app, CommandAction& action);
void add_model_command(CLI::App& app, CommandAction& action);
void add_bench_command(CLI::App& app, CommandAction& action);
void add_compare_command(CLI::App& app, CommandAction& action);

}  // namespace folio
