// cuBLASLt plans for y[M,N] = x[M,K] · w[N,K]^T (+ bias), cached per shape, dtypes and pointer
// alignment so the heuristic query runs once per distinct call site shape.
// Row-major y = x w^T is column-major y^T (N x M) = op_T(w as K x N) · (x as K x M).
#pragma once
#include <cublasLt.h>

#include <cstdint>
#include <map>
#include <tuple>

namespace folio::cuda {

struct LinearKey {
  int64_t m, n, k;
  int x_type, w_type, y_type, bias_type;  // cudaDataType_t; bias_type -1 = no bias epilogue
  int align_x, align_w, align_y;          // bytes, power of two <= 256
  auto tie() const { return std::tie(m, n, k, x_type, w_type, y_type, bias_type, align_x, align_w, align_y); }
  bool operator<(const LinearKey& o) const { return tie() < o.tie(); }
};

struct LinearPlan {
  cublasLtMatmulDesc_t op = nullptr;
  cublasLtMatrixLayout_t a = nullptr, b = nullptr, c = nullptr;
  cublasLtMatmulAlgo_t algo{};
  bool found = false;  // false: cuBLASLt has no algorithm for this combination
};

class LinearPlans {
 public:
  LinearPlans() = default;
  ~LinearPlans();
  LinearPlans(const LinearPlans&) = delete;
  LinearPlans& operator=(const LinearPlans&) = delete;
  // Returns the cached plan, creating it (heuristic query) on first use.
  LinearPlan& get(cublasLtHandle_t lt, const LinearKey& key, size_t workspace_bytes);

 private:
  std::map<LinearKey, LinearPlan> plans_;
};

}  // namespace folio::cuda
