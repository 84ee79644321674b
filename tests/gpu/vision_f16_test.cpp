// The CUDA vision encoder in f16 (Backend::vision_dtype): the loader stores the vision matrices
// in f16 and the image rows come out in f16, and a checkpoint whose vision weight is beyond f16's
// range is refused with the tensor named instead of encoding pages to inf.
#include <cstring>
#include <filesystem>

#include "core/bf16.h"
#include "gpu/gpu_test_util.h"
#include "models/deepseek_ocr/model.h"
#include "support/tiny_checkpoint.h"
#include "weights/safetensors.h"

using namespace folio;

namespace {

class VisionF16 : public gpu_test::GpuTest {};

TEST_F(VisionF16, EncoderRunsInF16AndStaysFinite) {
  if (be->vision_dtype() != DType::kF16) GTEST_SKIP() << "FOLIO_CUDA_VISION selects another dtype";
  folio::testing::TinyCheckpoint ck("vision_f16", 7);
  auto model = DeepseekOcrModel::load(ck.dir(), *be);
  ViewPixels px;
  px.base_size = 512;
  px.global.assign(3 * 512 * 512, 0.25f);
  const Tensor embeds = model->encode(px);
  EXPECT_EQ(embeds.dtype(), DType::kF16);
  for (float v : be->download_f32(embeds).to_vector_f32()) ASSERT_TRUE(std::isfinite(v));
}

TEST_F(VisionF16, WeightBeyondF16RangeIsRefusedByName) {
  if (be->vision_dtype() != DType::kF16) GTEST_SKIP() << "FOLIO_CUDA_VISION selects another dtype";
  folio::testing::TinyCheckpoint ck("vision_f16_range", 8);
  const std::string target = "model.vision_model.transformer.layers.0.mlp.fc1.weight";
  const std::string shard = (std::filesystem::path(ck.dir()) / "model-00001-of-000001.safetensors").string();
  auto file = SafetensorsFile::open(shard);
  SafetensorsWriter w;
  for (const auto& [name, info] : file->tensors()) {
    Tensor t = file->get(name);
    const bool big = name == target;
    w.add(name, info.dtype, info.shape, [t, big](char* d) {
      std::memcpy(d, t.raw(), t.nbytes());
      if (big) reinterpret_cast<uint16_t*>(d)[3] = f32_to_bf16(1.0e6f);  // bf16 holds it, f16 cannot
    });
  }
  const std::string rewritten = ck.dir() + "/rewritten.safetensors";
  w.write(rewritten);
  file.reset();
  std::filesystem::rename(rewritten, shard);
  try {
    DeepseekOcrModel::load(ck.dir(), *be);
    ADD_FAILURE() << "a vision weight of 1e6 was loaded into f16";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(target), std::string::npos) << msg;
    EXPECT_NE(msg.find("f16 range"), std::string::npos) << msg;
  }
}

}  // namespace
