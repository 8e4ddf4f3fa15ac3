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
void Transformer<K>::allocate(int64_t rows, int64_t tokens) {
  if (rows == rows_ && tokens == tokens_) return;
  const ModelConfig& c = config_;
  rows_ = rows;
  tokens_ = tokens;
  widths_ = trainWidths(c, offsets_, site_, rows > tokens);
  const TrainWidths& w = widths_;
  const LayerWidths& lw = w.layer;
  words_.assign(rows * w.words, T(0));
  stream_.assign(c.numLayers + 1, std::vector<T>(rows * w.stream));
  layers_.assign(c.numLayers, Layer{});
  for (Layer& L : layers_) {
    L.attnIn.resize(rows * lw.attnIn);
    L.q.resize(rows * lw.q);
    L.k.resize(rows * lw.k);
    L.v.resize(rows * lw.v);
    L.ctx.resize(rows * lw.ctx);
    L.attnSum.resize(rows * lw.attnSum);
    L.ffnIn.resize(rows * lw.ffnIn);
    L.up.resize(rows * lw.up);
    L.gate.resize(rows * lw.gate);
    L.site.resize(rows * lw.site);
    L.act.resize(rows * lw.act);
    L.ffnSum.resize(rows * lw.ffnSum);
    L.attnInQ.resize(rows * lw.attnInQ);
    L.qRaw.resize(rows * lw.qRaw);
    L.vRaw.resize(rows * lw.vRaw);
    L.ctxRaw.resize(rows * lw.ctxRaw);
    L.ffnInQ.resize(rows * lw.ffnInQ);
  }
  headInQ_.resize(tokens * w.headInQ);
  normed_.resize(rows * w.normed);
  averaged_.resize(tokens * w.averaged);
  projected_.resize(tokens * w.projected);
  logits_.resize(tokens * c.vocabSize);
  dx_.clear();  // backward scratch follows on first use
}

template <class K>
void Transformer<K>::allocateGradients() {
  const TrainWidths& w = widths_;
  const int64_t n = rows_;
  if (static_cast<int64_t>(dx_.size()) == n * w.dx) return;
  dx_.resize(n * w.dx);
  dh_.resize(n * w.dh);
  dq_.resize(n * w.dq);
  dctx_.resize(n * w.dctx);
  dk_.resize(n * w.dk);
  dv_.resize(n * w.dv);
  dact_.resize(n * w.dact);
  dup_.resize(n * w.dup);
  dgate_.resize(n * w.dgate);
  dsite_.resize(n * w.dsite);
  dwide_.resize(n * w.dwide);
  daveraged_.resize(tokens_ * w.daveraged);
  dqRaw_.resize(n * w.dqRaw);
  dvRaw_.resize(n * w.dvRaw);
  dctxRaw_.resize(n * w.dctxRaw);
  dquantised_.resize(n * w.dquantised);
}

template <class K>
SiteQuant Transformer<K>::quantOf(Site s) const {
  const bool ffn = s == Site::Ffn;
  return SiteQuant{site_.levels, !ffn || site_.signedClip, !ffn || site_.perNeuronFfn};
}

template <class K>
void Transformer<K>::quantise(ThreadPool& pool, const T* params, int64_t l, Site s, const T* x, T* y, int64_t rows,
                              int64_t width) {
  K::quantise(pool, x, y, rows, width, params + lambdaOffset(l, s), quantOf(s));
}

template <class K>
void Transformer<K>::quantiseBackward(ThreadPool& pool, const T* params, T* grads, int64_t l, Site s, const T* x,
                                      const T* dy, T* dx, int64_t rows, int64_t width) {
  K::quantiseBackward(pool, x, dy, dx, rows, width, params + lambdaOffset(l, s), grad(grads, lambdaOffset(l, s)),
                      quantOf(s));
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
  if (useQcfs && !site_.enabled) throw std::invalid_argument("QCFS mode needs a model built with the QCFS site");
  return run(pool, params, b, useQcfs ? SiteMode::Qcfs : SiteMode::Activation, nullptr);
}

