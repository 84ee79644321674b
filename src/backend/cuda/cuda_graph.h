// Records the work a body queues on the context's stream as a CUDA graph (Backend::capture).
#pragma once
#include <functional>
#include <memory>

#include "backend/backend.h"
#include "backend/cuda/cuda_context.h"

namespace folio::cuda {

std::unique_ptr<Backend::Replay> capture_graph(const std::shared_ptr<CudaContext>& ctx,
                                               const std::function<void()>& body);

}  // namespace folio::cuda
