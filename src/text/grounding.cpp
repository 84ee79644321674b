#include "text/grounding.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace folio {
namespace {

constexpr std::string_view kRef = "<|ref|>", kRefEnd = "<|/ref|>", kDet = "<|det|>", kDetEnd = "<|/det|>";
constexpr size_t kMaxLabel = 256, kMaxBoxes = 64, kMaxNumber = 24;

// Reads the box list starting at text[pos]; on success sets `end` just past it.
class BoxListReader {
 public:
  BoxListReader(std::string_view text, size_t pos) : s_(text), i_(pos) {}

  bool read(std::vector<std::array<double, 4>>& boxes, size_t& end) {
    skip_space();
    if (!eat('[')) return false;
    skip_space();
    if (peek() == '[') {  // [[...], [...]]
      while (true) {
        std::array<double, 4> box;
        if (boxes.size() >= kMaxBoxes || !eat('[') || !read_box(box)) return false;
        boxes.push_back(box);
        skip_space();
        if (eat(']')) break;
        if (!eat(',')) return false;
        skip_space();
      }
    } else {  // a single flat box [x1, y1, x2, y2]
      std::array<double, 4> box;
      if (!read_box(box)) return false;
      boxes.push_back(box);
    }
    end = i_;
    return true;
  }

 private:
  // After the opening '[': four numbers separated by commas, then ']'.
  bool read_box(std::array<double, 4>& box) {
    for (int k = 0; k < 4; ++k) {
      skip_space();
      if (!read_number(box[k])) return false;
      skip_space();
      if (!eat(k < 3 ? ',' : ']')) return false;
    }
    return true;
  }

  bool read_number(double& value) {
    size_t start = i_;
    if (peek() == '-' || peek() == '+') ++i_;
    size_t digits = 0, dots = 0;
    while (i_ < s_.size() && i_ - start <= kMaxNumber) {
      char c = s_[i_];
      if (c >= '0' && c <= '9') ++digits;
      else if (c == '.' && dots == 0) ++dots;
      else break;
      ++i_;
    }
    if (digits == 0 || i_ - start > kMaxNumber) return false;
    std::string number(s_.substr(start, i_ - start));
    value = std::strtod(number.c_str(), nullptr);
    return std::isfinite(value);
  }

  void skip_space() {
    for (int n = 0; i_ < s_.size() && n < 16 && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\t'); ++n) ++i_;
  }
  char peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }
  bool eat(char c) {
    if (peek() != c) return false;
    ++i_;
    return true;
  }

  std::string_view s_;
  size_t i_;
};

// Tries to read a whole tag starting at `at` (where "<|ref|>" is).
bool read_tag(std::string_view text, size_t at, GroundingTag& tag) {
  size_t label_begin = at + kRef.size();
  std::string_view window = text.substr(label_begin, kMaxLabel + kRefEnd.size());
  size_t label_end = window.find(kRefEnd);
  if (label_end == std::string_view::npos) return false;  // unterminated or oversized label
  std::string_view label = window.substr(0, label_end);
  if (label.find("<|") != std::string_view::npos) return false;  // nested / interleaved tags
  size_t pos = label_begin + label_end + kRefEnd.size();
  if (text.substr(pos, kDet.size()) != kDet) return false;
  std::vector<std::array<double, 4>> boxes;
  size_t list_end = 0;
  if (!BoxListReader(text, pos + kDet.size()).read(boxes, list_end)) return false;
  if (text.substr(list_end, kDetEnd.size()) != kDetEnd) return false;
  tag.begin = at;
  tag.end = list_end + kDetEnd.size();
  tag.label = std::string(label);
  tag.boxes = std::move(boxes);
  return true;
}

std::string trim(std::string_view s) {
  auto space = [](char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return std::string(s);
}

int scale(double v, int size) {
  double px = v / 999.0 * size;
  if (!(px > 0)) return 0;  // also NaN
  if (px >= size) return size;
  return static_cast<int>(px);  // truncation, like Python int()
}

}  // namespace

std::vector<GroundingTag> find_grounding_tags(std::string_view text) {
  std::vector<GroundingTag> tags;
  for (size_t at = text.find(kRef); at != std::string_view::npos;) {
    GroundingTag tag;
    if (read_tag(text, at, tag)) {
      tags.push_back(std::move(tag));
      at = text.find(kRef, tags.back().end);
    } else {
      at = text.find(kRef, at + 1);
    }
  }
  return tags;
}

std::array<int, 4> box_to_pixels(const std::array<double, 4>& box, int width, int height) {
  width = std::max(width, 0);
  height = std::max(height, 0);
  return {scale(box[0], width), scale(box[1], height), scale(box[2], width), scale(box[3], height)};
}

std::vector<Block> parse_grounding(std::string_view text, int width, int height, int page) {
  std::vector<Block> blocks;
  auto tags = find_grounding_tags(text);
  std::string lead = trim(text.substr(0, tags.empty() ? text.size() : tags.front().begin));
  if (!lead.empty()) blocks.push_back({"", lead, {0, 0, 0, 0}, page});
  for (size_t t = 0; t < tags.size(); ++t) {
    size_t text_end = t + 1 < tags.size() ? tags[t + 1].begin : text.size();
    std::string body = trim(text.substr(tags[t].end, text_end - tags[t].end));
    for (size_t b = 0; b < tags[t].boxes.size(); ++b)
      blocks.push_back({tags[t].label, b == 0 ? body : std::string(), box_to_pixels(tags[t].boxes[b], width, height), page});
  }
  return blocks;
}

}  // namespace folio
