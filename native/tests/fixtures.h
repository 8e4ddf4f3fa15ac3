// What the native tests share: tiny model configurations and random weights, random inputs, the
// error measures, and the pieces of the reference forwards (model_test.cpp, spiking_simulation.h,
// spiking_all_test.cpp) built from the plain *_ref ops, so each test restates only what it checks.
#pragma once
#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/model/config.h"
#include "engine/model/model.h"
#include "engine/ops/activation.h"
#include "engine/ops/attention.h"
#include "engine/ops/matmul.h"
#include "engine/ops/norm.h"
#include "engine/ops/rope.h"
#include "engine/ops/widen.h"

namespace fas::test {

// ---- Tiny models ------------------------------------------------------------------------------

// A family's graph on ModelConfig's GPT-2 defaults (LayerNorm, gelu_new, learned positions): OPT's
// ReLU and position offset, LLaMA's RMSNorm, SwiGLU and rotary positions.
inline void setFamily(ModelConfig& c, Family family) {
  c.family = family;
  if (family == Family::Opt) {
    c.activation = Activation::Relu;
    c.positionOffset = 2;
  } else if (family == Family::Llama) {
    c.norm = NormKind::RmsNorm;
    c.normEps = 1e-6f;
    c.activation = Activation::SiluGated;
    c.positions = PositionKind::Rope;
  }
}

// OPT-350m's differences from the other OPT models: post-LayerNorm blocks, and a narrower word
// embedding with project_in/out (and no final norm in its checkpoint).
inline void setOpt350m(ModelConfig& c, int64_t wordEmbedDim) {
  c.preNorm = false;
  c.wordEmbedDim = wordEmbedDim;
}

struct TinySizes {
  int64_t vocab, hidden, heads, headDim, ffn, maxPositions;
};

// Two layers of a family, word embeddings as wide as the hidden state, as many key/value heads as heads.
inline ModelConfig tinyConfig(Family family, const TinySizes& s) {
  ModelConfig c;
  setFamily(c, family);
  c.vocabSize = s.vocab;
  c.hiddenSize = s.hidden;
  c.numLayers = 2;
  c.numHeads = c.numKvHeads = s.heads;
  c.headDim = s.headDim;
  c.ffnSize = s.ffn;
  c.maxPositions = s.maxPositions;
  c.wordEmbedDim = s.hidden;
  return c;
}

// Random weights that keep activations near unit size: matrices ~ N(0, 1 / inputs), norm scales
// ~ 1 + N(0, 0.2^2), other vectors ~ N(0, 0.2^2); the token embeddings embedScale times that, and
// upShift added to the up projection's bias. Optional tensors only where `keep` says so.
inline std::map<std::string, std::vector<float>> randomTensors(const ModelConfig& c, uint32_t seed,
                                                               const std::function<bool(const std::string&)>& keep,
                                                               float embedScale, float upShift = 0.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::map<std::string, std::vector<float>> tensors;
  for (const TensorSlot& slot : tensorSlots(c)) {
    if (!slot.required && !keep(slot.name)) continue;
    int64_t n = 1;
    for (const int64_t d : slot.shape) n *= d;
    const bool normWeight = slot.name.find("norm.weight") != std::string::npos;
    const bool upBias = slot.name.find("ffn.up.bias") != std::string::npos;
    const float scale = slot.shape.size() == 2 ? 1.0f / std::sqrt(float(slot.shape[1])) : 0.2f;
    std::vector<float> values(n);
    for (auto& v : values) {
      v = (normWeight ? 1.0f : 0.0f) + (upBias ? upShift : 0.0f) +
          scale * normal(rng) * (slot.name == "embed.tokens" ? embedScale : 1.0f);
    }
    tensors[slot.name] = std::move(values);
  }
  return tensors;
}

// ---- Random inputs and errors -----------------------------------------------------------------

inline std::vector<float> randomVector(size_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = normal(rng);
  return v;
}

inline std::vector<int32_t> randomIds(int64_t n, int64_t vocab, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<int32_t> ids(n);
  for (auto& id : ids) id = static_cast<int32_t>(rng() % vocab);
  return ids;
}

// ||a - b|| / ||b||: one number that is small only when every element agrees.
inline double relativeError(const float* a, const float* b, int64_t n) {
  double diff = 0, norm = 0;
  for (int64_t i = 0; i < n; ++i) {
    diff += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
    norm += double(b[i]) * b[i];
  }
  return std::sqrt(diff / std::max(norm, 1e-30));
}

inline double relativeError(const std::vector<float>& a, const std::vector<float>& b) {
  return relativeError(a.data(), b.data(), int64_t(a.size()));
}

// Whether f throws std::invalid_argument with `text` in its message.
inline bool throwsWith(const std::function<void()>& f, const std::string& text) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return std::string(e.what()).find(text) != std::string::npos;
  }
  return false;
}

// ---- Reference forwards -----------------------------------------------------------------------

