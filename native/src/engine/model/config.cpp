#include "engine/model/config.h"

#include <cmath>
#include <stdexcept>

namespace fas {

namespace {

void require(bool ok, const std::string& message) {
  if (!ok) throw std::invalid_argument("invalid model config: " + message);
}

}  // namespace

void validateConfig(const ModelConfig& c) {
  // Bounds keep every index product far from int64 overflow and every row count within int32 ids.
  const auto positive = [](int64_t v, int64_t limit) { return v > 0 && v <= limit; };
  require(positive(c.vocabSize, int64_t{1} << 31), "vocabSize must be in 1..2^31");
  require(positive(c.hiddenSize, 1 << 20), "hiddenSize must be in 1..2^20");
  require(positive(c.numLayers, 4096), "numLayers must be in 1..4096");
  require(positive(c.numHeads, 4096), "numHeads must be in 1..4096");
  require(positive(c.numKvHeads, 4096) && c.numHeads % c.numKvHeads == 0, "numKvHeads must divide numHeads");
  require(positive(c.headDim, 1 << 16), "headDim must be in 1..65536");
  require(positive(c.ffnSize, 1 << 22), "ffnSize must be in 1..2^22");
  require(positive(c.maxPositions, 1 << 24), "maxPositions must be in 1..2^24");
  require(c.positionOffset >= 0 && c.positionOffset <= (1 << 24), "positionOffset must be in 0..2^24");
  require(positive(c.wordEmbedDim, 1 << 20), "wordEmbedDim must be in 1..2^20");
  require(std::isfinite(c.normEps) && c.normEps >= 0, "normEps must be a finite number >= 0");
  if (c.positions == PositionKind::Rope) {
    require(c.headDim % 2 == 0, "rope needs an even headDim");
    require(std::isfinite(c.ropeTheta) && c.ropeTheta > 0, "ropeTheta must be > 0");
  }
}

std::vector<TensorSlot> tensorSlots(const ModelConfig& c) {
  const int64_t h = c.hiddenSize, f = c.ffnSize;
  const bool layerNorm = c.norm == NormKind::LayerNorm;
  std::vector<TensorSlot> s;
  s.push_back({"embed.tokens", {c.vocabSize, c.wordEmbedDim}, true});
  if (c.positions == PositionKind::Learned) {
    s.push_back({"embed.positions", {c.maxPositions + c.positionOffset, h}, true});
  }
  const bool projected = c.wordEmbedDim != h;
  s.push_back({"embed.project_in", {h, c.wordEmbedDim}, projected});
  s.push_back({"head.project_out", {c.wordEmbedDim, h}, projected});
  for (int64_t i = 0; i < c.numLayers; ++i) {
    const std::string p = "layers." + std::to_string(i) + ".";
    s.push_back({p + "attn_norm.weight", {h}, true});
    if (layerNorm) s.push_back({p + "attn_norm.bias", {h}, false});
    s.push_back({p + "attn.q.weight", {c.qDim(), h}, true});
    s.push_back({p + "attn.q.bias", {c.qDim()}, false});
    s.push_back({p + "attn.k.weight", {c.kvDim(), h}, true});
    s.push_back({p + "attn.k.bias", {c.kvDim()}, false});
    s.push_back({p + "attn.v.weight", {c.kvDim(), h}, true});
    s.push_back({p + "attn.v.bias", {c.kvDim()}, false});
    s.push_back({p + "attn.o.weight", {h, c.qDim()}, true});
    s.push_back({p + "attn.o.bias", {h}, false});
    s.push_back({p + "ffn_norm.weight", {h}, true});
    if (layerNorm) s.push_back({p + "ffn_norm.bias", {h}, false});
    s.push_back({p + "ffn.up.weight", {f, h}, true});
    s.push_back({p + "ffn.up.bias", {f}, false});
    if (c.activation == Activation::SiluGated) {
      s.push_back({p + "ffn.gate.weight", {f, h}, true});
      s.push_back({p + "ffn.gate.bias", {f}, false});
    }
    s.push_back({p + "ffn.down.weight", {h, f}, true});
    s.push_back({p + "ffn.down.bias", {h}, false});
  }
  s.push_back({"final_norm.weight", {h}, false});
  if (layerNorm) s.push_back({"final_norm.bias", {h}, false});
  if (!c.tiedHead) s.push_back({"head.weight", {c.vocabSize, c.wordEmbedDim}, true});
  return s;
}

std::string shapeString(const std::vector<int64_t>& shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) out += (i ? ", " : "") + std::to_string(shape[i]);
  return out + "]";
}

}  // namespace fas
