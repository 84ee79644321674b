// linear via cuBLASLt: bf16 x bf16 -> bf16/f32 or f16 x f16 -> f16/f32 (the vision encoder) with
// fp32 accumulation (CUBLAS_COMPUTE_32F), or f32 x f32 -> f32 in full fp32. A weight of another
// dtype than the 16-bit activations is converted into scratch per call: correct but slow, meant
// for small tables, not the model's GEMMs (the loader stores the vision weights in f16).
// The bias goes through the epilogue when cuBLASLt has an algorithm for it, else a separate kernel.
#include <cstdint>
#include <string>

#include "backend/cuda/cuda_check.h"
#include "backend/cuda/cuda_ops.h"
#include "backend/cuda/linear_plans.h"

namespace folio::cuda {

int pointer_alignment(const void* p) {
  const auto v = reinterpret_cast<uintptr_t>(p);
  int a = 256;
  while (a > 1 && (v % a) != 0) a /= 2;
  return a;
}

namespace {

const char* kOp = "linear";

cudaDataType_t cuda_type(DType dt) {
  switch (dt) {
    case DType::kF32: return CUDA_R_32F;
    case DType::kBF16: return CUDA_R_16BF;
    case DType::kF16: return CUDA_R_16F;
    default: return CUDA_R_32F;
  }
}

void lt_check(cublasStatus_t s, const std::string& what) {
  if (s != CUBLAS_STATUS_SUCCESS) fail(kOp, what + ": cuBLASLt status " + std::to_string(static_cast<int>(s)));
}

bool query_algo(cublasLtHandle_t lt, const LinearKey& key, LinearPlan& p, size_t ws) {
  cublasLtMatmulPreference_t pref = nullptr;
  lt_check(cublasLtMatmulPreferenceCreate(&pref), "preference");
  uint64_t ws64 = ws;
  cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws64, sizeof(ws64));
  uint32_t ax = key.align_x, aw = key.align_w, ay = key.align_y;
  cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, &aw, sizeof(aw));
  cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, &ax, sizeof(ax));
  cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, &ay, sizeof(ay));
  cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, &ay, sizeof(ay));
  cublasLtMatmulHeuristicResult_t result{};
  int found = 0;
  cublasStatus_t s = cublasLtMatmulAlgoGetHeuristic(lt, p.op, p.a, p.b, p.c, p.c, pref, 1, &result, &found);
  cublasLtMatmulPreferenceDestroy(pref);
  if (s != CUBLAS_STATUS_SUCCESS || found == 0) return false;
  p.algo = result.algo;
  return true;
}

}  // namespace

LinearPlans::~LinearPlans() {
  for (auto& [key, p] : plans_) {
    if (p.a) cublasLtMatrixLayoutDestroy(p.a);
    if (p.b) cublasLtMatrixLayoutDestroy(p.b);
    if (p.c) cublasLtMatrixLayoutDestroy(p.c);
    if (p.op) cublasLtMatmulDescDestroy(p.op);
  }
}

LinearPlan& LinearPlans::get(cublasLtHandle_t lt, const LinearKey& key, size_t workspace_bytes) {
  auto it = plans_.find(key);
  if (it != plans_.end()) return it->second;
  LinearPlan p;
  lt_check(cublasLtMatmulDescCreate(&p.op, CUBLAS_COMPUTE_32F, CUDA_R_32F), "matmul desc");
  cublasOperation_t ta = CUBLAS_OP_T, tb = CUBLAS_OP_N;
  cublasLtMatmulDescSetAttribute(p.op, CUBLASLT_MATMUL_DESC_TRANSA, &ta, sizeof(ta));
  cublasLtMatmulDescSetAttribute(p.op, CUBLASLT_MATMUL_DESC_TRANSB, &tb, sizeof(tb));
  if (key.bias_type >= 0) {
    cublasLtEpilogue_t epi = CUBLASLT_EPILOGUE_BIAS;
    cublasLtMatmulDescSetAttribute(p.op, CUBLASLT_MATMUL_DESC_EPILOGUE, &epi, sizeof(epi));
    auto bt = static_cast<cudaDataType_t>(key.bias_type);
    cublasLtMatmulDescSetAttribute(p.op, CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE, &bt, sizeof(bt));
  }
  lt_check(cublasLtMatrixLayoutCreate(&p.a, static_cast<cudaDataType_t>(key.w_type), key.k, key.n, key.k), "layout w");
  lt_check(cublasLtMatrixLayoutCreate(&p.b, static_cast<cudaDataType_t>(key.x_type), key.k, key.m, key.k), "layout x");
  lt_check(cublasLtMatrixLayoutCreate(&p.c, static_cast<cudaDataType_t>(key.y_type), key.n, key.m, key.n), "layout y");
  p.found = query_algo(lt, key, p, workspace_bytes);
  return plans_.emplace(key, p).first->second;
}