// The graph's pieces on one sequence of S positions from 0, with the *_ref ops, for forwards that
// put their own steps (an activation, a site, neurons) between them.
struct ReferenceGraph {
  ReferenceGraph(const Model& model, int64_t rows) : m(model), c(model.config), S(rows), pos(rows) {
    for (int64_t s = 0; s < S; ++s) pos[s] = int32_t(s);
  }

  std::vector<float> linear(const std::vector<float>& x, WeightView w, WeightView b, int64_t in, int64_t out) const {
    std::vector<float> y(S * out);
    ops::linear_ref(x.data(), w, b.f32(), y.data(), S, in, out);
    return y;
  }

  std::vector<float> norm(const std::vector<float>& x, WeightView w, WeightView b) const {
    std::vector<float> y(x.size());
    if (c.norm == NormKind::RmsNorm) ops::rmsnorm_ref(x.data(), w.f32(), y.data(), S, c.hiddenSize, c.normEps);
    else ops::layernorm_ref(x.data(), w.f32(), b.f32(), y.data(), S, c.hiddenSize, c.normEps);
    return y;
  }

  static std::vector<float> add(std::vector<float> a, const std::vector<float>& b) {
    for (size_t i = 0; i < a.size(); ++i) a[i] += b[i];
    return a;
  }

  // The token embeddings, project_in where there is one, and the learned positions.
  std::vector<float> embed(const std::vector<int32_t>& ids) const {
    const int64_t e = c.wordEmbedDim, h = c.hiddenSize;
    std::vector<float> x(S * e);
    for (int64_t s = 0; s < S; ++s) ops::widen(m.tokens, ids[s] * e, e, x.data() + s * e);
    if (m.projectIn) x = linear(x, m.projectIn, nullptr, e, h);
    for (int64_t s = 0; s < S && c.positions == PositionKind::Learned; ++s) {
      for (int64_t k = 0; k < h; ++k) x[s * h + k] += m.positions.at((s + c.positionOffset) * h + k);
    }
    return x;
  }

  // q and k rotated where the model uses RoPE.
  void rope(std::vector<float>& q, std::vector<float>& k) const {
    if (c.positions != PositionKind::Rope) return;
    ops::rope_ref(q.data(), pos.data(), S, c.numHeads, c.headDim, c.ropeTheta);
    ops::rope_ref(k.data(), pos.data(), S, c.numKvHeads, c.headDim, c.ropeTheta);
  }

  // Causal attention of (rotated) q, k and v: the context before the output projection.
  std::vector<float> attend(const std::vector<float>& q, const std::vector<float>& k,
                            const std::vector<float>& v) const {
    std::vector<float> ctx(q.size());
    ops::attention_ref({1, S, 0, S, c.numHeads, c.numKvHeads, c.headDim}, q.data(), k.data(), v.data(), ctx.data());
    return ctx;
  }

  // The attention block of layer L on its (normed) input.
  std::vector<float> attention(const LayerWeights& L, const std::vector<float>& in) const {
    const int64_t h = c.hiddenSize;
    auto q = linear(in, L.q, L.qB, h, c.qDim()), k = linear(in, L.k, L.kB, h, c.kvDim());
    const auto v = linear(in, L.v, L.vB, h, c.kvDim());
    rope(q, k);
    return linear(attend(q, k, v), L.o, L.oB, c.qDim(), h);
  }

  // The FFN's up projection, times silu(gate) for LLaMA: the input of the activation site.
  std::vector<float> upGated(const LayerWeights& L, const std::vector<float>& in) const {
    auto up = linear(in, L.up, L.upB, c.hiddenSize, c.ffnSize);
    if (c.activation == Activation::SiluGated) {
      const auto gate = linear(in, L.gate, L.gateB, c.hiddenSize, c.ffnSize);
      ops::silu_mul_ref(gate.data(), up.data(), up.data(), S * c.ffnSize);
    }
    return up;
  }

  // One layer, pre- or post-norm, around the given attention and FFN (each from its input).
  template <typename Attention, typename Ffn>
  std::vector<float> layer(const LayerWeights& L, std::vector<float> x, Attention attention, Ffn ffn) const {
    if (c.preNorm) {
      x = add(x, attention(norm(x, L.attnNormW, L.attnNormB)));
      return add(x, ffn(norm(x, L.ffnNormW, L.ffnNormB)));
    }
    x = norm(add(x, attention(x)), L.attnNormW, L.attnNormB);
    return norm(add(x, ffn(x)), L.ffnNormW, L.ffnNormB);
  }

  // project_out where there is one, then the head.
  std::vector<float> head(std::vector<float> x) const {
    if (m.projectOut) x = linear(x, m.projectOut, nullptr, c.hiddenSize, c.wordEmbedDim);
    return linear(x, m.head, nullptr, c.wordEmbedDim, c.vocabSize);
  }

  // The final norm where there is one, then head().
  std::vector<float> logits(std::vector<float> x) const {
    if (m.finalNormW) x = norm(x, m.finalNormW, m.finalNormB);
    return head(std::move(x));
  }

  const Model& m;
  const ModelConfig& c;
  const int64_t S;
  std::vector<int32_t> pos;
};

}  // namespace fas::test
