// The decoder of every supported family (GPT-2, OPT pre- and post-LN, LLaMA with grouped-query heads
// and rotary positions) as a training graph: a forward pass over batch x seqLen tokens that keeps the
// activations its backward needs, and a backward pass that adds every parameter's gradient.
// The graph is the one engine/runtime/forward.cpp runs for inference; parameters and gradients live
// in flat arrays laid out by ParamLayout (params.h).
//
// It is written once over a kernel set K (kernels.h): Transformer<FastKernels> trains, and
// Transformer<RefKernels> runs the same graph in double for gradient checks.
#pragma once
#include <cstdint>
#include <vector>

#include "engine/model/config.h"
#include "engine/threadpool.h"
#include "train/model/params.h"
#include "train/model/qcfs_site.h"

namespace fas::train {

struct TokenBatch {
  const int32_t* inputs;   // [batch, seqLen]
  const int32_t* targets;  // [batch, seqLen]: the token each position should predict
  const uint8_t* mask;     // [batch, seqLen], nonzero where the target counts; nullptr: all count
  int64_t batch, seqLen;
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

  // Adds the gradient of scale * (loss sum of the last forward) with respect to params into grads.
  // Once per forward: it turns the kept logits into their gradient.
  void backward(ThreadPool& pool, const T* params, T* grads, T scale);

 private:
  struct Layer {
    std::vector<T> attnIn;   // pre-norm: attn_norm(in); post-norm reads `in` directly
    std::vector<T> q, k, v;  // projections, after rope
    std::vector<T> ctx;      // attention output, input of o
    std::vector<T> attnSum;  // in + o(ctx)
    std::vector<T> ffnIn;    // pre-norm: ffn_norm(attnSum); post-norm: attn_norm(attnSum)
    std::vector<T> up, gate;
    std::vector<T> site;     // LLaMA with QCFS: silu(gate) * up, the QCFS input
    std::vector<T> act;      // input of down
    std::vector<T> ffnSum;   // post-norm: ffnIn + down(act), input of ffn_norm
  };

  void checkBatch(const TokenBatch& batch) const;
  void allocate(int64_t rows);
  void allocateGradients();

  const T* param(const T* params, int64_t offset) const { return offset < 0 ? nullptr : params + offset; }
  T* grad(T* grads, int64_t offset) const { return offset < 0 ? nullptr : grads + offset; }

  void norm(ThreadPool& pool, const T* x, const T* w, const T* b, T* y);
  void normBackward(ThreadPool& pool, const T* x, const T* w, const T* dy, T* dx, T* dw, T* db);
  void embedForward(ThreadPool& pool, const T* params);
  void layerForward(ThreadPool& pool, const T* params, int64_t l);
  void attentionForward(ThreadPool& pool, const T* params, int64_t l, const T* input);
  void ffnForward(ThreadPool& pool, const T* params, int64_t l);
  void headForward(ThreadPool& pool, const T* params);
  void headBackward(ThreadPool& pool, const T* params, T* grads);
  void layerBackward(ThreadPool& pool, const T* params, T* grads, int64_t l);
  void attentionBackward(ThreadPool& pool, const T* params, T* grads, int64_t l, const T* input, const T* dOut,
                         T* dIn);
  void ffnBackward(ThreadPool& pool, const T* params, T* grads, int64_t l, const T* dOut, T* dIn);
  void embedBackward(ThreadPool& pool, const T* params, T* grads);

  const ModelConfig config_;
  const ModelOffsets offsets_;
  const QcfsSite site_;

  // The last forward's batch.
  int64_t batch_ = 0, seqLen_ = 0, rows_ = 0;
  bool useQcfs_ = false;
  bool backwardPending_ = false;
  std::vector<int32_t> ids_, targets_;
  std::vector<int32_t> positions_, positionIds_, negatedPositions_;  // in the sequence, + offset, negated
  std::vector<uint8_t> mask_;

  // Activations. stream_[l] is the input of layer l; stream_[numLayers] the input of the head.
  std::vector<T> words_;  // token embeddings before project_in
  std::vector<std::vector<T>> stream_;
  std::vector<Layer> layers_;
  std::vector<T> normed_, projected_, logits_;  // final norm, project_out, logits (gradient in backward)

  // Backward scratch.
  std::vector<T> dx_, dh_, dq_, dk_, dv_, dctx_, dact_, dup_, dgate_, dsite_, dwide_;
};

}  // namespace fas::train
