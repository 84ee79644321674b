#include "image/io/pdf_page_window.h"

#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>
#include <set>
#include <utility>

namespace folio::pdf {
namespace {

// Thrown inside the reader for anything it does not accept; read() turns it into nullopt.
struct Unsupported {};
[[noreturn]] void reject() { throw Unsupported{}; }

constexpr int kMaxDepth = 64;                       // nesting of arrays/dictionaries, and of the page tree
constexpr size_t kMaxItems = 1u << 20;               // entries of one array or dictionary
constexpr size_t kMaxObjects = 1u << 23;             // object numbers
constexpr size_t kMaxDecoded = size_t(256) << 20;    // all Flate output together
constexpr int kMaxSections = 1024;                   // cross-reference sections (/Prev chain)

bool is_white(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == '\0'; }
bool is_delim(char c) {
  return c == '(' || c == ')' || c == '<' || c == '>' || c == '[' || c == ']' || c == '{' || c == '}' || c == '/' ||
         c == '%';
}
bool is_regular(char c) { return !is_white(c) && !is_delim(c); }
bool is_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

// One parsed PDF object. Values of a dictionary are in `items`, in the order of `keys`. An
// array keeps only its text (elements() or ArrayCursor read it): a page-tree node may have
// thousands of kids, and holding them parsed would cost ~100 bytes each.
struct Object {
  // A stream is its dictionary plus data; like poppler, it is not a dictionary where one is asked for.
  enum class Kind : uint8_t { kNull, kBool, kInt, kReal, kName, kString, kArray, kDict, kStream, kRef };
  Kind kind = Kind::kNull;
  int64_t integer = 0;
  double real = 0;
  Ref ref;
  std::string name;
  std::vector<std::string> keys;  // kDict and kStream
  std::vector<Object> items;      // their values
  std::string_view text;    // the object's own source text (a view into the file or a decoded object stream)
  std::string_view stream;  // the raw data of a stream object

  bool is_dict() const { return kind == Kind::kDict; }
  bool is_number() const { return kind == Kind::kInt || kind == Kind::kReal; }
  bool is_name(std::string_view n) const { return kind == Kind::kName && name == n; }
  // The value of `key`, or null. A key given twice is refused: which one a reader uses varies.
  const Object* get(std::string_view key) const {
    const Object* found = nullptr;
    for (size_t i = 0; i < keys.size(); ++i) {
      if (keys[i] != key) continue;
      if (found) reject();
      found = &items[i];
    }
    return found;
  }
};

// Tokens and objects of PDF syntax, from a position in one buffer.
class Parser {
 public:
  Parser(std::string_view buf, size_t pos) : buf_(buf), pos_(pos) {
    if (pos_ > buf_.size()) reject();
  }
  size_t pos() const { return pos_; }
  size_t size() const { return buf_.size(); }
  char peek_char() const { return pos_ < buf_.size() ? buf_[pos_] : '\0'; }

  void skip_white() {
    while (pos_ < buf_.size()) {
      const char c = buf_[pos_];
      if (is_white(c)) {
        ++pos_;
      } else if (c == '%') {
        while (pos_ < buf_.size() && buf_[pos_] != '\n' && buf_[pos_] != '\r') ++pos_;
      } else {
        break;
      }
    }
  }
  // The next run of regular characters (a keyword or a number), not consumed.
  std::string_view peek_word() {
    skip_white();
    size_t end = pos_;
    while (end < buf_.size() && is_regular(buf_[end])) ++end;
    return buf_.substr(pos_, end - pos_);
  }
  void expect_word(std::string_view word) {
    if (peek_word() != word) reject();
    pos_ += word.size();
  }
  uint64_t unsigned_int() {
    const std::string_view w = peek_word();
    if (!is_digits(w) || w.size() > 15) reject();
    uint64_t v = 0;
    std::from_chars(w.data(), w.data() + w.size(), v);
    pos_ += w.size();
    return v;
  }

