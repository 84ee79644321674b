#include "text/markdown.h"

#include "text/grounding.h"

namespace folio {
namespace {

constexpr std::string_view kEos = "<｜end▁of▁sentence｜>";

void replace_all(std::string& s, std::string_view from, std::string_view to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
    s.replace(at, from.size(), to);
}

// \coloneqq / \eqqcolon replacements, then at most two consecutive newlines.
std::string finish(std::string s) {
  replace_all(s, "\\coloneqq", ":=");
  replace_all(s, "\\eqqcolon", "=:");
  std::string out;
  out.reserve(s.size());
  size_t newlines = 0;
  for (char c : s) {
    newlines = c == '\n' ? newlines + 1 : 0;
    if (newlines <= 2) out += c;
  }
  return out;
}

std::string_view trim_space(std::string_view s) {
  auto space = [](char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == '\v'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace

MarkdownPage assemble_markdown(std::string_view raw, int width, int height, int page) {
  MarkdownPage result;
  std::string out;
  size_t prev = 0;
  for (const GroundingTag& tag : find_grounding_tags(raw)) {
    out.append(raw.substr(prev, tag.begin - prev));
    if (tag.label == "image") {
      for (const auto& box : tag.boxes) {
        FigureCrop crop{page, static_cast<int>(result.figures.size()), box_to_pixels(box, width, height)};
        out += "![](" + crop.path() + ")\n";
        result.figures.push_back(crop);
      }
    }
    prev = tag.end;
  }
  out.append(raw.substr(prev));
  result.markdown = finish(std::move(out));
  return result;
}

std::string plain_text(std::string_view raw) {
  std::string out;
  size_t prev = 0;
  for (const GroundingTag& tag : find_grounding_tags(raw)) {
    out.append(raw.substr(prev, tag.begin - prev));
    prev = tag.end;
  }
  out.append(raw.substr(prev));
  return finish(std::string(trim_space(out)));
}

std::string strip_eos(std::string_view raw) {
  if (raw.size() >= kEos.size() && raw.substr(raw.size() - kEos.size()) == kEos) raw.remove_suffix(kEos.size());
  return std::string(trim_space(raw));
}

}  // namespace folio
