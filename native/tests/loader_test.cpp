// Loading from safetensors-style files: zero-copy F32, F16 and BF16 (matrices kept in 16 bits,
// vectors widened), transposed and split tensors, and the checks that turn bad references into errors naming the file
// and the tensor.
#include "engine/model/loader.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "engine/model/dtype.h"
#include "test.h"
#include "train/model/params.h"

namespace {

// Exact for the values used here (small multiples of 1/64, all normal halves).
uint16_t toHalf(float f) {
  uint32_t b;
  std::memcpy(&b, &f, 4);
  if ((b & 0x7fffffff) == 0) return static_cast<uint16_t>(b >> 16);
  const uint32_t exponent = ((b >> 23) & 0xff) - 127 + 15;
  return static_cast<uint16_t>(((b >> 16) & 0x8000) | (exponent << 10) | ((b >> 13) & 0x3ff));
}

uint16_t toBf16(float f) {
  uint32_t b;
  std::memcpy(&b, &f, 4);
  return static_cast<uint16_t>(b >> 16);
}

std::vector<float> values(int64_t n, int seed) {
  std::vector<float> v(n);
  for (int64_t i = 0; i < n; ++i) v[i] = static_cast<float>((i * 37 + seed * 11) % 97 - 48) / 64.0f;
  return v;
}

// A tiny GPT-2 written the way Hugging Face stores it, and the canonical tensors it should load as.
struct Fixture {
  fas::ModelSpec spec;
  std::map<std::string, std::vector<float>> canonical;
  std::string path;
  std::string bytes;

