#include "models/deepseek_ocr/model.h"

#include "core/error.h"

namespace folio {

std::unique_ptr<DeepseekOcrModel> DeepseekOcrModel::load(const std::string& dir, Backend& backend,
                                                         const WeightOptions& options) {
  std::unique_ptr<DeepseekOcrModel> m(new DeepseekOcrModel(backend));
  m->dir_ = dir;
  m->ck_ = Checkpoint::open(dir);
  const auto& arch = m->ck_->config().value("architectures", nlohmann::json::array());
  if (!arch.is_array() || arch.empty() || arch[0] != "DeepseekOCRForCausalLM")
    throw invalid_input(m->ck_->config_path() + ": architectures is " + arch.dump() +
                        ", expected [\"DeepseekOCRForCausalLM\"] (DeepSeek-OCR v1)");
  m->cfg_ = DeepseekOcrConfig::from_checkpoint(*m->ck_);
  m->w_ = DeepseekOcrWeights::load(*m->ck_, m->cfg_, backend, options);
  // Quantising read every decoder (or encoder) matrix from the mapping; those pages are not
  // needed again, and the ones still used fault back in from the page cache.
  if (options.int8_decoder || m->w_.encoder_int8()) m->ck_->release_pages();
  m->vision_ = std::make_unique<VisionEncoder>(m->cfg_, m->w_, backend);
  m->decoder_ = std::make_unique<Decoder>(m->cfg_.lm, m->w_.lm, backend);
  return m;
}

std::string DeepseekOcrModel::encoder_int8_note(const WeightOptions& options) const {
  if (!options.int8_encoder || w_.encoder_int8()) return "";
  if (be_.device() == Device::kCPU)
    return "int8 encoder weights need AVX512-VNNI, which this CPU lacks; the vision encoder keeps its stored "
           "weights (fp32 products)";
  return "int8 encoder weights are for the CPU backend; on " + be_.name() + " the vision encoder keeps its stored weights";
}

}  // namespace folio
