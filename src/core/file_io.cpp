#include "core/file_io.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/error.h"

namespace folio {

std::string read_file(const std::string& path, size_t spare_capacity) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw not_found(path + ": cannot open (" + std::strerror(errno) + ")");
  // Sized from the file, so the bytes are held once: a string stream grows by doubling and then
  // copies, about three times the file at the peak (a job's document is read this way).
  std::string out;
  const std::streamoff size = in.tellg();
  if (size > 0) {
    out.reserve(static_cast<size_t>(size) + spare_capacity);
    out.resize(static_cast<size_t>(size));
    in.seekg(0);
    in.read(out.data(), size);
    if (in.gcount() != size) throw internal_error(path + ": read error");
  }
  // Whatever the size did not tell (a file that grew, or one with no size such as /proc files).
  std::ostringstream rest;
  if (in.peek() != std::ifstream::traits_type::eof()) rest << in.rdbuf();
  if (in.bad()) throw internal_error(path + ": read error");
  if (rest.tellp() > 0) out += rest.str();
  return out;
}

}  // namespace folio
