#include "backend/backend.h"

#include "core/error.h"

namespace folio {

std::unique_ptr<Backend> make_cpu_backend();
#ifdef FOLIO_HAVE_CUDA
std::unique_ptr<Backend> make_cuda_backend();
#endif

void Backend::linear_then(const Tensor& x, const Tensor& w, const Tensor* bias, LinearThen then, Tensor& y) {
  if (then != LinearThen::kAddTo) {
    linear(x, w, bias, y);
    if (then == LinearThen::kGeluErf) gelu_erf(y);
    else quick_gelu(y);
    return;
  }
  Shape s = x.shape();
  s.back() = w.dim(0);
  Tensor t = empty(s, x.dtype());  // the activations' own dtype (the vision encoder's may differ)
  linear(x, w, bias, t);
  add(y, t, y);
}

void Backend::mlp_add(const Tensor& x, const Tensor& w1, const Tensor* b1, LinearThen act, const Tensor& w2,
                      const Tensor* b2, Tensor& y) {
  Shape s = x.shape();
  s.back() = w1.dim(0);
  Tensor t = empty(s, x.dtype());
  linear_then(x, w1, b1, act, t);
  linear_then(t, w2, b2, LinearThen::kAddTo, y);
}

std::unique_ptr<Backend> make_backend(const std::string& device) {
  if (device == "cpu") return make_cpu_backend();
  if (device == "cuda" || device.rfind("cuda:", 0) == 0) {
#ifdef FOLIO_HAVE_CUDA
    return make_cuda_backend();
#else
    throw unavailable("device '" + device + "': this build has no CUDA backend (configure with -DFOLIO_CUDA=ON)");
#endif
  }
  throw invalid_input("unknown device '" + device + "' (expected cpu or cuda)");
}

}  // namespace folio
