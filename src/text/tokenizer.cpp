#include "text/tokenizer.h"

#include <fstream>
#include <sstream>

#include "text/byte_level.h"
#include "text/normalizer.h"
#include "text/pre_tokenizer.h"
#include "text/utf8.h"

namespace folio {

using json = nlohmann::json;
using json_field::Where;

Tokenizer::Tokenizer() = default;
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;
Tokenizer::~Tokenizer() = default;

Tokenizer Tokenizer::from_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw invalid_input(path + ": cannot open tokenizer file");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw invalid_input(path + ": cannot read tokenizer file");
  return from_json_text(text.str(), path);
}

namespace {

// Decoder support: ByteLevel (possibly inside a Sequence) or none.
bool parse_decoder(const json& j, const Where& w) {
  if (j.is_null()) return false;
  std::string type = json_field::require_string(j, "type", w);
  if (type == "ByteLevel") return true;
  if (type == "Sequence") {
    const auto& list = json_field::require(j, "decoders", w);
    if (!list.is_array()) w.at("decoders").fail("expected an array");
    bool byte_level = false;
    for (size_t i = 0; i < list.size(); ++i) byte_level = parse_decoder(list[i], w.at("decoders").at(i)) || byte_level;
    return byte_level;
  }
  w.at("type").fail("unsupported decoder '" + type + "' (supported: ByteLevel, Sequence of ByteLevel)");
}

}  // namespace

Tokenizer Tokenizer::from_json_text(std::string_view json_text, const std::string& name) {
  json root = json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded()) throw invalid_input(name + ": not valid JSON");
  Where top{name, ""};
  if (!root.is_object()) top.fail("expected a JSON object");

  Tokenizer t;
  t.name_ = name;
  t.model_ = std::make_unique<BpeModel>(json_field::require(root, "model", top), top.at("model"));
  t.normalizer_ = Normalizer::from_json(root.value("normalizer", json()), top.at("normalizer"));
  t.pre_tokenizer_ = PreTokenizer::from_json(root.value("pre_tokenizer", json()), top.at("pre_tokenizer"));
  t.byte_level_decoder_ = parse_decoder(root.value("decoder", json()), top.at("decoder"));

  if (auto it = root.find("added_tokens"); it != root.end() && !it->is_null()) {
    Where w = top.at("added_tokens");
    if (!it->is_array()) w.fail("expected an array");
    for (size_t i = 0; i < it->size(); ++i) {
      const json& a = (*it)[i];
      Where wi = w.at(i);
      auto token = std::make_unique<AddedToken>();
      const json& id = json_field::require(a, "id", wi);
      if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() > INT32_MAX)
        wi.at("id").fail("expected a non-negative integer");
      token->id = static_cast<int32_t>(id.get<int64_t>());
      token->content = json_field::require_string(a, "content", wi);
      token->special = json_field::optional_bool(a, "special", false, wi);
      token->lstrip = json_field::optional_bool(a, "lstrip", false, wi);
      token->rstrip = json_field::optional_bool(a, "rstrip", false, wi);
      token->single_word = json_field::optional_bool(a, "single_word", false, wi);
      token->normalized = json_field::optional_bool(a, "normalized", !token->special, wi);
      t.added_.push_back(std::move(token));
    }
    // Non-normalized tokens match the raw text; normalized ones match normalized text, so their
    // pattern is their normalized content.
    for (const auto& token : t.added_) {
      t.added_by_id_[token->id] = token.get();
      t.added_by_content_[token->content] = token.get();
      if (token->normalized) {
        std::string pattern = token->content;
        if (t.normalizer_) t.normalizer_->apply(pattern);
        t.normalized_matcher_.add(token.get(), pattern);
      } else {
        t.raw_matcher_.add(token.get(), token->content);
      }
    }
  }
  return t;
}

void Tokenizer::encode_plain(std::string_view text, std::vector<int32_t>& out) const {
  std::vector<std::string> pieces{std::string(text)};
  if (pre_tokenizer_) pre_tokenizer_->apply(pieces);
  for (const std::string& word : pieces) model_->encode_word(word, out);
}

std::vector<int32_t> Tokenizer::encode(std::string_view raw) const {
  std::string valid = utf8::to_valid(raw);
  std::vector<int32_t> ids;
  for (const auto& piece : raw_matcher_.split(valid)) {
    if (piece.token) {
      ids.push_back(piece.token->id);
      continue;
    }
    std::string normalized = valid.substr(piece.begin, piece.end - piece.begin);
    if (normalizer_) normalizer_->apply(normalized);
    for (const auto& sub : normalized_matcher_.split(normalized)) {
      if (sub.token) ids.push_back(sub.token->id);
      else encode_plain(std::string_view(normalized).substr(sub.begin, sub.end - sub.begin), ids);
    }
  }
  return ids;
}

bool Tokenizer::append_token_bytes(int32_t id, bool skip_special, bool first, std::string& out) const {
  const std::string* token = nullptr;
  if (auto it = added_by_id_.find(id); it != added_by_id_.end()) {
    if (skip_special && it->second->special) return false;
    token = &it->second->content;
  } else {
    token = model_->id_to_token(id);
  }
  if (!token) return false;
  if (byte_level_decoder_) {
    if (!byte_level::decode(*token, out)) out += *token;
  } else {
    if (!first) out += ' ';
    out += *token;
  }
  return true;
}

std::string Tokenizer::decode(const std::vector<int32_t>& ids, bool skip_special) const {
  std::string bytes;
  bool first = true;
  for (int32_t id : ids)
    if (append_token_bytes(id, skip_special, first, bytes)) first = false;
  return utf8::to_valid(bytes);
}

std::optional<int32_t> Tokenizer::token_to_id(std::string_view token) const {
  if (auto it = added_by_content_.find(std::string(token)); it != added_by_content_.end()) return it->second->id;
  int32_t id = model_->token_to_id(token);
  if (id < 0) return std::nullopt;
  return id;
}

std::optional<std::string> Tokenizer::id_to_token(int32_t id) const {
  if (auto it = added_by_id_.find(id); it != added_by_id_.end()) return it->second->content;
  if (const std::string* t = model_->id_to_token(id)) return *t;
  return std::nullopt;
}

bool Tokenizer::is_special(int32_t id) const {
  auto it = added_by_id_.find(id);
  return it != added_by_id_.end() && it->second->special;
}

size_t Tokenizer::vocab_size() const {
  size_t n = model_->size();
  for (const auto& [id, token] : added_by_id_)
    if (!model_->id_to_token(id)) ++n;
  return n;
}

}  // namespace folio