  Fixture() {
    auto& c = spec.config;
    c.vocabSize = 11;
    c.hiddenSize = 8;
    c.numLayers = 1;
    c.numHeads = 2;
    c.numKvHeads = 2;
    c.headDim = 4;
    c.ffnSize = 12;
    c.maxPositions = 6;
    c.wordEmbedDim = 8;
    const std::string file = "fas_loader_test_" + std::to_string(::getpid()) + ".safetensors";
    path = (std::filesystem::temp_directory_path() / file).string();
    bytes = "hdr";  // a 3-byte prefix: F32 data at odd offsets must be copied, not aliased
    const int64_t h = 8, f = 12;
    addF32("embed.tokens", {11, h}, values(11 * h, 1), 4);  // aligned: used in place
    addBf16("embed.positions", {6, h}, values(6 * h, 2));
    // c_attn: stored [in, 3 * out] as F16, split into q, k, v after the transpose.
    const auto fused = values(h * 3 * h, 3);
    const uint64_t fusedAt = addRaw(fused, fas::DType::F16);
    const auto fusedBias = values(3 * h, 4);
    const uint64_t fusedBiasAt = addRaw(fusedBias, fas::DType::F32, 4);
    const char* parts[] = {"q", "k", "v"};
    for (int p = 0; p < 3; ++p) {
      const std::string name = std::string("layers.0.attn.") + parts[p];
      spec.tensors[name + ".weight"] = ref(fusedAt, fas::DType::F16, {h, 3 * h}, true, p, 3);
      spec.tensors[name + ".bias"] = ref(fusedBiasAt, fas::DType::F32, {3 * h}, false, p, 3);
      std::vector<float> w(h * h);
      for (int64_t o = 0; o < h; ++o) {
        for (int64_t i = 0; i < h; ++i) w[o * h + i] = fused[i * 3 * h + p * h + o];
      }
      canonical[name + ".weight"] = w;
      canonical[name + ".bias"] = std::vector<float>(fusedBias.begin() + p * h, fusedBias.begin() + (p + 1) * h);
    }
    addTransposedF32("layers.0.attn.o.weight", h, h, 5);
    addTransposedF32("layers.0.ffn.up.weight", h, f, 6);
    addTransposedF32("layers.0.ffn.down.weight", f, h, 7);
    addF32("layers.0.attn_norm.weight", {h}, values(h, 8), 4);
    addBf16("layers.0.ffn_norm.weight", {h}, values(h, 9));  // a 16-bit vector: widened to F32
    bytes += 'x';
    addF32("final_norm.weight", {h}, values(h, 10), 0);  // misaligned F32: copied
    std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  ~Fixture() { std::filesystem::remove(path); }

  fas::TensorRef ref(uint64_t offset, fas::DType dtype, std::vector<int64_t> shape, bool transposed = false,
                     int64_t index = 0, int64_t parts = 1) const {
    int64_t n = 1;
    for (const int64_t d : shape) n *= d;
    return fas::TensorRef{path,  offset, static_cast<uint64_t>(n * fas::dtypeSize(dtype)), dtype, shape, transposed,
                          index, parts};
  }
  // Appends values in a dtype, after padding to `align` bytes when align > 0; returns the offset.
  uint64_t addRaw(const std::vector<float>& v, fas::DType dtype, int align = 0) {
    if (align > 0) bytes.resize((bytes.size() + align - 1) / align * align);
    const uint64_t at = bytes.size();
    for (const float x : v) {
      if (dtype == fas::DType::F32) {
        bytes.append(reinterpret_cast<const char*>(&x), 4);
      } else {
        const uint16_t u = dtype == fas::DType::F16 ? toHalf(x) : toBf16(x);
        bytes.append(reinterpret_cast<const char*>(&u), 2);
      }
    }
    return at;
  }
  void addF32(const std::string& name, std::vector<int64_t> shape, const std::vector<float>& v, int align) {
    spec.tensors[name] = ref(addRaw(v, fas::DType::F32, align), fas::DType::F32, shape);
    canonical[name] = v;
  }
  void addBf16(const std::string& name, std::vector<int64_t> shape, const std::vector<float>& v) {
    spec.tensors[name] = ref(addRaw(v, fas::DType::BF16), fas::DType::BF16, shape);
    canonical[name] = v;
  }
  // Stored [in, out] (GPT-2 Conv1D).
  void addTransposedF32(const std::string& name, int64_t in, int64_t out, int seed) {
    const auto stored = values(in * out, seed);
    spec.tensors[name] = ref(addRaw(stored, fas::DType::F32, 4), fas::DType::F32, {in, out}, true);
    std::vector<float> w(out * in);
    for (int64_t o = 0; o < out; ++o) {
      for (int64_t i = 0; i < in; ++i) w[o * in + i] = stored[i * out + o];
    }
    canonical[name] = w;
  }
};

bool failsWith(const fas::ModelSpec& spec, const std::vector<std::string>& parts) {
  try {
    fas::loadModel(spec);
  } catch (const std::exception& e) {
    const std::string message = e.what();
    for (const auto& p : parts) {
      if (message.find(p) == std::string::npos) return false;
    }
    return true;
  }
  return false;
}

}  // namespace

TEST(dtype_half_and_bfloat16_conversions) {
  CHECK(fas::halfToFloat(0x3c00) == 1.0f);
  CHECK(fas::halfToFloat(0xc000) == -2.0f);
  CHECK(fas::halfToFloat(0x7bff) == 65504.0f);
  CHECK(fas::halfToFloat(0x0001) == 0x1.0p-24f);  // smallest subnormal
  CHECK(fas::halfToFloat(0x03ff) == 1023 * 0x1.0p-24f);
  CHECK(std::isinf(fas::halfToFloat(0xfc00)) && fas::halfToFloat(0xfc00) < 0);
  CHECK(std::isnan(fas::halfToFloat(0x7e00)));
  CHECK(fas::bfloat16ToFloat(0x3f80) == 1.0f);
  CHECK(fas::bfloat16ToFloat(0xc0a0) == -5.0f);
}

TEST(loader_reads_every_layout_exactly) {
  Fixture fx;
  const auto model = fas::loadModel(fx.spec);
  for (const auto& [name, want] : fx.canonical) {
    const fas::Tensor& t = model->weights.tensors.at(name);
    CHECK(static_cast<int64_t>(want.size()) == t.elements());
    for (size_t i = 0; i < want.size(); ++i) CHECK(t.view.at(int64_t(i)) == want[i]);
  }
  // Matrices keep their dtype, vectors are F32.
  const auto dtype = [&](const char* name) { return model->weights.tensors.at(name).view.dtype; };
  CHECK(dtype("embed.positions") == fas::DType::BF16);
  CHECK(dtype("layers.0.attn.q.weight") == fas::DType::F16);
  CHECK(dtype("layers.0.ffn_norm.weight") == fas::DType::F32);
  CHECK(dtype("layers.0.ffn.up.weight") == fas::DType::F32);
  // 16-bit matrices take 2 bytes an element: 11 x 8 F32 tokens, 6 x 8 BF16 positions, 3 x 8 x 8 F16
  // q, k, v, 8 x 8 + 2 x 8 x 12 F32 o, up, down, 3 x 8 F32 biases, 3 x 8 F32 norms.
  CHECK(model->weights.bytes() == 11 * 8 * 4 + 6 * 8 * 2 + 3 * 64 * 2 + (64 + 2 * 96) * 4 + 24 * 4 + 24 * 4);
  // Tensors already in the kept form and aligned point into the mapping; misaligned, widened and
  // transposed ones are copies.
  CHECK(model->weights.files.size() == 1);
  const auto& file = *model->weights.files[0];
  const auto inFile = [&](const char* name) {
    const auto* p = static_cast<const uint8_t*>(model->weights.tensors.at(name).view.data);
    return p >= file.data() && p < file.data() + file.size();
  };
  CHECK(inFile("embed.tokens"));
  CHECK(inFile("embed.positions"));       // BF16 used in place
  CHECK(inFile("layers.0.attn.k.bias"));  // a slice of a fused F32 bias needs no copy either
  CHECK(!inFile("final_norm.weight"));
  CHECK(!inFile("layers.0.ffn_norm.weight"));
  CHECK(!inFile("layers.0.attn.q.weight"));
  CHECK(!inFile("layers.0.attn.o.weight"));
  CHECK(model->tokens.data == model->head.data);  // tied
}

TEST(training_widens_16_bit_weights_into_f32_masters) {
  Fixture fx;
  const auto model = fas::loadModel(fx.spec);
  const fas::train::ParamLayout layout(model->config, fas::train::tensorNames(*model), {});
  const std::vector<float> flat = fas::train::flatWeights(*model, layout);
  for (const auto& [name, want] : fx.canonical) {
    const fas::train::ParamInfo* p = layout.find(name);
    CHECK(p && p->size == static_cast<int64_t>(want.size()));
    CHECK(std::equal(want.begin(), want.end(), flat.begin() + p->offset));  // the F16 q, k, v and BF16 positions too
  }
}

TEST(loader_errors_name_the_file_and_the_tensor) {
  Fixture fx;
  auto spec = fx.spec;
  spec.tensors["layers.0.ffn.up.weight"].offset = fx.bytes.size();  // beyond the data
  CHECK(failsWith(spec, {fx.path, "layers.0.ffn.up.weight", "beyond the end of the file"}));

  spec = fx.spec;
  spec.tensors["final_norm.weight"].byteLength += 4;
  CHECK(failsWith(spec, {fx.path, "final_norm.weight", "byteLength"}));

  spec = fx.spec;
  spec.tensors["embed.positions"].shape = {3, 16};
  spec.tensors["embed.positions"].byteLength = 3 * 16 * 2;
  CHECK(failsWith(spec, {fx.path, "embed.positions", "expected [6, 8]"}));

  spec = fx.spec;
  spec.tensors["layers.0.attn.q.weight"].splitParts = 5;
  CHECK(failsWith(spec, {"layers.0.attn.q.weight", "does not split"}));

  spec = fx.spec;
  spec.tensors["head.weight"] = fx.spec.tensors.at("embed.tokens");
  CHECK(failsWith(spec, {"head.weight", "tied"}));

  spec = fx.spec;
  spec.tensors["layers.0.ffn.gate.weight"] = fx.spec.tensors.at("layers.0.attn.o.weight");
  CHECK(failsWith(spec, {"layers.0.ffn.gate.weight", "not a tensor this model uses"}));

  spec = fx.spec;
  spec.tensors.erase("layers.0.ffn.down.weight");
  CHECK(failsWith(spec, {"layers.0.ffn.down.weight", "missing"}));

  spec = fx.spec;
  spec.tensors["embed.tokens"].file = fx.path + ".absent";
  CHECK(failsWith(spec, {fx.path + ".absent", "cannot open"}));

  spec = fx.spec;
  spec.config.numHeads = 3;
  CHECK(failsWith(spec, {"numKvHeads"}));
}
