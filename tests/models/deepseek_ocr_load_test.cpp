// Loading: a random checkpoint written from the tensor list loads through the binding, and
// every kind of broken folder is refused with a message naming the field or tensor and file.
#include <filesystem>
#include <cstring>
#include <fstream>

#include <gtest/gtest.h>

#include "core/error.h"
#include "models/deepseek_ocr/model.h"
#include "models/deepseek_ocr/random_checkpoint.h"
#include "models/deepseek_ocr/tensor_specs.h"
#include "weights/safetensors.h"

using namespace folio;
namespace fs = std::filesystem;

namespace {

fs::path fresh_tiny(const std::string& name) {
  fs::path p = fs::temp_directory_path() / ("folio_model_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(p);
  write_random_checkpoint(deepseek_ocr_preset("tiny"), p.string(), 1);
  return p;
}

std::string load_error(const fs::path& dir) {
  auto be = make_backend("cpu");
  try {
    DeepseekOcrModel::load(dir.string(), *be);
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "loaded a broken folder";
  return "";
}

}  // namespace

TEST(DeepseekOcrLoad, RandomTinyCheckpointLoadsAndRuns) {
  const fs::path dir = fresh_tiny("ok");
  auto be = make_backend("cpu");
  auto m = DeepseekOcrModel::load(dir.string(), *be);
  EXPECT_EQ(m->config().lm.hidden, 64);
  EXPECT_EQ(m->config().sam.neck, 32);
  ViewPixels px;
  px.base_size = 512;
  px.global.assign(3 * 512 * 512, 0.25f);
  Tensor embeds = m->encode(px);
  EXPECT_EQ(embeds.dim(0), 73);
  std::vector<int32_t> ids{0};
  ids.insert(ids.end(), 73, m->config().image_token);
  ids.push_back(5);
  KvCache cache = m->new_cache(ids.size() + 2);
  std::vector<float> logits = m->forward(cache, ids, &embeds);
  ASSERT_EQ(logits.size(), 129280u);
  for (float v : logits) ASSERT_TRUE(std::isfinite(v));
  EXPECT_EQ(m->forward(cache, {7}, nullptr).size(), 129280u);
}

TEST(DeepseekOcrLoad, MissingConfigFieldIsNamed) {
  const fs::path dir = fresh_tiny("field");
  nlohmann::json cfg = nlohmann::json::parse(std::ifstream(dir / "config.json"));
  cfg.erase("hidden_size");
  cfg["language_config"].erase("hidden_size");
  std::ofstream(dir / "config.json") << cfg.dump();
  const std::string msg = load_error(dir);
  EXPECT_NE(msg.find("'hidden_size' is missing"), std::string::npos) << msg;
  EXPECT_NE(msg.find("config.json"), std::string::npos) << msg;
}

TEST(DeepseekOcrLoad, MissingTensorIsNamed) {
  const fs::path dir = fresh_tiny("tensor");
  const std::string shard = (dir / "model-00001-of-000001.safetensors").string();
  auto file = SafetensorsFile::open(shard);
  SafetensorsWriter w;
  for (const auto& [name, info] : file->tensors()) {
    if (name == "model.layers.1.mlp.experts.3.up_proj.weight") continue;
    Tensor t = file->get(name);
    w.add(name, info.dtype, info.shape, [t](char* d) { std::memcpy(d, t.raw(), t.nbytes()); });
  }
  const std::string other = (dir / "rewritten.safetensors").string();
  w.write(other);
  file.reset();
  fs::rename(other, shard);
  const std::string msg = load_error(dir);
  EXPECT_NE(msg.find("model.layers.1.mlp.experts.3.up_proj.weight"), std::string::npos) << msg;
}

TEST(DeepseekOcrLoad, WrongShapeIsNamedWithBothShapes) {
  const fs::path dir = fresh_tiny("shape");
  nlohmann::json cfg = nlohmann::json::parse(std::ifstream(dir / "config.json"));
  cfg["intermediate_size"] = 161;
  std::ofstream(dir / "config.json") << cfg.dump();
  const std::string msg = load_error(dir);
  EXPECT_NE(msg.find("model.layers.0.mlp.gate_proj.weight"), std::string::npos) << msg;
  EXPECT_NE(msg.find("expected [161, 64]"), std::string::npos) << msg;
}

TEST(DeepseekOcrLoad, Int8EncoderIsUsedExactlyWhereTheBackendHasAFastInt8Product) {
  const fs::path dir = fresh_tiny("int8_encoder");
  auto be = make_backend("cpu");
  WeightOptions wo;
  wo.int8_encoder = true;
  auto m = DeepseekOcrModel::load(dir.string(), *be, wo);
  EXPECT_EQ(m->encoder_int8(), be->fast_int8_linear());
  EXPECT_EQ(m->encoder_int8_note(wo).empty(), be->fast_int8_linear()) << m->encoder_int8_note(wo);
  EXPECT_TRUE(m->encoder_int8_note(WeightOptions{}).empty());
  // Either way the encoder runs and gives finite embeddings of the same shape.
  ViewPixels px;
  px.base_size = 512;
  px.global.assign(3 * 512 * 512, 0.25f);
  Tensor embeds = m->encode(px);
  EXPECT_EQ(embeds.dim(0), 73);
  for (float v : embeds.to_vector_f32()) ASSERT_TRUE(std::isfinite(v));
}
