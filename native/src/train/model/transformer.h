// The decoder of every supported family (GPT-2, OPT pre- and post-LN, LLaMA with grouped-query heads
// and rotary positions) as a training graph: a forward pass over batch x seqLen tokens that keeps the
// activations its backward needs, and a backward pass that adds every parameter's gradient.
// The graph is the one engine/runtime/forward.cpp runs for inference; parameters and gradients live
// in flat arrays laid out by ParamLayout (params.h).
//
// It is written once over a kernel set K (kernels.h): Transformer<FastKernels> trains, and
// Transformer<RefKernels> runs the same graph in double for gradient checks.
//
// The FFN site runs the model's own activation, QCFS (stage 1), or IF neurons over T timesteps
// (stage 2, forwardSpiking): then each sequence runs as T copies side by side, rows [batch, T,
// seqLen] as in the engine's snn mode, the neurons carry their potential across the copies, and the
// logits come from the final-norm features averaged over T. Backward then reaches every layer's
// thresholds and initial potentials through the surrogate spike gradient (spiking/if_surrogate.h).
//
// With the site's everySite (scope all, fas-method.md section 9) QCFS mode quantises every input of
// a matrix product where the engine's qcfs mode does: attn_in, q after its bias and RoPE (before the
// 1/sqrt(head_dim) scale), v as it enters softmax(.).v (keys stay real-valued), attn_out, ffn_in,
// the FFN site and head_in; backward runs the straight-through gradient of each and adds every
// channel's lambda gradient.
#pragma once
#include <cstdint>
#include <vector>

#include "engine/model/config.h"
#include "engine/threadpool.h"
#include "spiking/neuron_param.h"
#include "train/model/buffer_sizes.h"
#include "train/model/params.h"
#include "train/model/qcfs_site.h"

namespace fas::train {

struct TokenBatch {
  const int32_t* inputs;   // [batch, seqLen]
  const int32_t* targets;  // [batch, seqLen]: the token each position should predict
  const uint8_t* mask;     // [batch, seqLen], nonzero where the target counts; nullptr: all count
  int64_t batch, seqLen;
};

// One layer's IF neurons in a spiking forward pass, and where backward adds their gradients.
struct IfLayer {
  spiking::IfNeuron neuron;
  spiking::NeuronGrad dTheta, dV0;  // accumulated (+=); per neuron or per (position, neuron), not per layer
  // Optional align loss (fas-method.md section 4): alignScale times the squared error between the
  // time-averaged IF output and this teacher output [batch, seqLen, ffnSize].
  const float* alignTarget = nullptr;
  float alignScale = 0.0f;
};

struct IfSite {
  int timesteps = 1;
  std::vector<IfLayer> layers;  // one per model layer
};

struct LossSum {
  double sum;      // of the token losses over counted targets
  int64_t tokens;  // counted targets
};

template <class K>
class Transformer {
 public:
  using T = typename K::Scalar;

  Transformer(const ModelConfig& config, const ModelOffsets& offsets, QcfsSite site);

  // Runs the model and keeps what backward needs. useQcfs picks QCFS or the original activation at the
  // site (QCFS needs site.enabled). Throws std::invalid_argument for ids, targets or a length the
  // model cannot take.
  LossSum forward(ThreadPool& pool, const T* params, const TokenBatch& batch, bool useQcfs);
  // The same with IF neurons at the site (the model built with the QCFS site). `site` must outlive
  // the backward pass; its gradient buffers must not be per layer (threads share them by neuron).
  LossSum forwardSpiking(ThreadPool& pool, const T* params, const TokenBatch& batch, const IfSite& site);

  // Adds the gradient of scale * (loss sum of the last forward) with respect to params into grads.
  // Once per forward: it turns the kept logits into their gradient. grads may be null (frozen
  // weights): then only the IF neurons' gradients are computed.
  void backward(ThreadPool& pool, const T* params, T* grads, T scale);

  // The last forward's logits [batch * seqLen, vocab]. A caller with a loss of its own overwrites
  // them with that loss's gradient and calls backwardFromLogits instead of backward.
  T* logits() { return logits_.data(); }
  void backwardFromLogits(ThreadPool& pool, const T* params, T* grads);

  // The last forward's site output of a layer [batch, seqLen, ffnSize] (not in spiking mode), and
  // per layer the align loss (without alignScale) of a spiking forward.
  const T* siteOutput(int64_t layer) const { return layers_[layer].act.data(); }
  const std::vector<double>& alignSse() const { return alignSse_; }

 private:
  enum class SiteMode { Activation, Qcfs, Spiking };

