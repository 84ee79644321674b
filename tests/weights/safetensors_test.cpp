#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "core/error.h"
#include "weights/checkpoint.h"
#include "weights/safetensors.h"

using namespace folio;
namespace fs = std::filesystem;

namespace {

fs::path temp_dir(const std::string& name) {
  fs::path p = fs::temp_directory_path() / ("folio_weights_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(p);
  fs::create_directories(p);
  return p;
}

void write_two_tensors(const std::string& path) {
  SafetensorsWriter w;
  w.add("a", DType::kF32, {2, 3}, [](char* d) {
    float* f = reinterpret_cast<float*>(d);
    for (int i = 0; i < 6; ++i) f[i] = static_cast<float>(i);
  });
  w.add("b", DType::kBF16, {4}, [](char* d) { std::fill_n(reinterpret_cast<uint16_t*>(d), 4, uint16_t(0x3f80)); });
  w.write(path);
}

std::string expect_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "no folio::Error thrown";
  return "";
}

}  // namespace

TEST(Safetensors, RoundTripsTensorsThroughTheMapping) {
  const fs::path dir = temp_dir("roundtrip");
  write_two_tensors((dir / "m.safetensors").string());
  auto f = SafetensorsFile::open((dir / "m.safetensors").string());
  ASSERT_EQ(f->tensors().size(), 2u);
  Tensor a = f->get("a");
  EXPECT_EQ(a.shape(), (Shape{2, 3}));
  EXPECT_EQ(a.data<float>()[5], 5.0f);
  EXPECT_EQ(f->get("b").to_vector_f32()[3], 1.0f);
}

TEST(Safetensors, TruncatedFileIsRefusedNamingTheTensor) {
  const fs::path dir = temp_dir("trunc");
  const std::string path = (dir / "m.safetensors").string();
  write_two_tensors(path);
  fs::resize_file(path, fs::file_size(path) - 4);
  const std::string msg = expect_error([&] { SafetensorsFile::open(path); });
  EXPECT_NE(msg.find(path), std::string::npos) << msg;
  EXPECT_NE(msg.find("'b'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("truncated"), std::string::npos) << msg;
}

TEST(Safetensors, GarbageHeaderIsRefused) {
  const fs::path dir = temp_dir("garbage");
  const std::string path = (dir / "m.safetensors").string();
  std::ofstream(path) << "not a safetensors file at all";
  EXPECT_NE(expect_error([&] { SafetensorsFile::open(path); }).find(path), std::string::npos);
  std::ofstream(path, std::ios::trunc) << "abc";
  EXPECT_NE(expect_error([&] { SafetensorsFile::open(path); }).find("too short"), std::string::npos);
}

TEST(Checkpoint, ShardedFolderAndItsErrors) {
  const fs::path dir = temp_dir("sharded");
  write_two_tensors((dir / "part-1.safetensors").string());
  SafetensorsWriter w;
  w.add("c", DType::kF32, {1}, [](char* d) { *reinterpret_cast<float*>(d) = 7.0f; });
  w.write((dir / "part-2.safetensors").string());
  std::ofstream(dir / "config.json") << "{\"hidden_size\": 4}";
  std::ofstream(dir / "model.safetensors.index.json")
      << R"({"weight_map": {"a": "part-1.safetensors", "b": "part-1.safetensors", "c": "part-2.safetensors"}})";
  auto ck = Checkpoint::open(dir.string());
  EXPECT_EQ(ck->tensor_count(), 3u);
  EXPECT_EQ(ck->get("c", {1}).data<float>()[0], 7.0f);
  EXPECT_NE(expect_error([&] { ck->get("a", {3, 2}); }).find("has shape [2, 3], expected [3, 2]"), std::string::npos);
  EXPECT_NE(expect_error([&] { ck->get("missing"); }).find("missing tensor 'missing'"), std::string::npos);
  EXPECT_NE(expect_error([&] { ck->get("b", {4}, {DType::kF32}); }).find("dtype BF16"), std::string::npos);
  ck->get("a", {2, 3});
  EXPECT_EQ(ck->untaken(), std::vector<std::string>{"b"});

  fs::remove(dir / "part-2.safetensors");
  EXPECT_NE(expect_error([&] { Checkpoint::open(dir.string()); }).find("part-2.safetensors: listed in the index but missing"),
            std::string::npos);
  fs::remove(dir / "config.json");
  EXPECT_NE(expect_error([&] { Checkpoint::open(dir.string()); }).find("config.json"), std::string::npos);
}
