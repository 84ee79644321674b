#include "cli/commands.h"

#include <CLI/CLI.hpp>
#include <cstdio>

#include "core/error.h"

namespace folio {

int cli_main(int argc, char** argv) {
  CLI::App app{"folio: documents to Markdown and JSON with document-OCR models"};
  app.require_subcommand(1);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return 0;
}

}  // namespace folio
