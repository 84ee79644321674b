#include "cli/commands.h"

#include <CLI/CLI.hpp>
#include <cstdio>

#include "cli/command.h"
#include "core/error.h"

namespace folio {

int cli_main(int argc, char** argv) {
  CLI::App app{"folio: documents to Markdown and JSON with document-OCR models"};
  app.require_subcommand(1);
  CommandAction action;
  // ocr and serve need the I/O and server layers, which only the full build has
  // (FOLIO_FULL=OFF, e.g. the GPU machine, builds the model-only commands below).
#if FOLIO_CLI_FULL
  add_ocr_command(app, action);
  add_serve_command(app, action);
#endif
  add_conformance_command(app, action);
  add_model_command(app, action);
  add_bench_command(app, action);
  add_compare_command(app, action);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    return action ? action() : 0;
  } catch (const Error& e) {
    std::fprintf(stderr, "folio: %s\n", e.what());
    return e.kind() == ErrorKind::kInternal ? 70 : 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "folio: internal error: %s\n", e.what());
    return 70;
  }
}

}  // namespace folio
