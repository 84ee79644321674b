#include "text/pre_tokenizer.h"

#include <functional>
#include <optional>
#include <utility>

#include "text/byte_level.h"
#include "text/regex.h"

namespace folio {
namespace {

using json_field::Where;
using Spans = std::vector<std::pair<size_t, size_t>>;

enum class Behavior { kIsolated, kRemoved, kMergedWithPrevious, kMergedWithNext, kContiguous };

struct Piece {
  size_t begin, end;
  bool is_match;
};

// Turns the matches of a pattern into the pieces HF keeps for each behaviour.
std::vector<Piece> arrange(const Spans& matches, size_t length, bool invert, Behavior behavior) {
  std::vector<Piece> all;
  size_t prev = 0;
  for (auto [b, e] : matches) {
    if (prev != b) all.push_back({prev, b, invert});
    all.push_back({b, e, !invert});
    prev = e;
  }
  if (prev != length) all.push_back({prev, length, invert});

  std::vector<Piece> out;
  bool previous_match = false;
  switch (behavior) {
    case Behavior::kIsolated:
      return all;
    case Behavior::kRemoved:
      for (const auto& p : all)
        if (!p.is_match) out.push_back(p);
      return out;
    case Behavior::kMergedWithPrevious:
      for (const auto& p : all) {
        if (p.is_match && !previous_match && !out.empty()) out.back().end = p.end;
        else out.push_back(p);
        previous_match = p.is_match;
      }
      return out;
    case Behavior::kMergedWithNext:
      for (auto it = all.rbegin(); it != all.rend(); ++it) {
        if (it->is_match && !previous_match && !out.empty()) out.back().begin = it->begin;
        else out.push_back(*it);
        previous_match = it->is_match;
      }
      return {out.rbegin(), out.rend()};
    case Behavior::kContiguous:
      for (const auto& p : all) {
        if (p.is_match == previous_match && !out.empty()) out.back().end = p.end;
        else out.push_back(p);
        previous_match = p.is_match;
      }
      return out;
  }
  return all;
}

void split_pieces(std::vector<std::string>& pieces, bool invert, Behavior behavior,
                  const std::function<void(const std::string&, Spans&)>& find) {
  std::vector<std::string> out;
  out.reserve(pieces.size());
  Spans matches;
  for (const std::string& s : pieces) {
    matches.clear();
    find(s, matches);
    for (const Piece& p : arrange(matches, s.size(), invert, behavior))
      if (p.end > p.begin) out.emplace_back(s, p.begin, p.end - p.begin);
  }
  pieces = std::move(out);
}

class Split final : public PreTokenizer {
 public:
  Split(const nlohmann::json& j, const Where& w) {
    const auto& pattern = json_field::require(j, "pattern", w);
    if (pattern.contains("Regex") && pattern["Regex"].is_string()) {
      regex_ = std::make_unique<Regex>(pattern["Regex"].get<std::string>(), w.file + ": " + w.path + ".pattern.Regex");
    } else if (pattern.contains("String") && pattern["String"].is_string()) {
      literal_ = pattern["String"].get<std::string>();
    } else {
      w.at("pattern").fail("expected {\"Regex\": ...} or {\"String\": ...}");
    }
    std::string b = json_field::require_string(j, "behavior", w);
    if (b == "Isolated") behavior_ = Behavior::kIsolated;
    else if (b == "Removed") behavior_ = Behavior::kRemoved;
    else if (b == "MergedWithPrevious") behavior_ = Behavior::kMergedWithPrevious;
    else if (b == "MergedWithNext") behavior_ = Behavior::kMergedWithNext;
    else if (b == "Contiguous") behavior_ = Behavior::kContiguous;
    else w.at("behavior").fail("unsupported value '" + b + "'");
    invert_ = json_field::optional_bool(j, "invert", false, w);
  }

  void apply(std::vector<std::string>& pieces) const override {
    split_pieces(pieces, invert_, behavior_, [this](const std::string& s, Spans& m) {
      if (regex_) {
        regex_->find_all(s, m);
      } else if (!literal_.empty()) {
        for (size_t at = s.find(literal_); at != std::string::npos; at = s.find(literal_, at + literal_.size()))
          m.emplace_back(at, at + literal_.size());
      }
    });
  }

 private:
  std::unique_ptr<Regex> regex_;
  std::string literal_;
  Behavior behavior_ = Behavior::kIsolated;
  bool invert_ = false;
};

class ByteLevel final : public PreTokenizer {
 public:
  ByteLevel(const nlohmann::json& j, const Where& w) {
    add_prefix_space_ = json_field::optional_bool(j, "add_prefix_space", true, w);
    if (json_field::optional_bool(j, "use_regex", true, w))
      gpt2_ = std::make_unique<Regex>(
          R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)", w.file + ": " + w.path);
  }

  void apply(std::vector<std::string>& pieces) const override {
    if (add_prefix_space_)
      for (std::string& s : pieces)
        if (s.empty() || s[0] != ' ') s.insert(s.begin(), ' ');
    if (gpt2_)
      split_pieces(pieces, false, Behavior::kIsolated,
                   [this](const std::string& s, Spans& m) { gpt2_->find_all(s, m); });
    for (std::string& s : pieces) {
      std::string mapped;
      mapped.reserve(s.size() * 2);
      byte_level::encode(s, mapped);
      s = std::move(mapped);
    }
  }

 private:
  bool add_prefix_space_ = true;
  std::unique_ptr<Regex> gpt2_;
};

class Sequence final : public PreTokenizer {
 public:
  Sequence(const nlohmann::json& j, const Where& w) {
    const auto& list = json_field::require(j, "pretokenizers", w);
    if (!list.is_array()) w.at("pretokenizers").fail("expected an array");
    for (size_t i = 0; i < list.size(); ++i) {
      auto p = PreTokenizer::from_json(list[i], w.at("pretokenizers").at(i));
      if (p) steps_.push_back(std::move(p));
    }
  }
  void apply(std::vector<std::string>& pieces) const override {
    for (const auto& step : steps_) step->apply(pieces);
  }

 private:
  std::vector<std::unique_ptr<PreTokenizer>> steps_;
};

}  // namespace

std::unique_ptr<PreTokenizer> PreTokenizer::from_json(const nlohmann::json& j, const Where& w) {
  if (j.is_null()) return nullptr;
  std::string type = json_field::require_string(j, "type", w);
  if (type == "Sequence") return std::make_unique<Sequence>(j, w);
  if (type == "Split") return std::make_unique<Split>(j, w);
  if (type == "ByteLevel") return std::make_unique<ByteLevel>(j, w);
  w.at("type").fail("unsupported pre-tokenizer '" + type + "' (supported: Sequence, Split, ByteLevel)");
}

}  // namespace folio