void linear(CudaContext& ctx, const Tensor& x, const Tensor& w, const Tensor* bias, Tensor& y, bool accumulate) {
  require_device(x, kOp, "x");
  require_device(w, kOp, "w");
  require_device(y, kOp, "y");
  const std::string shapes = describe("x", x) + ", " + describe("w", w) + ", " + describe("y", y);
  require(w.ndim() == 2 && x.ndim() >= 1 && y.ndim() >= 1, kOp, "w must be [N, K]: " + shapes);
  const int64_t K = w.dim(1), N = w.dim(0);
  require(x.dim(-1) == K && y.dim(-1) == N, kOp, "inner/outer dims differ: " + shapes);
  const int64_t M = x.numel() / K;
  require(y.numel() / N == M, kOp, "row counts differ: " + shapes);
  if (bias) {
    require_device(*bias, kOp, "bias");
    require(bias->numel() == N, kOp, "bias must have N elements: " + describe("bias", *bias) + ", " + shapes);
  }
  if (M == 0 || N == 0) return;
  // A few bf16 rows (decode of small batches): the warp-per-column kernel of gemv.cu.
  if (accumulate ? !bias && linear_add_small(ctx, x, w, y) : linear_small_rows(ctx, x, w, bias, y)) return;

  // Bring (x, w) to a combination cuBLASLt runs: both f16 or both bf16 (the first 16-bit type
  // among x, w and y decides: an f32 residual read by f16 weights goes in as f16), or both f32
  // (f32 only with f32 y).
  Tensor xs = x, ws = w;
  const bool all_f32 = x.dtype() == DType::kF32 && w.dtype() == DType::kF32 && y.dtype() == DType::kF32;
  if (!all_f32) {
    DType t16 = DType::kBF16;
    for (const DType dt : {x.dtype(), w.dtype(), y.dtype()})
      if (is_16bit_float(dt)) {
        t16 = dt;
        break;
      }
    if (x.dtype() != t16) {
      xs = ctx.alloc_tensor(x.shape(), t16, kOp);
      convert(ctx, x, xs, kOp);
    }
    if (w.dtype() != t16) {
      ws = ctx.alloc_tensor(w.shape(), t16, kOp);
      convert(ctx, w, ws, kOp);
    }
    require(y.dtype() == t16 || y.dtype() == DType::kF32, kOp,
            std::string("y must be ") + dtype_name(t16) + " or F32: " + shapes);
  }
  if (K == 0) fail(kOp, "K is 0: " + shapes);

  LinearKey key{M, N, K, cuda_type(xs.dtype()), cuda_type(ws.dtype()), cuda_type(y.dtype()), -1,
                pointer_alignment(xs.raw()), pointer_alignment(ws.raw()), pointer_alignment(y.raw())};
  bool bias_in_epilogue = false;
  LinearPlan* plan = nullptr;
  // Under an f32 output (the encoders' residual adds) cuBLASLt's bias epilogue takes an f32
  // vector: a bf16 bias is converted per call (N values) rather than added by a second pass
  // over the [M, N] output.
  Tensor bias_f32;
  if (bias && y.dtype() == DType::kF32 && bias->dtype() != DType::kF32) {
    bias_f32 = ctx.alloc_tensor(bias->shape(), DType::kF32, kOp);
    convert(ctx, *bias, bias_f32, kOp);
    bias = &bias_f32;
  }
  if (bias && (bias->dtype() == DType::kF32 || bias->dtype() == y.dtype()) && pointer_alignment(bias->raw()) >= 16) {
    LinearKey kb = key;
    kb.bias_type = cuda_type(bias->dtype());
    LinearPlan& pb = ctx.linear_plans().get(ctx.lt(), kb, ctx.workspace_bytes());
    if (pb.found) {
      plan = &pb;
      bias_in_epilogue = true;
      const void* bp = bias->raw();
      cublasLtMatmulDescSetAttribute(pb.op, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bp, sizeof(bp));
    }
  }
  if (!plan) plan = &ctx.linear_plans().get(ctx.lt(), key, ctx.workspace_bytes());
  if (!plan->found) fail(kOp, "cuBLASLt has no algorithm for " + shapes);

  // accumulate: C = D = y with beta 1, so the residual add (and the bias) happen in the epilogue.
  const float alpha = 1.f, beta = accumulate ? 1.f : 0.f;
  cublasStatus_t s = cublasLtMatmul(ctx.lt(), plan->op, &alpha, ws.raw(), plan->a, xs.raw(), plan->b, &beta, y.raw(),
                                    plan->c, y.raw(), plan->c, &plan->algo, ctx.workspace(), ctx.workspace_bytes(),
                                    ctx.stream());
  if (s != CUBLAS_STATUS_SUCCESS) fail(kOp, "cublasLtMatmul status " + std::to_string(static_cast<int>(s)) + ": " + shapes);
  if (bias && !bias_in_epilogue) add_bias_rows(ctx, y, *bias);
}

}  // namespace folio::cuda
