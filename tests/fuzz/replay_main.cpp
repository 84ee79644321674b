// Stand-in for libFuzzer when clang is not available: runs the fuzz target over every file of the
// corpus folders given on the command line, then over N deterministic mutations of them
// (byte flips, truncations, splices and insertions of grounding-tag fragments).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

void run(const std::string& input) { LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()), input.size()); }

std::string mutate(std::string s, const std::vector<std::string>& corpus, std::mt19937& rng) {
  static const char* fragments[] = {"<|ref|>", "<|/ref|>", "<|det|>", "<|/det|>", "[[", "]]", ", ", "999",
                                    "-1", "1.5", "[", "]", "<|", "image", "\n\n\n", "\xF0\x9F"};
  int steps = 1 + rng() % 8;
  for (int i = 0; i < steps; ++i) {
    size_t pos = s.empty() ? 0 : rng() % (s.size() + 1);
    switch (rng() % 5) {
      case 0:
        if (!s.empty()) s[rng() % s.size()] = static_cast<char>(rng());
        break;
      case 1:
        s.resize(pos);
        break;
      case 2:
        s.insert(pos, fragments[rng() % (sizeof fragments / sizeof *fragments)]);
        break;
      case 3: {
        const std::string& other = corpus[rng() % corpus.size()];
        size_t from = other.empty() ? 0 : rng() % other.size();
        s.insert(pos, other.substr(from, rng() % 64));
        break;
      }
      case 4:
        if (pos < s.size()) s.erase(pos, rng() % 16);
        break;
    }
  }
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  long mutations = 20000;
  std::vector<std::string> corpus;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("-runs=", 0) == 0) {
      mutations = std::atol(arg.c_str() + 6);
      continue;
    }
    if (!std::filesystem::is_directory(arg)) continue;
    for (const auto& entry : std::filesystem::directory_iterator(arg)) {
      std::ifstream in(entry.path(), std::ios::binary);
      corpus.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
  }
  if (corpus.empty()) corpus.emplace_back();
  for (const auto& input : corpus) run(input);
  std::mt19937 rng(12345);
  for (long i = 0; i < mutations; ++i) run(mutate(corpus[rng() % corpus.size()], corpus, rng));
  std::printf("replayed %zu corpus files and %ld mutations\n", corpus.size(), mutations);
  return 0;
}