  Object object(int depth = 0) {
    if (depth > kMaxDepth) reject();
    skip_white();
    if (pos_ >= buf_.size()) reject();
    const size_t start = pos_;
    Object o;
    const char c = buf_[pos_];
    if (c == '/') {
      ++pos_;
      o.kind = Object::Kind::kName;
      o.name = name_chars();
    } else if (c == '(') {
      skip_literal_string();
      o.kind = Object::Kind::kString;
    } else if (c == '<' && pos_ + 1 < buf_.size() && buf_[pos_ + 1] == '<') {
      pos_ += 2;
      o.kind = Object::Kind::kDict;
      for (;;) {
        skip_white();
        if (pos_ + 1 < buf_.size() && buf_[pos_] == '>' && buf_[pos_ + 1] == '>') {
          pos_ += 2;
          break;
        }
        if (pos_ >= buf_.size() || buf_[pos_] != '/' || o.keys.size() >= kMaxItems) reject();
        ++pos_;
        o.keys.push_back(name_chars());
        o.items.push_back(object(depth + 1));
      }
    } else if (c == '<') {
      ++pos_;
      while (pos_ < buf_.size() && buf_[pos_] != '>') {
        if (!std::isxdigit(static_cast<unsigned char>(buf_[pos_])) && !is_white(buf_[pos_])) reject();
        ++pos_;
      }
      if (pos_ >= buf_.size()) reject();
      ++pos_;
      o.kind = Object::Kind::kString;
    } else if (c == '[') {
      ++pos_;
      o.kind = Object::Kind::kArray;
      for (size_t n = 0;; ++n) {  // checked and skipped; read again from the text when needed
        skip_white();
        if (pos_ >= buf_.size() || n >= kMaxItems) reject();
        if (buf_[pos_] == ']') {
          ++pos_;
          break;
        }
        object(depth + 1);
      }
    } else if (c == '+' || c == '-' || c == '.' || (c >= '0' && c <= '9')) {
      number(o);
    } else {
      const std::string_view w = peek_word();
      if (w == "true" || w == "false") {
        o.kind = Object::Kind::kBool;
        o.integer = w == "true";
      } else if (w != "null") {
        reject();
      }
      pos_ += w.size();
    }
    o.text = buf_.substr(start, pos_ - start);
    return o;
  }

 private:
  std::string name_chars() {
    std::string name;
    while (pos_ < buf_.size() && is_regular(buf_[pos_])) {
      char c = buf_[pos_++];
      if (c == '#' && pos_ + 1 < buf_.size() && std::isxdigit(static_cast<unsigned char>(buf_[pos_])) &&
          std::isxdigit(static_cast<unsigned char>(buf_[pos_ + 1]))) {
        c = static_cast<char>(std::strtol(std::string(buf_.substr(pos_, 2)).c_str(), nullptr, 16));
        pos_ += 2;
      }
      name += c;
    }
    return name;
  }

  void skip_literal_string() {
    ++pos_;  // (
    int depth = 1;
    while (pos_ < buf_.size()) {
      const char c = buf_[pos_++];
      if (c == '\\') {
        ++pos_;
      } else if (c == '(') {
        ++depth;
      } else if (c == ')' && --depth == 0) {
        return;
      }
    }
    reject();
  }

  // A number, or the reference "num gen R" that starts with it.
  void number(Object& o) {
    const std::string_view w = peek_word();
    std::string_view digits = w;
    bool negative = false;
    if (!digits.empty() && (digits[0] == '+' || digits[0] == '-')) {
      negative = digits[0] == '-';
      digits.remove_prefix(1);
    }
    const size_t dot = digits.find('.');
    pos_ += w.size();
    if (dot == std::string_view::npos) {
      if (!is_digits(digits) || digits.size() > 18) reject();
      int64_t v = 0;
      std::from_chars(digits.data(), digits.data() + digits.size(), v);
      o.kind = Object::Kind::kInt;
      o.integer = negative ? -v : v;
      o.real = static_cast<double>(o.integer);
      if (!negative && w[0] != '+' && v <= INT_MAX) try_reference(o);
      return;
    }
    const std::string_view whole = digits.substr(0, dot), frac = digits.substr(dot + 1);
    if ((whole.empty() && frac.empty()) || (!whole.empty() && !is_digits(whole)) || (!frac.empty() && !is_digits(frac)))
      reject();
    o.kind = Object::Kind::kReal;
    o.real = std::strtod(std::string(w).c_str(), nullptr);
  }

