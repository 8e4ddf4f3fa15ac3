#include "engine/runtime/forward.h"

#include <algorithm>
#include <string>

#include "engine/aligned.h"
#include "engine/ops/activation.h"
#include "engine/ops/attention.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/embedding.h"
#include "engine/ops/matmul.h"
#include "engine/ops/norm.h"
#include "engine/ops/rope.h"

namespace fas {

namespace {

void checkArgs(const ModelConfig& c, const ForwardArgs& a) {
  if (a.batch < 1 || a.seqLen < 1) throw std::invalid_argument("forward needs at least one sequence of one token");
  if (a.past < 0 || a.past + a.seqLen > c.maxPositions) {
    throw std::invalid_argument("context overflow: " + std::to_string(a.past + a.seqLen) +
                                " tokens exceed the model's maxPositions (" + std::to_string(c.maxPositions) + ")");
  }
  for (int64_t i = 0; i < a.batch * a.seqLen; ++i) {
    if (a.ids[i] < 0 || a.ids[i] >= c.vocabSize) {
      throw std::invalid_argument("token id " + std::to_string(a.ids[i]) + " at index " + std::to_string(i) +
                                  " is outside the vocabulary (size " + std::to_string(c.vocabSize) + ")");
    }
  }
}

// Activations of the rows being run, allocated once per call.
struct Scratch {
  FloatVector x, xn, q, ctx, out, f1, f2;
};

class Runner {
 public:
  Runner(const Model& m, ThreadPool& pool, const ForwardArgs& a)
      : m_(m), c_(m.config), pool_(pool), a_(a), rows_(a.batch * a.seqLen) {
    positions_.resize(rows_);
    for (int64_t r = 0; r < rows_; ++r) positions_[r] = static_cast<int32_t>(a.past + r % a.seqLen);
    s_.x.resize(rows_ * c_.hiddenSize);
    s_.xn.resize(rows_ * c_.hiddenSize);
    s_.out.resize(rows_ * c_.hiddenSize);
    s_.q.resize(rows_ * c_.qDim());
    s_.ctx.resize(rows_ * c_.qDim());
    s_.f1.resize(rows_ * c_.ffnSize);
    if (c_.activation == Activation::SiluGated) s_.f2.resize(rows_ * c_.ffnSize);
  }

  void run(float* logits) {
    embed();
    for (int64_t l = 0; l < c_.numLayers; ++l) {
      if (a_.abort && a_.abort->load()) throw Aborted();
      layer(m_.layers[l], a_.kv[l]);
    }
    head(logits);
  }

 private:
  void norm(const float* x, const float* w, const float* b, float* y, int64_t rows) {
    if (c_.norm == NormKind::RmsNorm) {
      ops::rmsnorm(pool_, x, w, y, rows, c_.hiddenSize, c_.normEps);
    } else {
      ops::layernorm(pool_, x, w, b, y, rows, c_.hiddenSize, c_.normEps);
    }
  }

  // x = embed.tokens[ids] (through project_in when the embedding is narrower) + learned positions.
  void embed() {
    if (m_.projectIn) {
      FloatVector words(rows_ * c_.wordEmbedDim);
      ops::embedding(m_.tokens, a_.ids, words.data(), rows_, c_.wordEmbedDim);
      ops::linear(pool_, words.data(), m_.projectIn, nullptr, s_.x.data(), rows_, c_.wordEmbedDim, c_.hiddenSize);
    } else {
      ops::embedding(m_.tokens, a_.ids, s_.x.data(), rows_, c_.hiddenSize);
    }
    if (c_.positions == PositionKind::Learned) {
      ops::add_position_embedding(m_.positions, positions_.data(), c_.positionOffset, s_.x.data(), rows_,
                                  c_.hiddenSize);
    }
  }

  // Pre-norm (GPT-2, OPT, LLaMA): x += attn(norm(x)); x += ffn(norm(x)).
  // Post-norm (OPT-350m):         x = norm(x + attn(x)); x = norm(x + ffn(x)).
  void layer(const LayerWeights& L, const KvView& kv) {
    const int64_t n = rows_ * c_.hiddenSize;
    float* x = s_.x.data();
    float* xn = s_.xn.data();
    if (c_.preNorm) {
      norm(x, L.attnNormW, L.attnNormB, xn, rows_);
      attention(L, kv, xn);
      ops::add_inplace(s_.out.data(), x, n);
      norm(x, L.ffnNormW, L.ffnNormB, xn, rows_);
      ffn(L, xn);
      ops::add_inplace(s_.out.data(), x, n);
    } else {
      attention(L, kv, x);
      ops::add_inplace(s_.out.data(), x, n);
      norm(x, L.attnNormW, L.attnNormB, x, rows_);
      ffn(L, x);
      ops::add_inplace(s_.out.data(), x, n);
      norm(x, L.ffnNormW, L.ffnNormB, x, rows_);
    }
  }

