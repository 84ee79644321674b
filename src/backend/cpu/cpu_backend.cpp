// placeholder, replaced by the CPU backend
#include "backend/backend.h"
#include "core/error.h"
namespace folio {
std::unique_ptr<Backend> make_cpu_backend() { throw unavailable("cpu backend not built yet"); }
}  // namespace folio
