// Definitions of Transformer<K> (transformer.h). transformer.cpp instantiates the two kernel sets;
// a test may include this file to instantiate its own.
#pragma once
#include <algorithm>
#include <stdexcept>
#include <string>

#include "train/model/transformer.h"
#include "train/ops/attention_backward.h"

namespace fas::train {

template <class K>
Transformer<K>::Transformer(const ModelConfig& config, const ModelOffsets& offsets, QcfsSite site)
    : config_(config), offsets_(offsets), site_(site) {}

template <class K>
void Transformer<K>::checkBatch(const TokenBatch& b) const {
  const ModelConfig& c = config_;
  if (b.batch < 1 || b.seqLen < 1) throw std::invalid_argument("a batch needs at least one sequence of one token");
  if (b.seqLen > c.maxPositions) {
    throw std::invalid_argument("sequences of " + std::to_string(b.seqLen) + " tokens exceed the model's " +
                                "maxPositions (" + std::to_string(c.maxPositions) + ")");
  }
  const auto check = [&](const int32_t* ids, const char* what, int64_t i) {
    if (ids[i] < 0 || ids[i] >= c.vocabSize) {
      throw std::invalid_argument(std::string(what) + " id " + std::to_string(ids[i]) + " at index " +
                                  std::to_string(i) + " is outside the vocabulary (size " +
                                  std::to_string(c.vocabSize) + ")");
    }
  };
  for (int64_t i = 0; i < b.batch * b.seqLen; ++i) {
    check(b.inputs, "input", i);
    if (!b.mask || b.mask[i]) check(b.targets, "target", i);
  }
}

template <class K>
void Transformer<K>::allocate(int64_t rows) {
  if (rows == rows_) return;
  const ModelConfig& c = config_;
  const int64_t h = c.hiddenSize, f = c.ffnSize;
  const bool gated = c.activation == Activation::SiluGated;
  rows_ = rows;
  if (offsets_.projectIn >= 0) words_.assign(rows * c.wordEmbedDim, T(0));
  stream_.assign(c.numLayers + 1, std::vector<T>(rows * h));
  layers_.assign(c.numLayers, Layer{});
  for (Layer& L : layers_) {
    if (c.preNorm) L.attnIn.resize(rows * h);
    L.q.resize(rows * c.qDim());
    L.k.resize(rows * c.kvDim());
    L.v.resize(rows * c.kvDim());
    L.ctx.resize(rows * c.qDim());
    L.attnSum.resize(rows * h);
    L.ffnIn.resize(rows * h);
    L.up.resize(rows * f);
    if (gated) L.gate.resize(rows * f);
    if (gated && site_.enabled) L.site.resize(rows * f);
    L.act.resize(rows * f);
    if (!c.preNorm) L.ffnSum.resize(rows * h);
  }
  if (offsets_.finalNormW >= 0) normed_.resize(rows * h);
  if (offsets_.projectOut >= 0) projected_.resize(rows * c.wordEmbedDim);
  logits_.resize(rows * c.vocabSize);
  dx_.clear();  // backward scratch follows on first use
}

template <class K>
void Transformer<K>::allocateGradients() {
  const ModelConfig& c = config_;
  const int64_t n = rows_;
  if (static_cast<int64_t>(dx_.size()) == n * c.hiddenSize) return;
  dx_.resize(n * c.hiddenSize);
  dh_.resize(n * c.hiddenSize);
  dq_.resize(n * c.qDim());
  dctx_.resize(n * c.qDim());
  dk_.resize(n * c.kvDim());
  dv_.resize(n * c.kvDim());
  dact_.resize(n * c.ffnSize);
  dup_.resize(n * c.ffnSize);
  if (c.activation == Activation::SiluGated) dgate_.resize(n * c.ffnSize);
  if (c.activation == Activation::SiluGated && site_.enabled) dsite_.resize(n * c.ffnSize);
  if (offsets_.projectIn >= 0 || offsets_.projectOut >= 0) dwide_.resize(n * c.wordEmbedDim);
}

template <class K>
void Transformer<K>::norm(ThreadPool& pool, const T* x, const T* w, const T* b, T* y) {
  if (config_.norm == NormKind::RmsNorm) {
    K::rmsNorm(pool, x, w, y, rows_, config_.hiddenSize, config_.normEps);
  } else {
    K::layerNorm(pool, x, w, b, y, rows_, config_.hiddenSize, config_.normEps);
  }
}

template <class K>
void Transformer<K>::normBackward(ThreadPool& pool, const T* x, const T* w, const T* dy, T* dx, T* dw, T* db) {
  if (config_.norm == NormKind::RmsNorm) {
    K::rmsNormBackward(pool, x, w, dy, dx, dw, rows_, config_.hiddenSize, config_.normEps);
  } else {
    K::layerNormBackward(pool, x, w, dy, dx, dw, db, rows_, config_.hiddenSize, config_.normEps);
  }
}

// ---- Forward ------------------------------------------------------------------------------------

template <class K>
LossSum Transformer<K>::forward(ThreadPool& pool, const T* params, const TokenBatch& b, bool useQcfs) {
  checkBatch(b);
  if (useQcfs && !site_.enabled) throw std::invalid_argument("QCFS mode needs a model built with the QCFS site");
  const int64_t rows = b.batch * b.seqLen;
  allocate(rows);
  batch_ = b.batch;
  seqLen_ = b.seqLen;
  useQcfs_ = useQcfs;
  backwardPending_ = true;
  ids_.assign(b.inputs, b.inputs + rows);
  targets_.assign(b.targets, b.targets + rows);
  mask_.assign(rows, 1);
  if (b.mask) std::transform(b.mask, b.mask + rows, mask_.begin(), [](uint8_t m) { return m ? 1 : 0; });
  positions_.resize(rows);
  positionIds_.resize(rows);
  negatedPositions_.resize(rows);
  for (int64_t r = 0; r < rows; ++r) {
    positions_[r] = static_cast<int32_t>(r % b.seqLen);
    positionIds_[r] = static_cast<int32_t>(positions_[r] + config_.positionOffset);
    negatedPositions_[r] = -positions_[r];
  }

  embedForward(pool, params);
  for (int64_t l = 0; l < config_.numLayers; ++l) layerForward(pool, params, l);
  headForward(pool, params);
  LossSum loss{K::crossEntropy(pool, logits_.data(), targets_.data(), mask_.data(), rows, config_.vocabSize), 0};
  for (const uint8_t m : mask_) loss.tokens += m;
  return loss;
}

// stream_[0] = embed.tokens[ids] (through project_in when narrower) + learned positions.
template <class K>
void Transformer<K>::embedForward(ThreadPool& pool, const T* params) {
  const ModelConfig& c = config_;
  const ModelOffsets& o = offsets_;
  T* x = stream_[0].data();
  if (o.projectIn >= 0) {
    K::embedding(params + o.tokens, ids_.data(), words_.data(), rows_, c.wordEmbedDim);
    K::linear(pool, words_.data(), params + o.projectIn, nullptr, x, rows_, c.wordEmbedDim, c.hiddenSize);
  } else {
    K::embedding(params + o.tokens, ids_.data(), x, rows_, c.hiddenSize);
  }
  if (o.positions >= 0) K::addEmbedding(params + o.positions, positionIds_.data(), x, rows_, c.hiddenSize);
}

// Pre-norm: x += attn(attn_norm(x)); x += ffn(ffn_norm(x)).
// Post-norm (OPT-350m): x = attn_norm(x + attn(x)); x = ffn_norm(x + ffn(x)).
template <class K>
void Transformer<K>::layerForward(ThreadPool& pool, const T* params, int64_t l) {
  const LayerOffsets& o = offsets_.layers[l];
  Layer& L = layers_[l];
  const T* in = stream_[l].data();
  T* out = stream_[l + 1].data();
  const int64_t n = rows_ * config_.hiddenSize;
  if (config_.preNorm) {
    norm(pool, in, param(params, o.attnNormW), param(params, o.attnNormB), L.attnIn.data());
    attentionForward(pool, params, l, L.attnIn.data());
    norm(pool, L.attnSum.data(), param(params, o.ffnNormW), param(params, o.ffnNormB), L.ffnIn.data());
    ffnForward(pool, params, l);
    K::linear(pool, L.act.data(), params + o.down, param(params, o.downB), out, rows_, config_.ffnSize,
              config_.hiddenSize);
    K::add(L.attnSum.data(), out, n);
  } else {
    attentionForward(pool, params, l, in);
    norm(pool, L.attnSum.data(), param(params, o.attnNormW), param(params, o.attnNormB), L.ffnIn.data());
    ffnForward(pool, params, l);
    K::linear(pool, L.act.data(), params + o.down, param(params, o.downB), L.ffnSum.data(), rows_, config_.ffnSize,
              config_.hiddenSize);
    K::add(L.ffnIn.data(), L.ffnSum.data(), n);
    norm(pool, L.ffnSum.data(), param(params, o.ffnNormW), param(params, o.ffnNormB), out);
  }
}

// attnSum = in + o(attention(rope(q(input)), rope(k(input)), v(input))), in being the layer's input.
template <class K>
void Transformer<K>::attentionForward(ThreadPool& pool, const T* params, int64_t l, const T* input) {
  const ModelConfig& c = config_;
  const LayerOffsets& o = offsets_.layers[l];
  Layer& L = layers_[l];
  const int64_t h = c.hiddenSize;
  K::linear(pool, input, params + o.q, param(params, o.qB), L.q.data(), rows_, h, c.qDim());
  K::linear(pool, input, params + o.k, param(params, o.kB), L.k.data(), rows_, h, c.kvDim());
  K::linear(pool, input, params + o.v, param(params, o.vB), L.v.data(), rows_, h, c.kvDim());
  if (c.positions == PositionKind::Rope) {
    K::rope(pool, L.q.data(), positions_.data(), rows_, c.numHeads, c.headDim, c.ropeTheta);
    K::rope(pool, L.k.data(), positions_.data(), rows_, c.numKvHeads, c.headDim, c.ropeTheta);
  }
  const AttentionDims dims{batch_, seqLen_, c.numHeads, c.numKvHeads, c.headDim};
  K::attention(pool, dims, L.q.data(), L.k.data(), L.v.data(), L.ctx.data());
  K::linear(pool, L.ctx.data(), params + o.o, param(params, o.oB), L.attnSum.data(), rows_, c.qDim(), h);
  K::add(stream_[l].data(), L.attnSum.data(), rows_ * h);
}

// act = activation(up(ffnIn)), or silu(gate(ffnIn)) * up(ffnIn); QCFS in place of the activation
// (GPT-2, OPT) or applied to the gated product (LLaMA) when on.
template <class K>
void Transformer<K>::ffnForward(ThreadPool& pool, const T* params, int64_t l) {
  const ModelConfig& c = config_;
  const LayerOffsets& o = offsets_.layers[l];
  Layer& L = layers_[l];
  const int64_t n = rows_ * c.ffnSize;
  K::linear(pool, L.ffnIn.data(), params + o.up, param(params, o.upB), L.up.data(), rows_, c.hiddenSize, c.ffnSize);
  switch (c.activation) {
    case Activation::GeluNew:
    case Activation::Relu:
      if (useQcfs_) {
        K::qcfs(pool, L.up.data(), L.act.data(), n, params[o.lambda], site_);
      } else if (c.activation == Activation::GeluNew) {
        K::geluNew(pool, L.up.data(), L.act.data(), n);
      } else {
        K::relu(pool, L.up.data(), L.act.data(), n);
      }
      break;
    case Activation::SiluGated:
      K::linear(pool, L.ffnIn.data(), params + o.gate, param(params, o.gateB), L.gate.data(), rows_, c.hiddenSize,
                c.ffnSize);
      if (useQcfs_) {
        K::siluMul(pool, L.gate.data(), L.up.data(), L.site.data(), n);
        K::qcfs(pool, L.site.data(), L.act.data(), n, params[o.lambda], site_);
      } else {
        K::siluMul(pool, L.gate.data(), L.up.data(), L.act.data(), n);
      }
      break;
  }
}

// logits = head(project_out(final_norm(x))), each stage only where the model has it.
template <class K>
void Transformer<K>::headForward(ThreadPool& pool, const T* params) {
  const ModelConfig& c = config_;
  const ModelOffsets& o = offsets_;
  const T* features = stream_[c.numLayers].data();
  if (o.finalNormW >= 0) {
    norm(pool, features, params + o.finalNormW, param(params, o.finalNormB), normed_.data());
    features = normed_.data();
  }
  if (o.projectOut >= 0) {
    K::linear(pool, features, params + o.projectOut, nullptr, projected_.data(), rows_, c.hiddenSize, c.wordEmbedDim);
    features = projected_.data();
  }
  K::linear(pool, features, params + o.head, nullptr, logits_.data(), rows_, c.wordEmbedDim, c.vocabSize);
}

// ---- Backward -----------------------------------------------------------------------------------
// dx_ carries the gradient of the residual stream from the head down to the embeddings.

template <class K>
void Transformer<K>::backward(ThreadPool& pool, const T* params, T* grads, T scale) {
  if (!backwardPending_) throw std::logic_error("backward runs once after each forward pass");
  backwardPending_ = false;
  allocateGradients();
  // The logits are not needed any more: their buffer takes their gradient.
  K::crossEntropyBackward(pool, logits_.data(), targets_.data(), mask_.data(), scale, logits_.data(), rows_,
                          config_.vocabSize);
  headBackward(pool, params, grads);
  for (int64_t l = config_.numLayers - 1; l >= 0; --l) layerBackward(pool, params, grads, l);
  embedBackward(pool, params, grads);
}

template <class K>
void Transformer<K>::headBackward(ThreadPool& pool, const T* params, T* grads) {
  const ModelConfig& c = config_;
  const ModelOffsets& o = offsets_;
  const int64_t h = c.hiddenSize, e = c.wordEmbedDim;
  const T* finalIn = stream_[c.numLayers].data();
  const T* normed = o.finalNormW >= 0 ? normed_.data() : finalIn;
  T* dNormed = dh_.data();
  std::fill(dh_.begin(), dh_.end(), T(0));
  if (o.projectOut >= 0) {
    std::fill(dwide_.begin(), dwide_.end(), T(0));
    K::linearBackward(pool, projected_.data(), params + o.head, logits_.data(), dwide_.data(), grads + o.head, nullptr,
                      rows_, e, c.vocabSize);
    K::linearBackward(pool, normed, params + o.projectOut, dwide_.data(), dNormed, grads + o.projectOut, nullptr,
                      rows_, h, e);
  } else {
    K::linearBackward(pool, normed, params + o.head, logits_.data(), dNormed, grads + o.head, nullptr, rows_, e,
                      c.vocabSize);
  }
  if (o.finalNormW >= 0) {
    std::fill(dx_.begin(), dx_.end(), T(0));
    normBackward(pool, finalIn, params + o.finalNormW, dNormed, dx_.data(), grads + o.finalNormW,
                 grad(grads, o.finalNormB));
  } else {
    std::copy(dh_.begin(), dh_.end(), dx_.begin());
  }
}

// On entry dx_ holds the gradient of layer l's output, on exit that of its input.
template <class K>
void Transformer<K>::layerBackward(ThreadPool& pool, const T* params, T* grads, int64_t l) {
  const LayerOffsets& o = offsets_.layers[l];
  Layer& L = layers_[l];
  const T* in = stream_[l].data();
  T* dx = dx_.data();
  T* dh = dh_.data();
  if (config_.preNorm) {
    // out = attnSum + ffn(ffn_norm(attnSum)); attnSum = in + attn(attn_norm(in)).
    std::fill(dh_.begin(), dh_.end(), T(0));
    ffnBackward(pool, params, grads, l, dx, dh);
    normBackward(pool, L.attnSum.data(), params + o.ffnNormW, dh, dx, grads + o.ffnNormW, grad(grads, o.ffnNormB));
    std::fill(dh_.begin(), dh_.end(), T(0));
    attentionBackward(pool, params, grads, l, L.attnIn.data(), dx, dh);
    normBackward(pool, in, params + o.attnNormW, dh, dx, grads + o.attnNormW, grad(grads, o.attnNormB));
  } else {
    // out = ffn_norm(ffnSum), ffnSum = ffnIn + ffn(ffnIn); ffnIn = attn_norm(attnSum), attnSum = in + attn(in).
    std::fill(dh_.begin(), dh_.end(), T(0));
    normBackward(pool, L.ffnSum.data(), params + o.ffnNormW, dx, dh, grads + o.ffnNormW, grad(grads, o.ffnNormB));
    ffnBackward(pool, params, grads, l, dh, dh);
    std::fill(dx_.begin(), dx_.end(), T(0));
    normBackward(pool, L.attnSum.data(), params + o.attnNormW, dh, dx, grads + o.attnNormW, grad(grads, o.attnNormB));
    attentionBackward(pool, params, grads, l, in, dx, dx);
  }
}

// dIn += d(attn(input))/d(input) applied to dOut, plus the parameter gradients. dIn may be dOut: dOut
// is consumed by o's backward before anything is added to dIn.
template <class K>
void Transformer<K>::attentionBackward(ThreadPool& pool, const T* params, T* grads, int64_t l, const T* input,
                                       const T* dOut, T* dIn) {
  const ModelConfig& c = config_;
  const LayerOffsets& o = offsets_.layers[l];
  Layer& L = layers_[l];
  const int64_t h = c.hiddenSize;
  std::fill(dctx_.begin(), dctx_.end(), T(0));
  K::linearBackward(pool, L.ctx.data(), params + o.o, dOut, dctx_.data(), grads + o.o, grad(grads, o.oB), rows_,
                    c.qDim(), h);
  std::fill(dq_.begin(), dq_.end(), T(0));
  std::fill(dk_.begin(), dk_.end(), T(0));
  std::fill(dv_.begin(), dv_.end(), T(0));
  const AttentionDims dims{batch_, seqLen_, c.numHeads, c.numKvHeads, c.headDim};
  K::attentionBackward(pool, dims, L.q.data(), L.k.data(), L.v.data(), dctx_.data(), dq_.data(), dk_.data(),
                       dv_.data());
  if (c.positions == PositionKind::Rope) {
    // Rotating back by the same angles: rope at the negated positions (train/ops/rope_ref.h).
    K::rope(pool, dq_.data(), negatedPositions_.data(), rows_, c.numHeads, c.headDim, c.ropeTheta);
    K::rope(pool, dk_.data(), negatedPositions_.data(), rows_, c.numKvHeads, c.headDim, c.ropeTheta);
  }
  K::linearBackward(pool, input, params + o.q, dq_.data(), dIn, grads + o.q, grad(grads, o.qB), rows_, h, c.qDim());
  K::linearBackward(pool, input, params + o.k, dk_.data(), dIn, grads + o.k, grad(grads, o.kB), rows_, h, c.kvDim());
  K::linearBackward(pool, input, params + o.v, dv_.data(), dIn, grads + o.v, grad(grads, o.vB), rows_, h, c.kvDim());
}

// dIn += d(ffn(ffnIn))/d(ffnIn) applied to dOut, plus the parameter gradients (and the lambda's with
// QCFS). dIn may be dOut: dOut is consumed by down's backward before anything is added to dIn.
template <class K>
void Transformer<K>::ffnBackward(ThreadPool& pool, const T* params, T* grads, int64_t l, const T* dOut, T* dIn) {
  const ModelConfig& c = config_;
  const LayerOffsets& o = offsets_.layers[l];
  Layer& L = layers_[l];
  const int64_t h = c.hiddenSize, f = c.ffnSize, n = rows_ * f;
  std::fill(dact_.begin(), dact_.end(), T(0));
  K::linearBackward(pool, L.act.data(), params + o.down, dOut, dact_.data(), grads + o.down, grad(grads, o.downB),
                    rows_, f, h);
  switch (c.activation) {
    case Activation::GeluNew:
    case Activation::Relu:
      if (useQcfs_) {
        grads[o.lambda] += static_cast<T>(K::qcfsBackward(pool, L.up.data(), dact_.data(), dup_.data(), n,
                                                          params[o.lambda], site_));
      } else {
        std::fill(dup_.begin(), dup_.end(), T(0));
        if (c.activation == Activation::GeluNew) {
          K::geluNewBackward(pool, L.up.data(), dact_.data(), dup_.data(), n);
        } else {
          K::reluBackward(pool, L.up.data(), dact_.data(), dup_.data(), n);
        }
      }
      break;
    case Activation::SiluGated:
      if (useQcfs_) {
        grads[o.lambda] += static_cast<T>(K::qcfsBackward(pool, L.site.data(), dact_.data(), dsite_.data(), n,
                                                          params[o.lambda], site_));
      }
      std::fill(dup_.begin(), dup_.end(), T(0));
      std::fill(dgate_.begin(), dgate_.end(), T(0));
      K::siluMulBackward(pool, L.gate.data(), L.up.data(), useQcfs_ ? dsite_.data() : dact_.data(), dgate_.data(),
                         dup_.data(), n);
      K::linearBackward(pool, L.ffnIn.data(), params + o.gate, dgate_.data(), dIn, grads + o.gate,
                        grad(grads, o.gateB), rows_, h, f);
      break;
  }
  K::linearBackward(pool, L.ffnIn.data(), params + o.up, dup_.data(), dIn, grads + o.up, grad(grads, o.upB), rows_,
                    h, f);
}

template <class K>
void Transformer<K>::embedBackward(ThreadPool& pool, const T* params, T* grads) {
  const ModelConfig& c = config_;
  const ModelOffsets& o = offsets_;
  if (o.positions >= 0) {
    K::embeddingBackward(pool, positionIds_.data(), dx_.data(), grads + o.positions, rows_, c.hiddenSize);
  }
  if (o.projectIn >= 0) {
    std::fill(dwide_.begin(), dwide_.end(), T(0));
    K::linearBackward(pool, words_.data(), params + o.projectIn, dx_.data(), dwide_.data(), grads + o.projectIn,
                      nullptr, rows_, c.wordEmbedDim, c.hiddenSize);
    K::embeddingBackward(pool, ids_.data(), dwide_.data(), grads + o.tokens, rows_, c.wordEmbedDim);
  } else {
    K::embeddingBackward(pool, ids_.data(), dx_.data(), grads + o.tokens, rows_, c.hiddenSize);
  }
}

}  // namespace fas::train
