// Backend::capture on CUDA: the body's kernels, copies and stream-ordered allocations are
// recorded as one CUDA graph and replayed with a single launch, which removes the per-kernel
// launch cost that dominates a small decode step (hundreds of kernels of a few microseconds).
#include "backend/cuda/cuda_graph.h"

#include "backend/cuda/cuda_check.h"

namespace folio::cuda {

namespace {

class CudaGraphReplay final : public Backend::Replay {
 public:
  CudaGraphReplay(std::shared_ptr<CudaContext> ctx, cudaGraph_t graph, cudaGraphExec_t exec)
      : ctx_(std::move(ctx)), graph_(graph), exec_(exec) {}
  ~CudaGraphReplay() override {
    if (exec_) cudaGraphExecDestroy(exec_);
    if (graph_) cudaGraphDestroy(graph_);
  }
  void replay() override { check(cudaGraphLaunch(exec_, ctx_->stream()), "graph replay", "cudaGraphLaunch"); }

 private:
  std::shared_ptr<CudaContext> ctx_;
  cudaGraph_t graph_ = nullptr;
  cudaGraphExec_t exec_ = nullptr;
};

}  // namespace

std::unique_ptr<Backend::Replay> capture_graph(const std::shared_ptr<CudaContext>& ctx,
                                               const std::function<void()>& body) {
  const char* op = "graph capture";
  check(cudaStreamBeginCapture(ctx->stream(), cudaStreamCaptureModeThreadLocal), op, "cudaStreamBeginCapture");
  cudaGraph_t graph = nullptr;
  try {
    body();
  } catch (...) {
    cudaStreamEndCapture(ctx->stream(), &graph);  // leave the stream usable
    if (graph) cudaGraphDestroy(graph);
    cudaGetLastError();
    throw;
  }
  check(cudaStreamEndCapture(ctx->stream(), &graph), op, "cudaStreamEndCapture (an op in the body is not capturable)");
  cudaGraphExec_t exec = nullptr;
  const cudaError_t e = cudaGraphInstantiate(&exec, graph, 0);
  if (e != cudaSuccess) {
    cudaGraphDestroy(graph);
    check(e, op, "cudaGraphInstantiate");
  }
  return std::make_unique<CudaGraphReplay>(ctx, graph, exec);
}

}  // namespace folio::cuda
