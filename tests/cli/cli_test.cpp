// The `folio` binary as a user runs it: bad input gives a clear message naming the file and a
// non-zero exit, never a crash; the model commands produce what they promise.
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/golden.h"

namespace fs = std::filesystem;

namespace {

struct CommandRun {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

CommandRun run_folio(const std::string& args) {
  const std::string cmd = std::string(FOLIO_BINARY_DIR) + "/folio " + args + " 2>&1";
  CommandRun r;
  FILE* p = popen(cmd.c_str(), "r");
  std::array<char, 4096> buf{};
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.output.append(buf.data(), n);
  const int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

fs::path scratch() {
  fs::path p = fs::temp_directory_path() / ("folio_cli_" + std::to_string(::getpid()));
  fs::create_directories(p);
  return p;
}

void write(const fs::path& p, const std::string& bytes) { std::ofstream(p, std::ios::binary) << bytes; }

// A PNG signature and IHDR chunk declaring w x h, nothing after it.
std::string png_header(uint32_t w, uint32_t h) {
  std::string s = "\x89PNG\r\n\x1a\n";
  s += std::string("\0\0\0\x0dIHDR", 8);
  for (uint32_t v : {w, h})
    for (int shift = 24; shift >= 0; shift -= 8) s.push_back(static_cast<char>((v >> shift) & 0xff));
  s += std::string("\x08\x02\0\0\0", 5);
  s += std::string("\0\0\0\0", 4);  // CRC (not checked before the size is)
  return s;
}

const fs::path& tiny_model() {
  static const fs::path dir = [] {
    const fs::path d = scratch() / "tiny-model";
    const CommandRun r = run_folio("model random --preset tiny --seed 3 --out " + d.string());
    EXPECT_EQ(r.exit_code, 0) << r.output;
    return d;
  }();
  return dir;
}

}  // namespace

TEST(Cli, BadImagesAreRefusedNamingTheFile) {
  const fs::path dir = scratch();
  write(dir / "huge.png", png_header(100000, 100000));
  write(dir / "notes.png", "this is not an image at all");
  const std::string png = png_header(64, 64) + std::string("\0\0\0\x10IDAT", 8);
  write(dir / "cut.png", png);
  for (const auto& [file, problem] : std::vector<std::pair<std::string, std::string>>{
           {"huge.png", "100000"}, {"notes.png", "notes.png"}, {"cut.png", "cut.png"}}) {
    const CommandRun r = run_folio("ocr --json " + (dir / file).string());
    EXPECT_NE(r.exit_code, 0) << file;
    EXPECT_LT(r.exit_code, 128) << "crashed on " << file << ": " << r.output;
    EXPECT_NE(r.output.find(file), std::string::npos) << r.output;
    EXPECT_NE(r.output.find(problem), std::string::npos) << r.output;
  }
}

TEST(Cli, BrokenModelFoldersAreRefusedNamingFieldOrTensor) {
  const fs::path good = tiny_model();
  const fs::path dir = scratch() / "broken-config";
  fs::remove_all(dir);
  fs::copy(good, dir);
  nlohmann::json cfg = nlohmann::json::parse(std::ifstream(dir / "config.json"));
  cfg.erase("num_hidden_layers");
  cfg["language_config"].erase("num_hidden_layers");
  std::ofstream(dir / "config.json") << cfg.dump();
  write(dir / "page.png", "");
  CommandRun r = run_folio("bench --model " + dir.string() + " --stages decode --max-tokens 1 --pages 1");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("'num_hidden_layers' is missing"), std::string::npos) << r.output;

  const fs::path trunc = scratch() / "truncated-weights";
  fs::remove_all(trunc);
  fs::copy(good, trunc);
  const fs::path shard = trunc / "model-00001-of-000001.safetensors";
  fs::resize_file(shard, fs::file_size(shard) / 2);
  r = run_folio("bench --model " + trunc.string() + " --stages decode --max-tokens 1 --pages 1");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_LT(r.exit_code, 128) << r.output;
  EXPECT_NE(r.output.find("truncated"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("model-00001-of-000001.safetensors"), std::string::npos) << r.output;
}

TEST(Cli, OcrJsonOnATinyModelHasEveryField) {
  const fs::path dir = scratch();
  const std::string gold = folio::testing::golden_v1_tiny();
  FOLIO_REQUIRE_GOLDEN(gold);
  const CommandRun r = run_folio("ocr --json --mode tiny --max-tokens 8 --model " + tiny_model().string() + " " + gold +
                      "/images/small.png");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto j = nlohmann::json::parse(r.output.substr(r.output.find('{')));
  ASSERT_EQ(j["pages"].size(), 1u);
  const auto& p = j["pages"][0];
  for (const char* k : {"index", "markdown", "text", "raw", "blocks", "finish_reason"}) EXPECT_TRUE(p.contains(k)) << k;
  EXPECT_EQ(p["timings"]["output_tokens"].get<int>() <= 8, true);
  EXPECT_TRUE(p["finish_reason"] == "length" || p["finish_reason"] == "stop" || p["finish_reason"] == "repetition");
}

TEST(Cli, BenchPrintsTheFiguresAsJson) {
  const CommandRun r = run_folio("bench --model " + tiny_model().string() + " --mode tiny --pages 1 --max-tokens 4");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto j = nlohmann::json::parse(r.output.substr(r.output.find('{')));
  EXPECT_GT(j["encoder"][0]["ms"]["mean"].get<double>(), 0.0);
  EXPECT_EQ(j["encoder"][1]["mode"], "gundam");
  EXPECT_GT(j["prefill"]["ms"]["mean"].get<double>(), 0.0);
  EXPECT_GT(j["decode"]["tokens_per_s"]["mean"].get<double>(), 0.0);
  EXPECT_GT(j["peak_rss_bytes"].get<int64_t>(), 0);
}
