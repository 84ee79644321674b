#include "image/io/image_header.h"

#include <cstdlib>

#include "core/error.h"

namespace folio {
namespace {

// Bounds-checked little/big-endian reads; a read past the end means a truncated header.
class Reader {
 public:
  Reader(std::string_view b, const std::string& name, const char* fmt) : b_(b), name_(name), fmt_(fmt) {}

  uint64_t le(size_t at, int n) const {
    need(at, n);
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; --i) v = (v << 8) | byte(at + i);
    return v;
  }
  uint64_t be(size_t at, int n) const {
    need(at, n);
    uint64_t v = 0;
    for (int i = 0; i < n; ++i) v = (v << 8) | byte(at + i);
    return v;
  }
  uint8_t byte(size_t at) const {
    need(at, 1);
    return static_cast<uint8_t>(b_[at]);
  }
  bool has(size_t at, size_t n) const { return at <= b_.size() && n <= b_.size() - at; }
  std::string_view tag(size_t at, size_t n) const {
    need(at, n);
    return b_.substr(at, n);
  }
  size_t size() const { return b_.size(); }
  [[noreturn]] void fail(const std::string& problem) const {
    throw invalid_input(name_ + ": " + fmt_ + " " + problem);
  }

 private:
  void need(size_t at, size_t n) const {
    if (!has(at, n)) fail("header is truncated");
  }
  std::string_view b_;
  const std::string& name_;
  const char* fmt_;
};

ImageDims png_dims(const Reader& r) {
  if (r.tag(12, 4) != "IHDR") r.fail("file does not start with an IHDR chunk");
  return {static_cast<int64_t>(r.be(16, 4)), static_cast<int64_t>(r.be(20, 4))};
}

// Walks the marker segments up to the first SOS; fills the frame size from the SOFn seen
// on the way and returns the offset of the SOS marker.
size_t walk_jpeg(const Reader& r, ImageDims* dims) {
  size_t at = 2;
  while (true) {
    if (r.byte(at) != 0xff) r.fail("marker expected at offset " + std::to_string(at));
    while (r.byte(at) == 0xff) ++at;  // fill bytes
    const uint8_t m = r.byte(at++);
    if (m == 0xd8 || m == 0x01 || (m >= 0xd0 && m <= 0xd7)) continue;  // no length field
    if (m == 0xd9) r.fail("data ends before the image data");
    if (m == 0xda) {
      if (dims->width == 0) r.fail("data has no frame header (SOF) before the image data");
      return at - 2;
    }
    const size_t len = r.be(at, 2);
    if (len < 2) r.fail("segment length is invalid");
    const bool sof = m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc;
    if (sof && dims->width == 0) {
      dims->height = static_cast<int64_t>(r.be(at + 3, 2));
      dims->width = static_cast<int64_t>(r.be(at + 5, 2));
      if (dims->height == 0) r.fail("height defined after the image data (DNL) is not supported");
      if (dims->width == 0) r.fail("frame header has width 0");
    }
    at += len;
  }
}

ImageDims jpeg_dims(const Reader& r) {
  ImageDims d;
  walk_jpeg(r, &d);
  return d;
}

ImageDims gif_dims(const Reader& r) { return {static_cast<int64_t>(r.le(6, 2)), static_cast<int64_t>(r.le(8, 2))}; }

ImageDims bmp_dims(const Reader& r) {
  const uint64_t header = r.le(14, 4);
  if (header == 12) return {static_cast<int64_t>(r.le(18, 2)), static_cast<int64_t>(r.le(20, 2))};
  if (header < 16) r.fail("info header size " + std::to_string(header) + " is invalid");
  const auto w = static_cast<int32_t>(r.le(18, 4)), h = static_cast<int32_t>(r.le(22, 4));
  // A negative height means rows are stored top-down.
  return {static_cast<int64_t>(w), std::llabs(static_cast<int64_t>(h))};
}

ImageDims webp_dims(const Reader& r) {
  const std::string_view chunk = r.tag(12, 4);
  if (chunk == "VP8 ") {
    if (r.be(23, 3) != 0x9d012a) r.fail("VP8 frame has no start code");
    return {static_cast<int64_t>(r.le(26, 2) & 0x3fff), static_cast<int64_t>(r.le(28, 2) & 0x3fff)};
  }
  if (chunk == "VP8L") {
    if (r.byte(20) != 0x2f) r.fail("VP8L signature is missing");
    const uint64_t bits = r.le(21, 4);
    return {static_cast<int64_t>((bits & 0x3fff) + 1), static_cast<int64_t>(((bits >> 14) & 0x3fff) + 1)};
  }
  if (chunk == "VP8X")
    return {static_cast<int64_t>(r.le(24, 3) + 1), static_cast<int64_t>(r.le(27, 3) + 1)};
  r.fail("first chunk '" + std::string(chunk) + "' is not VP8, VP8L or VP8X");
}

// First IFD of a classic or BigTIFF file: tags 256 (ImageWidth) and 257 (ImageLength).
ImageDims tiff_dims(const Reader& r) {
  const bool little = r.tag(0, 2) == "II";
  auto u = [&](size_t at, int n) { return little ? r.le(at, n) : r.be(at, n); };
  const bool big = u(2, 2) == 43;
  const uint64_t ifd = big ? u(8, 8) : u(4, 4);
  if (ifd < 8 || ifd >= r.size()) r.fail("first directory offset is outside the file");
  const uint64_t count = big ? u(ifd, 8) : u(ifd, 2);
  const size_t entry_size = big ? 20 : 12, first = ifd + (big ? 8 : 2);
  int64_t dim[2] = {0, 0};
  for (uint64_t i = 0; i < count; ++i) {
    const size_t e = first + i * entry_size;
    const uint64_t tag = u(e, 2), type = u(e + 2, 2);
    if (tag != 256 && tag != 257) continue;
    const size_t value = e + (big ? 12 : 8);
    uint64_t v = 0;
    if (type == 3) v = u(value, 2);        // SHORT
    else if (type == 4) v = u(value, 4);   // LONG
    else if (type == 16) v = u(value, 8);  // LONG8 (BigTIFF)
    else r.fail("image size tag has an unexpected type " + std::to_string(type));
    dim[tag - 256] = v > static_cast<uint64_t>(INT64_MAX) ? INT64_MAX : static_cast<int64_t>(v);
  }
  if (dim[0] == 0 || dim[1] == 0) r.fail("first directory has no image size");
  return {dim[0], dim[1]};
}

}  // namespace

size_t jpeg_first_scan_offset(std::string_view bytes, const std::string& name) {
  ImageDims d;
  return walk_jpeg(Reader(bytes, name, "jpeg"), &d);
}

ImageDims read_image_dims(std::string_view bytes, FileFormat format, const std::string& name) {
  const Reader r(bytes, name, format_name(format));
  switch (format) {
    case FileFormat::kPng: return png_dims(r);
    case FileFormat::kJpeg: return jpeg_dims(r);
    case FileFormat::kGif: return gif_dims(r);
    case FileFormat::kBmp: return bmp_dims(r);
    case FileFormat::kWebp: return webp_dims(r);
    case FileFormat::kTiff: return tiff_dims(r);
    default: break;
  }
  throw invalid_input(name + ": not an image format with a size header (" + format_name(format) + ")");
}

}  // namespace folio
