#include <unistd.h>

#include <cstdlib>

#include "backend/cpu/gemm.h"
#include "cli/commands.h"

int main(int argc, char** argv) {
  // OpenBLAS picks its kernels when it is loaded (OpenCV loads it before main), and under some
  // hypervisors it misreads AVX-512 CPUs as ancient ones (5x slower products). Naming the
  // kernel family needs the variable set before load: re-run ourselves once with it.
  if (const char* core = folio::cpu::preferred_blas_coretype(); *core && !std::getenv("FOLIO_NO_REEXEC")) {
    setenv("OPENBLAS_CORETYPE", core, 1);
    setenv("FOLIO_NO_REEXEC", "1", 1);
    execv("/proc/self/exe", argv);  // only returns on failure; then carry on as we are
  }
  return folio::cli_main(argc, argv);
}
