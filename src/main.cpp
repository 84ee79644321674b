#include "cli/commands.h"

int main(int argc, char** argv) { return folio::cli_main(argc, argv); }