template <class K>
LossSum Transformer<K>::forwardSpiking(ThreadPool& pool, const T* params, const TokenBatch& b, const IfSite& site) {
  if (!site_.enabled) throw std::invalid_argument("spiking mode needs a model built with the QCFS site");
  if (site.timesteps < 1) throw std::invalid_argument("spiking mode needs at least one timestep");
  if (site_.everySite) throw std::invalid_argument("spiking mode of the training graph takes the FFN site only");
  if (static_cast<int64_t>(site.layers.size()) != config_.numLayers) {
    throw std::invalid_argument("spiking mode needs IF neurons for every layer");
  }
  for (const IfLayer& layer : site.layers) {
    if (layer.dTheta.granularity == spiking::Granularity::Layer ||
        layer.dV0.granularity == spiking::Granularity::Layer) {
      throw std::invalid_argument("spiking mode takes per-neuron or per-(position, neuron) gradient buffers");
    }
  }
  return run(pool, params, b, SiteMode::Spiking, &site);
}

template <class K>
LossSum Transformer<K>::run(ThreadPool& pool, const T* params, const TokenBatch& b, SiteMode mode, const IfSite* site) {
  checkBatch(b);
  const int64_t tokens = b.batch * b.seqLen;
  copies_ = site ? site->timesteps : 1;
  const int64_t rows = tokens * copies_;
  allocate(rows, tokens);
  batch_ = b.batch * copies_;
  seqLen_ = b.seqLen;
  mode_ = mode;
  spiking_ = site;
  alignSse_.assign(config_.numLayers, 0.0);
  backwardPending_ = true;
  ids_.resize(rows);
  for (int64_t s = 0; s < batch_; ++s)
    std::copy_n(b.inputs + s / copies_ * seqLen_, seqLen_, ids_.begin() + s * seqLen_);
  targets_.assign(b.targets, b.targets + tokens);
  mask_.assign(tokens, 1);
  if (b.mask) std::transform(b.mask, b.mask + tokens, mask_.begin(), [](uint8_t m) { return m ? 1 : 0; });
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
  LossSum loss{K::crossEntropy(pool, logits_.data(), targets_.data(), mask_.data(), tokens, config_.vocabSize), 0};
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
  const bool all = allSites();
  if (all) {
    quantise(pool, params, l, Site::AttnIn, input, L.attnInQ.data(), rows_, h);
    input = L.attnInQ.data();
  }
  T* q = all ? L.qRaw.data() : L.q.data();
  T* v = all ? L.vRaw.data() : L.v.data();
  K::linear(pool, input, params + o.q, param(params, o.qB), q, rows_, h, c.qDim());
  K::linear(pool, input, params + o.k, param(params, o.kB), L.k.data(), rows_, h, c.kvDim());
  K::linear(pool, input, params + o.v, param(params, o.vB), v, rows_, h, c.kvDim());
  if (c.positions == PositionKind::Rope) {
    K::rope(pool, q, positions_.data(), rows_, c.numHeads, c.headDim, c.ropeTheta);
    K::rope(pool, L.k.data(), positions_.data(), rows_, c.numKvHeads, c.headDim, c.ropeTheta);
  }
  if (all) {
    quantise(pool, params, l, Site::Q, q, L.q.data(), rows_, c.qDim());
    quantise(pool, params, l, Site::V, v, L.v.data(), rows_, c.kvDim());
  }
  const AttentionDims dims{batch_, seqLen_, c.numHeads, c.numKvHeads, c.headDim};
  K::attention(pool, dims, L.q.data(), L.k.data(), L.v.data(), all ? L.ctxRaw.data() : L.ctx.data());
  if (all) quantise(pool, params, l, Site::AttnOut, L.ctxRaw.data(), L.ctx.data(), rows_, c.qDim());
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
  const T* in = L.ffnIn.data();
  if (allSites()) {
    quantise(pool, params, l, Site::FfnIn, in, L.ffnInQ.data(), rows_, c.hiddenSize);
    in = L.ffnInQ.data();
  }
  K::linear(pool, in, params + o.up, param(params, o.upB), L.up.data(), rows_, c.hiddenSize, c.ffnSize);
  switch (c.activation) {
    case Activation::GeluNew:
    case Activation::Relu:
      if (mode_ != SiteMode::Activation) {
        siteForward(pool, params, l, L.up.data());
      } else if (c.activation == Activation::GeluNew) {
        K::geluNew(pool, L.up.data(), L.act.data(), n);
      } else {
        K::relu(pool, L.up.data(), L.act.data(), n);
      }
      break;
    case Activation::SiluGated:
      K::linear(pool, in, params + o.gate, param(params, o.gateB), L.gate.data(), rows_, c.hiddenSize, c.ffnSize);
      if (mode_ != SiteMode::Activation) {
        K::siluMul(pool, L.gate.data(), L.up.data(), L.site.data(), n);
        siteForward(pool, params, l, L.site.data());
      } else {
        K::siluMul(pool, L.gate.data(), L.up.data(), L.act.data(), n);
      }
      break;
  }
}