  void try_reference(Object& o) {
    const size_t after_num = pos_;
    const std::string_view gen = peek_word();
    if (is_digits(gen) && gen.size() <= 5) {
      size_t p = pos_ + gen.size();
      while (p < buf_.size() && is_white(buf_[p])) ++p;
      if (p < buf_.size() && buf_[p] == 'R' && (p + 1 == buf_.size() || !is_regular(buf_[p + 1]))) {
        int g = 0;
        std::from_chars(gen.data(), gen.data() + gen.size(), g);
        o.kind = Object::Kind::kRef;
        o.ref = {static_cast<int>(o.integer), g};
        pos_ = p + 1;
        return;
      }
    }
    pos_ = after_num;
  }

  std::string_view buf_;
  size_t pos_;
};

// The elements of an array, one at a time, from its text.
class ArrayCursor {
 public:
  explicit ArrayCursor(const Object& array) : parser_(array.text, 1) {
    if (array.kind != Object::Kind::kArray) reject();
  }
  bool next(Object& out) {
    parser_.skip_white();
    if (parser_.pos() >= text_size() || parser_.peek_char() == ']') return false;
    out = parser_.object();
    return true;
  }

 private:
  size_t text_size() const { return parser_.size(); }
  Parser parser_;
};

std::vector<Object> elements(const Object& array) {
  std::vector<Object> out;
  ArrayCursor cursor(array);
  for (Object o; cursor.next(o);) out.push_back(std::move(o));
  return out;
}

// zlib inflate of `in` into `out`, refusing output beyond `limit` bytes.
void inflate_into(std::string_view in, size_t limit, std::string& out) {
  z_stream z{};
  if (inflateInit(&z) != Z_OK) reject();
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  char chunk[16384];
  bool ok = false;
  for (;;) {
    z.next_out = reinterpret_cast<Bytef*>(chunk);
    z.avail_out = sizeof chunk;
    const int rc = inflate(&z, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) break;  // corrupt data
    out.append(chunk, sizeof chunk - z.avail_out);
    if (out.size() > limit) break;
    // Like poppler, accept data whose end (or checksum) is missing once the input is used up.
    if (rc == Z_STREAM_END || rc == Z_BUF_ERROR || (z.avail_in == 0 && z.avail_out != 0)) {
      ok = true;
      break;
    }
  }
  inflateEnd(&z);
  if (!ok) reject();
}

// Undoes the PNG predictors (DecodeParms /Predictor 10-15) row by row.
std::string unpredict_png(const std::string& in, int colors, int bits, int columns) {
  if (colors < 1 || colors > 32 || (bits != 1 && bits != 2 && bits != 4 && bits != 8 && bits != 16) || columns < 1 ||
      columns > (1 << 20))
    reject();
  const size_t bpp = std::max<size_t>(1, static_cast<size_t>(colors) * bits / 8);
  const size_t row = (static_cast<size_t>(colors) * bits * columns + 7) / 8;
  if (in.size() % (row + 1) != 0) reject();
  std::string out;
  out.reserve(in.size() / (row + 1) * row);
  std::string prev(row, '\0');
  for (size_t at = 0; at < in.size(); at += row + 1) {
    const auto type = static_cast<unsigned char>(in[at]);
    std::string cur = in.substr(at + 1, row);
    for (size_t i = 0; i < row; ++i) {
      const int a = i >= bpp ? static_cast<unsigned char>(cur[i - bpp]) : 0;
      const int b = static_cast<unsigned char>(prev[i]);
      const int c = i >= bpp ? static_cast<unsigned char>(prev[i - bpp]) : 0;
      int add = 0;
      switch (type) {
        case 0: break;
        case 1: add = a; break;
        case 2: add = b; break;
        case 3: add = (a + b) / 2; break;
        case 4: {
          const int p = a + b - c, pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
          add = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
          break;
        }
        default: reject();
      }
      cur[i] = static_cast<char>(static_cast<unsigned char>(cur[i]) + add);
    }
    out += cur;
    prev = std::move(cur);
  }
  return out;
}

// The cross-reference of a file (every section, newest first) and the objects it locates.
class Reader {
 public:
  explicit Reader(std::string_view file) : file_(file) {
    if (file_.substr(0, 5) != "%PDF-") reject();  // poppler shifts offsets for data before the header
    const size_t tail = file_.size() > 1024 ? file_.size() - 1024 : 0;
    const size_t at = file_.rfind("startxref");
    if (at == std::string_view::npos || at < tail) reject();
    Parser p(file_, at + 9);
    startxref_ = p.unsigned_int();
    std::set<size_t> seen;
    for (size_t next = startxref_; next != 0;) {
      if (!seen.insert(next).second || seen.size() > kMaxSections) reject();
      next = read_section(next);
    }
    if (!trailer_.is_dict()) reject();
  }