  // s_.out = o(attention(q(in), cache)), after writing this call's keys and values into the cache.
  void attention(const LayerWeights& L, const KvView& kv, const float* in) {
    const int64_t h = c_.hiddenSize, kvDim = c_.kvDim(), seq = a_.seqLen;
    ops::linear(pool_, in, L.q, L.qB, s_.q.data(), rows_, h, c_.qDim());
    if (c_.positions == PositionKind::Rope) {
      ops::rope(pool_, s_.q.data(), positions_.data(), rows_, c_.numHeads, c_.headDim, c_.ropeTheta);
    }
    for (int64_t b = 0; b < a_.batch; ++b) {
      const float* inB = in + b * seq * h;
      float* kB = kv.k + (b * kv.capacity + a_.past) * kvDim;
      float* vB = kv.v + (b * kv.capacity + a_.past) * kvDim;
      ops::linear(pool_, inB, L.k, L.kB, kB, seq, h, kvDim);
      ops::linear(pool_, inB, L.v, L.vB, vB, seq, h, kvDim);
      if (c_.positions == PositionKind::Rope) {
        ops::rope(pool_, kB, positions_.data() + b * seq, seq, c_.numKvHeads, c_.headDim, c_.ropeTheta);
      }
    }
    const ops::AttentionShape shape{a_.batch, seq, a_.past, kv.capacity, c_.numHeads, c_.numKvHeads, c_.headDim};
    ops::attention(pool_, shape, s_.q.data(), kv.k, kv.v, s_.ctx.data());
    ops::linear(pool_, s_.ctx.data(), L.o, L.oB, s_.out.data(), rows_, c_.qDim(), h);
  }

  // s_.out = down(act(up(in))), or down(silu(gate(in)) * up(in)) for SwiGLU.
  void ffn(const LayerWeights& L, const float* in) {
    const int64_t h = c_.hiddenSize, f = c_.ffnSize;
    float* f1 = s_.f1.data();
    ops::linear(pool_, in, L.up, L.upB, f1, rows_, h, f);
    switch (c_.activation) {
      case Activation::GeluNew: ops::gelu_new(pool_, f1, f1, rows_ * f); break;
      case Activation::Relu: ops::relu(pool_, f1, f1, rows_ * f); break;
      case Activation::SiluGated:
        ops::linear(pool_, in, L.gate, L.gateB, s_.f2.data(), rows_, h, f);
        ops::silu_mul(pool_, s_.f2.data(), f1, f1, rows_ * f);
        break;
    }
    ops::linear(pool_, f1, L.down, L.downB, s_.out.data(), rows_, f, h);
  }

  // Final norm (absent in post-norm OPT), project_out, then the vocabulary head.
  void head(float* logits) {
    const int64_t h = c_.hiddenSize;
    int64_t rows = rows_;
    float* x = s_.x.data();
    if (a_.lastOnly) {
      rows = a_.batch;
      for (int64_t b = 0; b < a_.batch; ++b) {
        std::copy_n(x + ((b + 1) * a_.seqLen - 1) * h, h, x + b * h);  // row b*seqLen+seqLen-1 -> row b
      }
    }
    if (m_.finalNormW) norm(x, m_.finalNormW, m_.finalNormB, x, rows);
    const float* features = x;
    FloatVector projected;
    if (m_.projectOut) {
      projected.resize(rows * c_.wordEmbedDim);
      ops::linear(pool_, x, m_.projectOut, nullptr, projected.data(), rows, h, c_.wordEmbedDim);
      features = projected.data();
    }
    ops::linear(pool_, features, m_.head, nullptr, logits, rows, c_.wordEmbedDim, c_.vocabSize);
  }

  const Model& m_;
  const ModelConfig& c_;
  ThreadPool& pool_;
  const ForwardArgs& a_;
  const int64_t rows_;
  std::vector<int32_t> positions_;
  Scratch s_;
};

}  // namespace

void forward(const Model& model, ThreadPool& pool, const ForwardArgs& args, float* logits) {
  checkArgs(model.config, args);
  Runner(model, pool, args).run(logits);
}

std::vector<float> forwardSequences(const Model& model, ThreadPool& pool, const int32_t* ids, int64_t batch,
                                    int64_t seqLen, bool lastOnly) {
  const ModelConfig& c = model.config;
  ForwardArgs args;
  args.ids = ids;
  args.batch = batch;
  args.seqLen = seqLen;
  args.lastOnly = lastOnly;
  checkArgs(c, args);
  // Sequences run in groups of about kRowsPerPass tokens: enough rows to reuse each weight block
  // many times, few enough that activation memory stays small whatever the batch.
  constexpr int64_t kRowsPerPass = 512;
  const int64_t group = std::min(batch, std::max<int64_t>(1, kRowsPerPass / seqLen));
  // Each layer's keys and values are only read by that layer, so one buffer serves them all.
  FloatVector k(group * seqLen * c.kvDim()), v(k.size());
  const std::vector<KvView> kv(c.numLayers, KvView{k.data(), v.data(), seqLen});
  args.kv = kv.data();
  const int64_t rowsPerSequence = lastOnly ? 1 : seqLen;
  std::vector<float> logits(batch * rowsPerSequence * c.vocabSize);
  for (int64_t b = 0; b < batch; b += group) {
    args.ids = ids + b * seqLen;
    args.batch = std::min(group, batch - b);
    Runner(model, pool, args).run(logits.data() + b * rowsPerSequence * c.vocabSize);
  }
  return logits;
}

}  // namespace fas