// act = QCFS(in), or in spiking mode the IF neurons' output at every timestep.
template <class K>
void Transformer<K>::siteForward(ThreadPool& pool, const T* params, int64_t l, const T* in) {
  if (mode_ == SiteMode::Spiking) {
    fire(pool, l, in);
  } else if (site_.everySite) {
    quantise(pool, params, l, Site::Ffn, in, layers_[l].act.data(), rows_, config_.ffnSize);
  } else {
    K::qcfs(pool, in, layers_[l].act.data(), rows_ * config_.ffnSize, params[offsets_.layers[l].lambda], site_);
  }
}

// The IF neurons of layer l on each sequence's [T, seqLen, ffn] block; with an align target, its
// loss and the gradient of that loss w.r.t. the time-averaged output (used by backward).
template <class K>
void Transformer<K>::fire(ThreadPool& pool, int64_t l, const T* in) {
  const IfLayer& site = spiking_->layers[l];
  Layer& L = layers_[l];
  const int64_t f = config_.ffnSize, block = copies_ * seqLen_ * f, sequences = batch_ / copies_;
  const spiking::SpikeShape shape{static_cast<int>(copies_), static_cast<int>(seqLen_), static_cast<int>(f), 0};
  for (int64_t s = 0; s < sequences; ++s)
    K::ifForward(pool, in + s * block, L.act.data() + s * block, shape, site.neuron);
  if (!site.alignTarget) {
    L.dMean.clear();
    return;
  }
  L.dMean.resize(tokens_ * widths_.dMean);
  double sse = 0.0;
  for (int64_t s = 0; s < sequences; ++s) {
    for (int64_t e = 0; e < seqLen_ * f; ++e) {
      T mean = 0;
      for (int64_t t = 0; t < copies_; ++t) mean += L.act[s * block + t * seqLen_ * f + e];
      const int64_t i = s * seqLen_ * f + e;
      const T diff = mean / static_cast<T>(copies_) - static_cast<T>(site.alignTarget[i]);
      sse += double(diff) * double(diff);
      L.dMean[i] = 2 * static_cast<T>(site.alignScale) * diff;
    }
  }
  alignSse_[l] = sse;
}

// logits = head(project_out(final_norm(x))), each stage only where the model has it; in spiking mode
// the head takes the final features averaged over the T copies, as the engine's snn mode does.
template <class K>
void Transformer<K>::headForward(ThreadPool& pool, const T* params) {
  const ModelConfig& c = config_;
  const ModelOffsets& o = offsets_;
  const int64_t h = c.hiddenSize;
  const T* features = stream_[c.numLayers].data();
  if (o.finalNormW >= 0) {
    norm(pool, features, params + o.finalNormW, param(params, o.finalNormB), normed_.data());
    features = normed_.data();
  }
  if (copies_ > 1) {
    const int64_t perCopy = seqLen_ * h;
    std::fill(averaged_.begin(), averaged_.end(), T(0));
    for (int64_t s = 0; s < batch_; ++s) {
      T* out = averaged_.data() + s / copies_ * perCopy;
      const T* in = features + s * perCopy;
      for (int64_t e = 0; e < perCopy; ++e) out[e] += in[e] / static_cast<T>(copies_);
    }
    features = averaged_.data();
  }
  if (allSites()) {
    quantise(pool, params, 0, Site::HeadIn, features, headInQ_.data(), tokens_, h);
    features = headInQ_.data();
  }
  if (o.projectOut >= 0) {
    K::linear(pool, features, params + o.projectOut, nullptr, projected_.data(), tokens_, h, c.wordEmbedDim);
    features = projected_.data();
  }
  K::linear(pool, features, params + o.head, nullptr, logits_.data(), tokens_, c.wordEmbedDim, c.vocabSize);
}