  size_t startxref() const { return startxref_; }
  bool newest_is_stream() const { return newest_is_stream_; }
  const Object& trailer() const { return trailer_; }
  size_t object_count() const { return entries_.size(); }

  Object fetch(Ref ref) {
    if (++depth_ > 8) reject();  // a /Length that refers to a stream's /Length ...
    struct Leave {
      int& d;
      ~Leave() { --d; }
    } leave{depth_};
    if (ref.num < 0 || static_cast<size_t>(ref.num) >= entries_.size()) reject();
    const Entry e = entries_[ref.num];
    if (e.type == kInFile) {
      if (static_cast<int>(e.gen) != ref.gen) reject();
      return indirect_at(e.pos, ref);
    }
    if (e.type == kInStream && ref.gen == 0) {
      const ObjectStream& s = object_stream(e.pos);
      if (e.gen >= s.offsets.size() || s.offsets[e.gen].first != static_cast<uint64_t>(ref.num)) reject();
      Parser p(s.data, s.first + s.offsets[e.gen].second);
      return p.object();
    }
    reject();  // a free or missing object: poppler would read null; such files are not windowed
  }

  // `o` itself, or the object it refers to (kept in `holder`).
  const Object& resolve(const Object& o, Object& holder) {
    if (o.kind != Object::Kind::kRef) return o;
    holder = fetch(o.ref);
    return holder;
  }

 private:
  enum : uint8_t { kUnset, kFree, kInFile, kInStream };
  struct Entry {
    uint8_t type = kUnset;
    uint32_t gen = 0;  // generation; for kInStream the index inside the object stream
    uint64_t pos = 0;  // byte offset; for kInStream the object stream's number
  };
  struct ObjectStream {
    std::string data;
    size_t first = 0;
    std::vector<std::pair<uint64_t, size_t>> offsets;  // (object number, offset after /First)
  };

  // Sections are read newest first, so the first definition of an object number wins.
  void define(uint64_t num, Entry e) {
    if (num >= kMaxObjects || num > file_.size()) reject();
    if (num >= entries_.size()) entries_.resize(num + 1);
    if (entries_[num].type == kUnset) entries_[num] = e;
  }

  // Reads the section at `offset`; returns the offset of the previous one (0 when none).
  size_t read_section(size_t offset) {
    if (offset == 0 || offset >= file_.size()) reject();
    Parser p(file_, offset);
    if (p.peek_word() == "xref") {
      p.expect_word("xref");
      while (p.peek_word() != "trailer") {
        const uint64_t first = p.unsigned_int(), count = p.unsigned_int();
        if (count > file_.size() / 18 + 1) reject();
        for (uint64_t i = 0; i < count; ++i) {
          const uint64_t pos = p.unsigned_int(), gen = p.unsigned_int();
          const std::string_view kind = p.peek_word();
          if (kind != "n" && kind != "f") reject();
          p.expect_word(kind);
          if (gen > 65535) reject();
          define(first + i, {kind == "n" ? kInFile : kFree, static_cast<uint32_t>(gen), pos});
        }
      }
      p.expect_word("trailer");
      Object trailer = p.object();
      if (!trailer.is_dict()) reject();
      // A hybrid file's /XRefStm comes before /Prev.
      if (const Object* stm = trailer.get("XRefStm")) {
        if (stm->kind != Object::Kind::kInt || stm->integer <= 0) reject();
        Object s = indirect_at(static_cast<size_t>(stm->integer), std::nullopt);
        read_stream_entries(s);
      }
      return take_trailer(std::move(trailer));
    }
    Object s = indirect_at(offset, std::nullopt);
    read_stream_entries(s);
    s.kind = Object::Kind::kDict;  // its dictionary is the section's trailer
    s.stream = {};
    if (!trailer_.is_dict()) newest_is_stream_ = true;
    return take_trailer(std::move(s));
  }

  size_t take_trailer(Object trailer) {
    size_t prev = 0;
    if (const Object* p = trailer.get("Prev")) {
      if (p->kind != Object::Kind::kInt || p->integer <= 0) reject();
      prev = static_cast<size_t>(p->integer);
    }
    if (!trailer_.is_dict()) trailer_ = std::move(trailer);
    return prev;
  }

