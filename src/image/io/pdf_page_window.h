// Internal to image/io: lets poppler open a long PDF one window of pages at a time.
//
// Why: poppler parses and keeps every page object in front of the one asked for (its page-tree
// cache lives until the document is closed): page 3,000 of a PDF costs 3,000 parsed pages,
// ~1.5 KB each for the simplest pages and more for real ones, however often the document is
// reopened. That was most of the memory a long job gained page after page.
//
// How: an incremental update appended to the file (the mechanism PDF editors use to change a
// file without rewriting it) redefines the root of the page tree to hold only pages
// [first, first + count). Each page keeps its own object; it hangs from a new node that carries
// what the page inherited from its ancestors (MediaBox, CropBox, Rotate, Resources: the
// attributes poppler inherits), so the page renders exactly as in the whole file. The catalog and
// every other object stay the original ones.
//
// To write that update, this reads just enough of the file: the cross-reference sections
// (tables and streams, following /Prev), object streams, and the page tree, walked the way
// poppler walks it. It is strict: encryption, a cross-reference that does not point at the
// objects it names, a page tree poppler would walk differently (a loop, a kid that is not a
// reference, a /Count that disagrees with the leaves), filters other than Flate, or anything
// malformed makes read() return nullopt, and the caller renders the file as it is.
//
// Memory: a few bytes per page (the reference of each page and which set of inherited
// attributes it uses); the parsed objects are dropped as the walk goes.
#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace folio::pdf {

struct Ref {
  int num = 0;
  int gen = 0;
};

class PageWindows {
 public:
  // The page tree of `bytes` (a whole PDF file), or nullopt when the file cannot be windowed.
  static std::optional<PageWindows> read(std::string_view bytes);

  int page_count() const { return static_cast<int>(leaves_.size()); }

  // The bytes to append to the original file (of `file_size` bytes) so that its pages are
  // pages [first, first + count) of the original, in order. 0 <= first, 1 <= count,
  // first + count <= page_count().
  std::string update(int first, int count, size_t file_size) const;

 private:
  struct Leaf {
    Ref ref;
    int inherited = 0;  // index into inherited_; 0 is "nothing inherited"
  };
  std::vector<Leaf> leaves_;
  std::vector<std::string> inherited_;  // "/MediaBox [0 0 612 792] /Resources 4 0 R", ...
  Ref catalog_;
  Ref pages_root_;
  size_t startxref_ = 0;  // of the newest cross-reference section
  bool xref_stream_ = false;  // the newest section is a stream, so the update's is one too
  int next_object_ = 0;   // first object number free for the update's new nodes
};

}  // namespace folio::pdf