  struct Layer {
    std::vector<T> attnIn;                               // pre-norm: attn_norm(in); post-norm reads `in` directly
    std::vector<T> q, k, v;                              // projections, after rope (scope all: q and v quantised)
    std::vector<T> attnInQ, qRaw, vRaw, ctxRaw, ffnInQ;  // scope all: quantised inputs, unquantised q, v, ctx
    std::vector<T> ctx;                                  // attention output, input of o
    std::vector<T> attnSum;                              // in + o(ctx)
    std::vector<T> ffnIn;                                // pre-norm: ffn_norm(attnSum); post-norm: attn_norm(attnSum)
    std::vector<T> up, gate;
    std::vector<T> site;    // LLaMA with QCFS: silu(gate) * up, the QCFS input
    std::vector<T> act;     // input of down
    std::vector<T> ffnSum;  // post-norm: ffnIn + down(act), input of ffn_norm
    std::vector<T> dMean;   // spiking with an align target: its gradient w.r.t. the time-averaged act
  };

  LossSum run(ThreadPool& pool, const T* params, const TokenBatch& batch, SiteMode mode, const IfSite* site);
  void checkBatch(const TokenBatch& batch) const;
  void allocate(int64_t rows, int64_t tokens);
  void allocateGradients();

  const T* param(const T* params, int64_t offset) const { return offset < 0 ? nullptr : params + offset; }
  T* grad(T* grads, int64_t offset) const { return offset < 0 || !grads ? nullptr : grads + offset; }

  void norm(ThreadPool& pool, const T* x, const T* w, const T* b, T* y);
  void normBackward(ThreadPool& pool, const T* x, const T* w, const T* dy, T* dx, T* dw, T* db);
  void embedForward(ThreadPool& pool, const T* params);
  void layerForward(ThreadPool& pool, const T* params, int64_t l);
  void attentionForward(ThreadPool& pool, const T* params, int64_t l, const T* input);
  void ffnForward(ThreadPool& pool, const T* params, int64_t l);
  void siteForward(ThreadPool& pool, const T* params, int64_t l, const T* in);
  void fire(ThreadPool& pool, int64_t l, const T* in);
  const T* siteBackward(ThreadPool& pool, const T* params, T* grads, int64_t l, const T* in, T* dIn);
  void headForward(ThreadPool& pool, const T* params);
  void headBackward(ThreadPool& pool, const T* params, T* grads);
  void layerBackward(ThreadPool& pool, const T* params, T* grads, int64_t l);
  void attentionBackward(ThreadPool& pool, const T* params, T* grads, int64_t l, const T* input, const T* dOut, T* dIn);
  void ffnBackward(ThreadPool& pool, const T* params, T* grads, int64_t l, const T* dOut, T* dIn);
  void embedBackward(ThreadPool& pool, const T* params, T* grads);

  // Scope all (QCFS mode with everySite): each site's quantiser and its backward.
  bool allSites() const { return mode_ == SiteMode::Qcfs && site_.everySite; }
  int64_t lambdaOffset(int64_t l, Site s) const {
    return s == Site::HeadIn ? offsets_.headIn : offsets_.layers[l].sites[int(s)];
  }
  SiteQuant quantOf(Site s) const;
  void quantise(ThreadPool& pool, const T* params, int64_t l, Site s, const T* x, T* y, int64_t rows, int64_t width);
  void quantiseBackward(ThreadPool& pool, const T* params, T* grads, int64_t l, Site s, const T* x, const T* dy, T* dx,
                        int64_t rows, int64_t width);

  const ModelConfig config_;
  const ModelOffsets offsets_;
  const QcfsSite site_;

  // The last forward's batch: batch_ sequences of seqLen_ (T copies of each in spiking mode), rows_
  // = batch_ * seqLen_ rows through the layers, tokens_ of them (rows_ / T) through the head.
  int64_t batch_ = 0, seqLen_ = 0, rows_ = 0, tokens_ = 0, copies_ = 1;
  TrainWidths widths_{};  // the buffers' sizes (buffer_sizes.h), for the last forward's rows and tokens
  SiteMode mode_ = SiteMode::Activation;
  const IfSite* spiking_ = nullptr;
  std::vector<double> alignSse_;
  bool backwardPending_ = false;
  std::vector<int32_t> ids_, targets_;                               // [rows_], [tokens_]
  std::vector<int32_t> positions_, positionIds_, negatedPositions_;  // in the sequence, + offset, negated
  std::vector<uint8_t> mask_;                                        // [tokens_]

  // Activations. stream_[l] is the input of layer l; stream_[numLayers] the input of the head.
  std::vector<T> words_;  // token embeddings before project_in
  std::vector<std::vector<T>> stream_;
  std::vector<Layer> layers_;
  // Final norm [rows_], its mean over T in spiking mode [tokens_], project_out and the logits
  // [tokens_] (their gradient in backward).
  std::vector<T> normed_, averaged_, projected_, logits_;
  std::vector<T> headInQ_;  // scope all: the quantised head input

  // Backward scratch.
  std::vector<T> dx_, dh_, dq_, dk_, dv_, dctx_, dact_, dup_, dgate_, dsite_, dwide_, daveraged_;
  std::vector<T> dqRaw_, dvRaw_, dctxRaw_, dquantised_;  // scope all
};

}  // namespace fas::train