  void read_stream_entries(const Object& s) {
    const Object* type = s.get("Type");
    if (s.kind != Object::Kind::kStream || !type || !type->is_name("XRef")) reject();
    const Object* w = s.get("W");
    if (!w) reject();
    const std::vector<Object> w_items = elements(*w);
    if (w_items.size() != 3) reject();
    int widths[3];
    for (int i = 0; i < 3; ++i) {
      if (w_items[i].kind != Object::Kind::kInt || w_items[i].integer < 0 || w_items[i].integer > 8) reject();
      widths[i] = static_cast<int>(w_items[i].integer);
    }
    const size_t row = widths[0] + widths[1] + widths[2];
    if (row == 0) reject();
    std::vector<std::pair<uint64_t, uint64_t>> ranges;
    if (const Object* index = s.get("Index")) {
      const std::vector<Object> items = elements(*index);
      if (items.size() % 2) reject();
      for (size_t i = 0; i < items.size(); i += 2) {
        const Object &a = items[i], &b = items[i + 1];
        if (a.kind != Object::Kind::kInt || b.kind != Object::Kind::kInt || a.integer < 0 || b.integer < 0) reject();
        ranges.emplace_back(a.integer, b.integer);
      }
    } else {
      const Object* size = s.get("Size");
      if (!size || size->kind != Object::Kind::kInt || size->integer < 0) reject();
      ranges.emplace_back(0, size->integer);
    }
    const std::string data = decode(s);
    size_t at = 0;
    auto field = [&](int width) {
      uint64_t v = 0;
      for (int i = 0; i < width; ++i) v = (v << 8) | static_cast<unsigned char>(data[at++]);
      return v;
    };
    for (const auto& [first, count] : ranges) {
      if (count > data.size() / row) reject();
      for (uint64_t i = 0; i < count; ++i) {
        if (at + row > data.size()) reject();
        const uint64_t type = widths[0] ? field(widths[0]) : 1, f1 = field(widths[1]), f2 = field(widths[2]);
        if (f2 > UINT32_MAX) reject();
        const uint8_t kind = type == 1 ? kInFile : type == 2 ? kInStream : kFree;
        if (kind == kInFile && f2 > 65535) reject();
        define(first + i, {kind, static_cast<uint32_t>(f2), f1});
      }
    }
  }

  // "num gen obj <object> [stream ... endstream]" at `offset`, checked against `expect`.
  Object indirect_at(size_t offset, std::optional<Ref> expect) {
    Parser p(file_, offset);
    const uint64_t num = p.unsigned_int(), gen = p.unsigned_int();
    p.expect_word("obj");
    if (expect && (num != static_cast<uint64_t>(expect->num) || gen != static_cast<uint64_t>(expect->gen))) reject();
    Object o = p.object();
    if (o.is_dict() && p.peek_word() == "stream") {
      o.kind = Object::Kind::kStream;
      size_t at = p.pos() + 6;
      if (at < file_.size() && file_[at] == '\r') ++at;
      if (at < file_.size() && file_[at] == '\n') ++at;
      const Object* length = o.get("Length");
      if (!length) reject();
      Object holder;
      const Object& n = resolve(*length, holder);
      if (n.kind != Object::Kind::kInt || n.integer < 0 || static_cast<uint64_t>(n.integer) > file_.size() - at) reject();
      o.stream = file_.substr(at, static_cast<size_t>(n.integer));
      Parser end(file_, at + o.stream.size());
      end.expect_word("endstream");
    }
    return o;
  }

