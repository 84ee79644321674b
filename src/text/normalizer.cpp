#include "text/normalizer.h"

#include <vector>

#include "text/regex.h"

namespace folio {
namespace {

using json_field::Where;

class Prepend final : public Normalizer {
 public:
  Prepend(const nlohmann::json& j, const Where& w) : prefix_(json_field::require_string(j, "prepend", w)) {}
  void apply(std::string& text) const override {
    if (!text.empty()) text.insert(0, prefix_);
  }

 private:
  std::string prefix_;
};

class Replace final : public Normalizer {
 public:
  Replace(const nlohmann::json& j, const Where& w) : content_(json_field::require_string(j, "content", w)) {
    const auto& pattern = json_field::require(j, "pattern", w);
    if (pattern.contains("Regex") && pattern["Regex"].is_string())
      regex_ = std::make_unique<Regex>(pattern["Regex"].get<std::string>(), w.file + ": " + w.path + ".pattern");
    else if (pattern.contains("String") && pattern["String"].is_string())
      literal_ = pattern["String"].get<std::string>();
    else
      w.at("pattern").fail("expected {\"Regex\": ...} or {\"String\": ...}");
  }
  void apply(std::string& text) const override {
    std::vector<std::pair<size_t, size_t>> matches;
    if (regex_) {
      regex_->find_all(text, matches);
    } else if (!literal_.empty()) {
      for (size_t at = text.find(literal_); at != std::string::npos; at = text.find(literal_, at + literal_.size()))
        matches.emplace_back(at, at + literal_.size());
    }
    if (matches.empty()) return;
    std::string out;
    size_t prev = 0;
    for (auto [b, e] : matches) {
      out.append(text, prev, b - prev);
      out += content_;
      prev = e;
    }
    out.append(text, prev);
    text = std::move(out);
  }

 private:
  std::string content_, literal_;
  std::unique_ptr<Regex> regex_;
};

class Sequence final : public Normalizer {
 public:
  Sequence(const nlohmann::json& j, const Where& w) {
    const auto& list = json_field::require(j, "normalizers", w);
    if (!list.is_array()) w.at("normalizers").fail("expected an array");
    for (size_t i = 0; i < list.size(); ++i)
      if (auto n = Normalizer::from_json(list[i], w.at("normalizers").at(i))) steps_.push_back(std::move(n));
  }
  void apply(std::string& text) const override {
    for (const auto& s : steps_) s->apply(text);
  }

 private:
  std::vector<std::unique_ptr<Normalizer>> steps_;
};

}  // namespace

std::unique_ptr<Normalizer> Normalizer::from_json(const nlohmann::json& j, const Where& w) {
  if (j.is_null()) return nullptr;
  std::string type = json_field::require_string(j, "type", w);
  if (type == "Sequence") return std::make_unique<Sequence>(j, w);
  if (type == "Prepend") return std::make_unique<Prepend>(j, w);
  if (type == "Replace") return std::make_unique<Replace>(j, w);
  w.at("type").fail("unsupported normalizer '" + type + "' (supported: Sequence, Prepend, Replace)");
}

}  // namespace folio
