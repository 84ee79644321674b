// The `folio` command: one binary, subcommands registered here (ocr, serve, conformance,
// model, bench). Returns the process exit code; errors are printed, never thrown out.
#pragma once

namespace folio {

int cli_main(int argc, char** argv);

}  // namespace folio