  // A stream's data with its filter undone (none, or Flate with an optional PNG predictor).
  std::string decode(const Object& s) {
    const Object* filter = s.get("Filter");
    const Object* parms = s.get("DecodeParms");
    std::vector<Object> filters, parms_list;  // a one-element array stands for its element
    if (filter && filter->kind == Object::Kind::kArray) {
      filters = elements(*filter);
      if (filters.size() > 1) reject();
      filter = filters.empty() ? nullptr : &filters[0];
      if (parms && parms->kind == Object::Kind::kArray) {
        parms_list = elements(*parms);
        if (parms_list.size() > 1) reject();
        parms = parms_list.empty() ? nullptr : &parms_list[0];
      }
    }
    if (parms && parms->kind == Object::Kind::kNull) parms = nullptr;
    if (!filter) {
      if (parms) reject();
      return std::string(s.stream);
    }
    if (!filter->is_name("FlateDecode")) reject();
    std::string out;
    inflate_into(s.stream, kMaxDecoded - decoded_, out);
    decoded_ += out.size();
    if (!parms) return out;
    if (!parms->is_dict()) reject();
    auto param = [&](const char* key, int fallback) {
      const Object* v = parms->get(key);
      if (!v) return fallback;
      if (v->kind != Object::Kind::kInt || v->integer < 0 || v->integer > INT_MAX) reject();
      return static_cast<int>(v->integer);
    };
    const int predictor = param("Predictor", 1);
    if (predictor == 1) return out;
    if (predictor < 10 || predictor > 15) reject();
    return unpredict_png(out, param("Colors", 1), param("BitsPerComponent", 8), param("Columns", 1));
  }

  const ObjectStream& object_stream(uint64_t num) {
    if (auto it = streams_.find(num); it != streams_.end()) return it->second;
    if (num >= entries_.size() || entries_[num].type != kInFile) reject();
    Object s = indirect_at(entries_[num].pos, Ref{static_cast<int>(num), static_cast<int>(entries_[num].gen)});
    const Object *type = s.get("Type"), *n = s.get("N"), *first = s.get("First");
    if (s.kind != Object::Kind::kStream || !type || !type->is_name("ObjStm") || !n || n->kind != Object::Kind::kInt || !first ||
        first->kind != Object::Kind::kInt || n->integer < 0 || first->integer < 0)
      reject();
    ObjectStream out;
    out.data = decode(s);
    if (static_cast<uint64_t>(first->integer) > out.data.size() || static_cast<uint64_t>(n->integer) > out.data.size())
      reject();
    out.first = static_cast<size_t>(first->integer);
    Parser header(std::string_view(out.data).substr(0, out.first), 0);
    for (int64_t i = 0; i < n->integer; ++i) {
      const uint64_t obj = header.unsigned_int(), off = header.unsigned_int();
      if (off > out.data.size() - out.first) reject();
      out.offsets.emplace_back(obj, static_cast<size_t>(off));
    }
    return streams_.emplace(num, std::move(out)).first->second;
  }

  std::string_view file_;
  size_t startxref_ = 0;
  bool newest_is_stream_ = false;
  std::vector<Entry> entries_;
  Object trailer_;
  std::map<uint64_t, ObjectStream> streams_;  // decoded once; objects keep views into them
  size_t decoded_ = 0;
  int depth_ = 0;
};

// What a node passes down to its pages, as poppler's PageAttrs inherits it: the last valid
// MediaBox and CropBox (four numbers, not all zero), the last integer Rotate, the last
// dictionary Resources. Kept as PDF text.
struct Inherited {
  std::string media_box, crop_box, rotate, resources;