// ---- Backward -----------------------------------------------------------------------------------
// dx_ carries the gradient of the residual stream from the head down to the embeddings.

template <class K>
void Transformer<K>::backward(ThreadPool& pool, const T* params, T* grads, T scale) {
  if (!backwardPending_) throw std::logic_error("backward runs once after each forward pass");
  // The logits are not needed any more: their buffer takes their gradient.
  K::crossEntropyBackward(pool, logits_.data(), targets_.data(), mask_.data(), scale, logits_.data(), tokens_,
                          config_.vocabSize);
  backwardFromLogits(pool, params, grads);
}

template <class K>
void Transformer<K>::backwardFromLogits(ThreadPool& pool, const T* params, T* grads) {
  if (!backwardPending_) throw std::logic_error("backward runs once after each forward pass");
  backwardPending_ = false;
  allocateGradients();
  headBackward(pool, params, grads);
  for (int64_t l = config_.numLayers - 1; l >= 0; --l) layerBackward(pool, params, grads, l);
  if (grads) embedBackward(pool, params, grads);
}

template <class K>
void Transformer<K>::headBackward(ThreadPool& pool, const T* params, T* grads) {
  const ModelConfig& c = config_;
  const ModelOffsets& o = offsets_;
  const int64_t h = c.hiddenSize, e = c.wordEmbedDim;
  const T* finalIn = stream_[c.numLayers].data();
  const T* normed = o.finalNormW >= 0 ? normed_.data() : finalIn;
  const bool all = allSites();
  const T* features = all ? headInQ_.data() : copies_ > 1 ? averaged_.data() : normed;
  std::vector<T>& dFeatures = all ? dquantised_ : copies_ > 1 ? daveraged_ : dh_;
  std::fill(dFeatures.begin(), dFeatures.end(), T(0));
  if (o.projectOut >= 0) {
    std::fill(dwide_.begin(), dwide_.end(), T(0));
    K::linearBackward(pool, projected_.data(), params + o.head, logits_.data(), dwide_.data(), grad(grads, o.head),
                      nullptr, tokens_, e, c.vocabSize);
    K::linearBackward(pool, features, params + o.projectOut, dwide_.data(), dFeatures.data(), grad(grads, o.projectOut),
                      nullptr, tokens_, h, e);
  } else {
    K::linearBackward(pool, features, params + o.head, logits_.data(), dFeatures.data(), grad(grads, o.head), nullptr,
                      tokens_, e, c.vocabSize);
  }
  T* dNormed = dh_.data();
  if (all) {
    std::fill(dh_.begin(), dh_.end(), T(0));
    quantiseBackward(pool, params, grads, 0, Site::HeadIn, normed, dquantised_.data(), dNormed, tokens_, h);
  }
  if (copies_ > 1) {  // each copy's features count 1/T in the average
    const int64_t perCopy = seqLen_ * h;
    for (int64_t s = 0; s < batch_; ++s) {
      const T* from = daveraged_.data() + s / copies_ * perCopy;
      for (int64_t k = 0; k < perCopy; ++k) dNormed[s * perCopy + k] = from[k] / static_cast<T>(copies_);
    }
  }
  if (o.finalNormW >= 0) {
    std::fill(dx_.begin(), dx_.end(), T(0));
    normBackward(pool, finalIn, params + o.finalNormW, dNormed, dx_.data(), grad(grads, o.finalNormW),
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
    if (!grads && l == 0) return;  // frozen weights: nothing below the first site needs a gradient
    normBackward(pool, L.attnSum.data(), params + o.ffnNormW, dh, dx, grad(grads, o.ffnNormW), grad(grads, o.ffnNormB));
    std::fill(dh_.begin(), dh_.end(), T(0));
    attentionBackward(pool, params, grads, l, L.attnIn.data(), dx, dh);
    normBackward(pool, in, params + o.attnNormW, dh, dx, grad(grads, o.attnNormW), grad(grads, o.attnNormB));
  } else {
    // out = ffn_norm(ffnSum), ffnSum = ffnIn + ffn(ffnIn); ffnIn = attn_norm(attnSum), attnSum = in + attn(in).
    std::fill(dh_.begin(), dh_.end(), T(0));
    normBackward(pool, L.ffnSum.data(), params + o.ffnNormW, dx, dh, grad(grads, o.ffnNormW), grad(grads, o.ffnNormB));
    ffnBackward(pool, params, grads, l, dh, dh);
    if (!grads && l == 0) return;  // frozen weights: nothing below the first site needs a gradient
    std::fill(dx_.begin(), dx_.end(), T(0));
    normBackward(pool, L.attnSum.data(), params + o.attnNormW, dh, dx, grad(grads, o.attnNormW),
                 grad(grads, o.attnNormB));
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
  const bool all = allSites();
  std::fill(dctx_.begin(), dctx_.end(), T(0));
  K::linearBackward(pool, L.ctx.data(), params + o.o, dOut, dctx_.data(), grad(grads, o.o), grad(grads, o.oB), rows_,
                    c.qDim(), h);
  const T* dCtx = dctx_.data();
  if (all) {
    std::fill(dctxRaw_.begin(), dctxRaw_.end(), T(0));
    quantiseBackward(pool, params, grads, l, Site::AttnOut, L.ctxRaw.data(), dctx_.data(), dctxRaw_.data(), rows_,
                     c.qDim());
    dCtx = dctxRaw_.data();
  }
  std::fill(dq_.begin(), dq_.end(), T(0));
  std::fill(dk_.begin(), dk_.end(), T(0));
  std::fill(dv_.begin(), dv_.end(), T(0));
  const AttentionDims dims{batch_, seqLen_, c.numHeads, c.numKvHeads, c.headDim};
  K::attentionBackward(pool, dims, L.q.data(), L.k.data(), L.v.data(), dCtx, dq_.data(), dk_.data(), dv_.data());
  T* dq = dq_.data();
  T* dv = dv_.data();
  if (all) {
    std::fill(dqRaw_.begin(), dqRaw_.end(), T(0));
    std::fill(dvRaw_.begin(), dvRaw_.end(), T(0));
    quantiseBackward(pool, params, grads, l, Site::Q, L.qRaw.data(), dq_.data(), dqRaw_.data(), rows_, c.qDim());
    quantiseBackward(pool, params, grads, l, Site::V, L.vRaw.data(), dv_.data(), dvRaw_.data(), rows_, c.kvDim());
    dq = dqRaw_.data();
    dv = dvRaw_.data();
  }
  if (c.positions == PositionKind::Rope) {
    // Rotating back by the same angles: rope at the negated positions (engine/ops/rope.h).
    K::rope(pool, dq, negatedPositions_.data(), rows_, c.numHeads, c.headDim, c.ropeTheta);
    K::rope(pool, dk_.data(), negatedPositions_.data(), rows_, c.numKvHeads, c.headDim, c.ropeTheta);
  }
  // Scope all: the products read the quantised input; its gradient goes through attn_in's quantiser.
  const T* x = all ? L.attnInQ.data() : input;
  T* dx = dIn;
  if (all) {
    std::fill(dquantised_.begin(), dquantised_.end(), T(0));
    dx = dquantised_.data();
  }
  K::linearBackward(pool, x, params + o.q, dq, dx, grad(grads, o.q), grad(grads, o.qB), rows_, h, c.qDim());
  K::linearBackward(pool, x, params + o.k, dk_.data(), dx, grad(grads, o.k), grad(grads, o.kB), rows_, h, c.kvDim());
  K::linearBackward(pool, x, params + o.v, dv, dx, grad(grads, o.v), grad(grads, o.vB), rows_, h, c.kvDim());
  if (all) quantiseBackward(pool, params, grads, l, Site::AttnIn, input, dx, dIn, rows_, h);
}

// d(site input) from dact_: through QCFS (adding the lambda's gradient) or through the IF neurons
// (adding their thresholds' and initial potentials' gradients, and the align loss's). Returns the
// buffer it wrote, dIn.
template <class K>
auto Transformer<K>::siteBackward(ThreadPool& pool, const T* params, T* grads, int64_t l, const T* in, T* dIn)
    -> const T* {
  const int64_t f = config_.ffnSize;
  if (mode_ == SiteMode::Qcfs && site_.everySite) {
    std::fill(dIn, dIn + rows_ * f, T(0));
    quantiseBackward(pool, params, grads, l, Site::Ffn, in, dact_.data(), dIn, rows_, f);
    return dIn;
  }
  if (mode_ == SiteMode::Qcfs) {
    const int64_t lambda = offsets_.layers[l].lambda;
    const double dLambda = K::qcfsBackward(pool, in, dact_.data(), dIn, rows_ * f, params[lambda], site_);
    if (grads) grads[lambda] += static_cast<T>(dLambda);
    return dIn;
  }
  const IfLayer& site = spiking_->layers[l];
  const std::vector<T>& dMean = layers_[l].dMean;
  const int64_t perCopy = seqLen_ * f, block = copies_ * perCopy;
  if (!dMean.empty()) {  // each timestep's output counts 1/T in the mean
    for (int64_t s = 0; s < batch_; ++s) {
      const T* from = dMean.data() + s / copies_ * perCopy;
      T* to = dact_.data() + s * perCopy;
      for (int64_t e = 0; e < perCopy; ++e) to[e] += from[e] / static_cast<T>(copies_);
    }
  }
  const spiking::SpikeShape shape{static_cast<int>(copies_), static_cast<int>(seqLen_), static_cast<int>(f), 0};
  for (int64_t s = 0; s < batch_ / copies_; ++s) {
    K::ifBackward(pool, in + s * block, dact_.data() + s * block, dIn + s * block, shape, site.neuron, site.dTheta,
                  site.dV0);
  }
  return dIn;
}

// dIn += d(ffn(ffnIn))/d(ffnIn) applied to dOut, plus the parameter gradients (and the site's). dIn
// may be dOut: dOut is consumed by down's backward before anything is added to dIn.
template <class K>
void Transformer<K>::ffnBackward(ThreadPool& pool, const T* params, T* grads, int64_t l, const T* dOut, T* dIn) {
  const ModelConfig& c = config_;
  const LayerOffsets& o = offsets_.layers[l];
  Layer& L = layers_[l];
  const int64_t h = c.hiddenSize, f = c.ffnSize, n = rows_ * f;
  const bool atSite = mode_ != SiteMode::Activation;
  std::fill(dact_.begin(), dact_.end(), T(0));
  K::linearBackward(pool, L.act.data(), params + o.down, dOut, dact_.data(), grad(grads, o.down), grad(grads, o.downB),
                    rows_, f, h);
  // Scope all: up and gate read the quantised input; its gradient goes through ffn_in's quantiser.
  const bool all = allSites();
  const T* x = all ? L.ffnInQ.data() : L.ffnIn.data();
  T* const dTo = dIn;
  if (all) {
    std::fill(dquantised_.begin(), dquantised_.end(), T(0));
    dIn = dquantised_.data();
  }
  switch (c.activation) {
    case Activation::GeluNew:
    case Activation::Relu:
      if (atSite) {
        siteBackward(pool, params, grads, l, L.up.data(), dup_.data());
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
      const T* dProduct = atSite ? siteBackward(pool, params, grads, l, L.site.data(), dsite_.data()) : dact_.data();
      std::fill(dup_.begin(), dup_.end(), T(0));
      std::fill(dgate_.begin(), dgate_.end(), T(0));
      K::siluMulBackward(pool, L.gate.data(), L.up.data(), dProduct, dgate_.data(), dup_.data(), n);
      K::linearBackward(pool, x, params + o.gate, dgate_.data(), dIn, grad(grads, o.gate), grad(grads, o.gateB), rows_,
                        h, f);
      break;
  }
  K::linearBackward(pool, x, params + o.up, dup_.data(), dIn, grad(grads, o.up), grad(grads, o.upB), rows_, h, f);
  if (all) quantiseBackward(pool, params, grads, l, Site::FfnIn, L.ffnIn.data(), dIn, dTo, rows_, h);
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