  std::string text() const {
    std::string out;
    if (!media_box.empty()) out += " /MediaBox " + media_box;
    if (!crop_box.empty()) out += " /CropBox " + crop_box;
    if (!rotate.empty()) out += " /Rotate " + rotate;
    if (!resources.empty()) out += " /Resources " + resources;
    return out;
  }
};

bool valid_box(const Object& box) {
  if (box.kind != Object::Kind::kArray) return false;
  const std::vector<Object> items = elements(box);
  if (items.size() != 4) return false;
  bool all_zero = true;
  for (const Object& v : items) {
    if (v.kind == Object::Kind::kRef) reject();  // poppler would follow it; not worth following here
    if (!v.is_number()) return false;
    all_zero = all_zero && v.real == 0;
  }
  return !all_zero;
}

Inherited inherit(const Inherited& parent, const Object& node, Reader& reader) {
  Inherited out = parent;
  Object holder;
  for (auto [key, value] : {std::pair{"MediaBox", &out.media_box}, std::pair{"CropBox", &out.crop_box}}) {
    if (const Object* v = node.get(key)) {
      const Object& box = reader.resolve(*v, holder);
      if (valid_box(box)) *value = std::string(box.text);
    }
  }
  if (const Object* v = node.get("Rotate")) {
    const Object& r = reader.resolve(*v, holder);
    if (r.kind == Object::Kind::kInt && r.integer >= INT_MIN && r.integer <= INT_MAX) out.rotate = std::to_string(r.integer);
  }
  if (const Object* v = node.get("Resources"); v && reader.resolve(*v, holder).is_dict())
    out.resources = std::string(v->text);  // a reference stays a reference
  return out;
}

std::string ref_text(Ref r) { return std::to_string(r.num) + " " + std::to_string(r.gen) + " R"; }

}  // namespace

std::optional<PageWindows> PageWindows::read(std::string_view bytes) {
  try {
    Reader reader(bytes);
    const Object& trailer = reader.trailer();
    if (trailer.get("Encrypt")) return std::nullopt;  // the update would have to be encrypted too
    const Object* root = trailer.get("Root");
    if (!root || root->kind != Object::Kind::kRef) return std::nullopt;

    PageWindows out;
    out.catalog_ = root->ref;
    out.startxref_ = reader.startxref();
    out.xref_stream_ = reader.newest_is_stream();
    out.next_object_ = static_cast<int>(reader.object_count());
    if (const Object* size = trailer.get("Size"); size && size->kind == Object::Kind::kInt)
      out.next_object_ = static_cast<int>(std::max<int64_t>(out.next_object_, std::min<int64_t>(size->integer, INT_MAX / 2)));

    const Object catalog = reader.fetch(out.catalog_);
    const Object* pages = catalog.is_dict() ? catalog.get("Pages") : nullptr;
    if (!pages || pages->kind != Object::Kind::kRef) return std::nullopt;
    out.pages_root_ = pages->ref;
    Object root_node = reader.fetch(out.pages_root_);
    const Object* count = root_node.is_dict() ? root_node.get("Count") : nullptr;
    if (!count || !count->is_number() || count->real < 1 || count->real > static_cast<double>(reader.object_count()))
      return std::nullopt;
    const auto declared = static_cast<size_t>(count->real);

    // Walk the tree as poppler's Catalog::cachePageTree does: kids in order, a kid that is a
    // /Type /Page or has no /Kids is a page, any other dictionary a node. Where poppler would
    // complain and skip (a loop, a kid that is not a reference or not a dictionary), stop.
    std::map<std::string, int> inherited_index{{"", 0}};
    out.inherited_.push_back("");
    // A node on the path from the root: what it passes down, and where its kids are read.
    struct Frame {
      Ref ref;
      Inherited inherited;
      int inherited_index = 0;
      ArrayCursor kids;
    };
    auto kids_of = [&](const Object& node) {
      const Object* kids = node.get("Kids");
      if (!kids) reject();
      Object holder;
      return ArrayCursor(reader.resolve(*kids, holder));  // the text stays in the file or a decoded stream
    };
    auto index_of = [&](const Inherited& in) {
      const std::string text = in.text();
      auto [it, added] = inherited_index.emplace(text, static_cast<int>(out.inherited_.size()));
      if (added) out.inherited_.push_back(text);
      return it->second;
    };
    std::vector<Frame> path;
    Inherited top = inherit({}, root_node, reader);
    const int top_index = index_of(top);
    path.push_back({out.pages_root_, std::move(top), top_index, kids_of(root_node)});
    size_t visits = 0;
    while (!path.empty()) {
      Frame& f = path.back();
      Object kid_ref;
      if (!f.kids.next(kid_ref)) {
        path.pop_back();
        continue;
      }
      if (kid_ref.kind != Object::Kind::kRef) return std::nullopt;
      for (const Frame& ancestor : path)
        if (ancestor.ref.num == kid_ref.ref.num) return std::nullopt;
      if (++visits > 2 * declared + 1024) return std::nullopt;  // a DAG that repeats subtrees
      Object kid = reader.fetch(kid_ref.ref);
      if (!kid.is_dict()) return std::nullopt;
      const Object* type = kid.get("Type");
      Object type_holder;
      const bool is_page = type && reader.resolve(*type, type_holder).is_name("Page");
      if (is_page || !kid.get("Kids")) {
        out.leaves_.push_back({kid_ref.ref, f.inherited_index});
        if (out.leaves_.size() > declared) return std::nullopt;
      } else {
        if (path.size() >= static_cast<size_t>(kMaxDepth)) return std::nullopt;
        Inherited in = inherit(f.inherited, kid, reader);
        const int index = index_of(in);
        path.push_back({kid_ref.ref, std::move(in), index, kids_of(kid)});
      }
    }
    if (out.leaves_.size() != declared) return std::nullopt;
    out.leaves_.shrink_to_fit();
    return out;
  } catch (const Unsupported&) {
    return std::nullopt;
  } catch (const std::bad_alloc&) {
    return std::nullopt;
  }
}

std::string PageWindows::update(int first, int count, size_t file_size) const {
  // New objects: the redefined root node, then one node per run of consecutive pages that
  // inherit the same attributes (pages that inherit nothing hang from the root directly).
  std::string body = "\n";
  std::vector<std::pair<int, size_t>> offsets;  // (object number, offset in the file)
  std::string root_kids;
  std::vector<std::string> nodes;
  const std::string parent = ref_text(pages_root_);
  for (int i = first; i < first + count;) {
    const int inherited = leaves_[i].inherited;
    int end = i;
    std::string kids;
    while (end < first + count && leaves_[end].inherited == inherited) kids += ref_text(leaves_[end++].ref) + " ";
    if (inherited == 0) {
      root_kids += kids;
    } else {
      const int num = next_object_ + static_cast<int>(nodes.size());
      root_kids += ref_text({num, 0}) + " ";
      nodes.push_back(std::to_string(num) + " 0 obj\n<< /Type /Pages /Parent " + parent + " /Kids [ " + kids +
                      "] /Count " + std::to_string(end - i) + inherited_[inherited] + " >>\nendobj\n");
    }
    i = end;
  }
  offsets.emplace_back(pages_root_.num, file_size + body.size());
  body += std::to_string(pages_root_.num) + " " + std::to_string(pages_root_.gen) + " obj\n<< /Type /Pages /Kids [ " +
          root_kids + "] /Count " + std::to_string(count) + " >>\nendobj\n";
  for (size_t j = 0; j < nodes.size(); ++j) {
    offsets.emplace_back(next_object_ + static_cast<int>(j), file_size + body.size());
    body += nodes[j];
  }
  const size_t xref = file_size + body.size();
  const int size = next_object_ + static_cast<int>(nodes.size());
  const std::string trailer = " /Root " + ref_text(catalog_) + " /Prev " + std::to_string(startxref_);
  if (!xref_stream_) {
    char entry[32];
    body += "xref\n" + std::to_string(pages_root_.num) + " 1\n";
    std::snprintf(entry, sizeof entry, "%010zu %05d n \n", offsets[0].second, pages_root_.gen);
    body += entry;
    if (!nodes.empty()) {
      body += std::to_string(next_object_) + " " + std::to_string(nodes.size()) + "\n";
      for (size_t j = 1; j < offsets.size(); ++j) {
        std::snprintf(entry, sizeof entry, "%010zu 00000 n \n", offsets[j].second);
        body += entry;
      }
    }
    body += "trailer\n<< /Size " + std::to_string(size) + trailer + " >>\n";
  } else {
    // The original's newest section is a cross-reference stream, so this one is too: poppler
    // repairs a damaged file (rebuilds its cross-reference from a scan) only when the newest
    // section is a table, and a window must be repaired, or not, like the whole file.
    // Rows of type (1 byte), offset (4), generation (2); the stream is object `size` itself.
    offsets.emplace_back(size, xref);
    std::string rows;
    for (size_t j = 0; j < offsets.size(); ++j) {
      const auto at = static_cast<uint32_t>(offsets[j].second);
      const int gen = j == 0 ? pages_root_.gen : 0;
      const char row[7] = {1, static_cast<char>(at >> 24), static_cast<char>(at >> 16), static_cast<char>(at >> 8),
                           static_cast<char>(at), static_cast<char>(gen >> 8), static_cast<char>(gen)};
      rows.append(row, sizeof row);
    }
    body += std::to_string(size) + " 0 obj\n<< /Type /XRef /Size " + std::to_string(size + 1) + " /W [1 4 2] /Index [" +
            std::to_string(pages_root_.num) + " 1 " + std::to_string(next_object_) + " " +
            std::to_string(nodes.size() + 1) + "]" + trailer + " /Length " + std::to_string(rows.size()) +
            " >>\nstream\n" + rows + "\nendstream\nendobj\n";
  }
  body += "startxref\n" + std::to_string(xref) + "\n%%EOF\n";
  return body;
}

}  // namespace folio::pdf
