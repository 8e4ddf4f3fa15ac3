// The two sets of kernels the transformer is compiled with (see transformer.h):
//   FastKernels  float, multithreaded: the engine's forward ops (linear layers excepted: they run on
//                the backward's GEMM, see train/ops/linear.h), train/ops backward ops, spiking QCFS.
//   RefKernels   double, plain loops: the references, so whole-model gradients can be checked by
//                finite differences and the fast path compared against them.
// Conventions: forward ops write their output; backward ops accumulate (+=) into every gradient,
// except crossEntropyBackward, qcfsBackward and ifBackward's dx, which write theirs.
// quantise / quantiseBackward: a scope all site (qcfs_site.h) on x [rows, width] with thresholds
// lambda ([width] or [1]); the backward's straight-through gradients (spiking::qcfsGrad per channel)
// are added into dx and dlambda.
#pragma once
#include <algorithm>
#include <cstdint>
#include <vector>

#include "engine/ops/activation.h"
#include "engine/ops/attention.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/embedding.h"
#include "engine/ops/norm.h"
#include "engine/ops/rope.h"
#include "engine/threadpool.h"
#include "spiking/if_neuron.h"
#include "spiking/if_surrogate.h"
#include "spiking/qcfs.h"
#include "train/model/qcfs_site.h"
#include "train/ops/activation_backward.h"
#include "train/ops/attention_backward.h"
#include "train/ops/cross_entropy.h"
#include "train/ops/embedding_backward.h"
#include "train/ops/linear.h"
#include "train/ops/norm_backward.h"

namespace fas::train {

struct FastKernels {
  using Scalar = float;
  using P = ThreadPool&;

  static void linear(P p, const float* x, const float* w, const float* b, float* y, int64_t n, int64_t in,
                     int64_t out) {
    linear_forward(p, x, w, b, y, n, in, out);
  }
  static void linearBackward(P p, const float* x, const float* w, const float* dy, float* dx, float* dw, float* db,
                             int64_t n, int64_t in, int64_t out) {
    linear_backward(p, x, w, dy, dx, dw, db, n, in, out);
  }
  static void layerNorm(P p, const float* x, const float* w, const float* b, float* y, int64_t n, int64_t dim,
                        float eps) {
    ops::layernorm(p, x, w, b, y, n, dim, eps);
  }
  static void layerNormBackward(P p, const float* x, const float* w, const float* dy, float* dx, float* dw, float* db,
                                int64_t n, int64_t dim, float eps) {
    layernorm_backward(p, x, w, dy, dx, dw, db, n, dim, eps);
  }
  static void rmsNorm(P p, const float* x, const float* w, float* y, int64_t n, int64_t dim, float eps) {
    ops::rmsnorm(p, x, w, y, n, dim, eps);
  }
  static void rmsNormBackward(P p, const float* x, const float* w, const float* dy, float* dx, float* dw, int64_t n,
                              int64_t dim, float eps) {
    rmsnorm_backward(p, x, w, dy, dx, dw, n, dim, eps);
  }
  static void geluNew(P p, const float* x, float* y, int64_t n) { ops::gelu_new(p, x, y, n); }
  static void geluNewBackward(P p, const float* x, const float* dy, float* dx, int64_t n) {
    gelu_new_backward(p, x, dy, dx, n);
  }
  static void relu(P p, const float* x, float* y, int64_t n) { ops::relu(p, x, y, n); }
  static void reluBackward(P p, const float* x, const float* dy, float* dx, int64_t n) {
    relu_backward(p, x, dy, dx, n);
  }
  static void siluMul(P p, const float* gate, const float* up, float* y, int64_t n) {
    ops::silu_mul(p, gate, up, y, n);
  }
  static void siluMulBackward(P p, const float* gate, const float* up, const float* dy, float* dgate, float* dup,
                              int64_t n) {
    silu_mul_backward(p, gate, up, dy, dgate, dup, n);
  }
  static void rope(P p, float* x, const int32_t* positions, int64_t n, int64_t heads, int64_t headDim, double theta) {
    ops::rope(p, x, positions, n, heads, headDim, theta);
  }
  static void attention(P p, const AttentionDims& d, const float* q, const float* k, const float* v, float* out) {
    const ops::AttentionShape s{d.batch, d.seqLen, 0, d.seqLen, d.numHeads, d.numKvHeads, d.headDim};
    ops::attention(p, s, q, k, v, out);
  }
  static void attentionBackward(P p, const AttentionDims& d, const float* q, const float* k, const float* v,
                                const float* dout, float* dq, float* dk, float* dv) {
    attention_backward(p, d, q, k, v, dout, dq, dk, dv);
  }
  static void embedding(const float* table, const int32_t* ids, float* out, int64_t n, int64_t dim) {
    ops::embedding(table, ids, out, n, dim);
  }
  static void addEmbedding(const float* table, const int32_t* ids, float* out, int64_t n, int64_t dim) {
    ops::add_position_embedding(table, ids, 0, out, n, dim);
  }
  static void embeddingBackward(P p, const int32_t* ids, const float* dout, float* dtable, int64_t n, int64_t dim) {
    embedding_backward(p, ids, dout, dtable, n, dim);
  }
  static void add(const float* x, float* y, int64_t n) { ops::add_inplace(x, y, n); }
  static double crossEntropy(P p, const float* logits, const int32_t* targets, const uint8_t* mask, int64_t n,
                             int64_t vocab) {
    return cross_entropy(p, logits, targets, mask, n, vocab);
  }
  static void crossEntropyBackward(P p, const float* logits, const int32_t* targets, const uint8_t* mask, float scale,
                                   float* dlogits, int64_t n, int64_t vocab) {
    cross_entropy_backward(p, logits, targets, mask, scale, dlogits, n, vocab);
  }
  static void qcfs(P p, const float* x, float* y, int64_t n, float lambda, const QcfsSite& site);
  // dx = dy * dy/dx (written; dx must not be dy); returns dL/dlambda.
  static double qcfsBackward(P p, const float* x, const float* dy, float* dx, int64_t n, float lambda,
                             const QcfsSite& site);
  static void quantise(P p, const float* x, float* y, int64_t rows, int64_t width, const float* lambda,
                       const SiteQuant& q);
  static void quantiseBackward(P p, const float* x, const float* dy, float* dx, int64_t rows, int64_t width,
                               const float* lambda, float* dlambda, const SiteQuant& q);
  // IF neurons over one sequence's x [T, rows, n]: y = spike * theta at every timestep.
  static void ifForward(P p, const float* x, float* y, const spiking::SpikeShape& shape,
                        const spiking::IfNeuron& neuron) {
    spiking::IfOutputs out;
    out.out = y;
    p.run([&](int ith, int nth) { spiking::ifForward(x, shape, neuron, out, ith, nth); });
  }
  // Surrogate backward (spiking/if_surrogate.h): dx written, the neurons' gradients added (per neuron
  // or per position and neuron: threads own disjoint neurons).
  static void ifBackward(P p, const float* x, const float* dy, float* dx, const spiking::SpikeShape& shape,
                         const spiking::IfNeuron& neuron, const spiking::NeuronGrad& dTheta,
                         const spiking::NeuronGrad& dV0) {
    p.run([&](int ith, int nth) {
      spiking::ifBackward(x, shape, neuron, spiking::IfUpstream{dy, nullptr}, spiking::IfGrads{dTheta, dV0, dx}, ith,
                          nth);
    });
  }
};

struct RefKernels {
  using Scalar = double;
  using P = ThreadPool&;

  static void linear(P, const double* x, const double* w, const double* b, double* y, int64_t n, int64_t in,
                     int64_t out) {
    linear_forward_ref(x, w, b, y, n, in, out);
  }
  static void linearBackward(P, const double* x, const double* w, const double* dy, double* dx, double* dw, double* db,
                             int64_t n, int64_t in, int64_t out) {
    linear_backward_ref(x, w, dy, dx, dw, db, n, in, out);
  }
  static void layerNorm(P, const double* x, const double* w, const double* b, double* y, int64_t n, int64_t dim,
                        double eps) {
    ops::layernorm_ref(x, w, b, y, n, dim, eps);
  }
  static void layerNormBackward(P, const double* x, const double* w, const double* dy, double* dx, double* dw,
                                double* db, int64_t n, int64_t dim, double eps) {
    layernorm_backward_ref(x, w, dy, dx, dw, db, n, dim, eps);
  }
  static void rmsNorm(P, const double* x, const double* w, double* y, int64_t n, int64_t dim, double eps) {
    ops::rmsnorm_ref(x, w, y, n, dim, eps);
  }
  static void rmsNormBackward(P, const double* x, const double* w, const double* dy, double* dx, double* dw, int64_t n,
                              int64_t dim, double eps) {
    rmsnorm_backward_ref(x, w, dy, dx, dw, n, dim, eps);
  }
  static void geluNew(P, const double* x, double* y, int64_t n) { gelu_new_forward_ref(x, y, n); }
  static void geluNewBackward(P, const double* x, const double* dy, double* dx, int64_t n) {
    gelu_new_backward_ref(x, dy, dx, n);
  }
  static void relu(P, const double* x, double* y, int64_t n) { relu_forward_ref(x, y, n); }
  static void reluBackward(P, const double* x, const double* dy, double* dx, int64_t n) {
    relu_backward_ref(x, dy, dx, n);
  }
  static void siluMul(P, const double* gate, const double* up, double* y, int64_t n) {
    silu_mul_forward_ref(gate, up, y, n);
  }
  static void siluMulBackward(P, const double* gate, const double* up, const double* dy, double* dgate, double* dup,
                              int64_t n) {
    silu_mul_backward_ref(gate, up, dy, dgate, dup, n);
  }
  static void rope(P, double* x, const int32_t* positions, int64_t n, int64_t heads, int64_t headDim, double theta) {
    ops::rope_ref(x, positions, n, heads, headDim, theta);
  }
  static void attention(P, const AttentionDims& d, const double* q, const double* k, const double* v, double* out) {
    attention_forward_ref(d, q, k, v, out);
  }
  static void attentionBackward(P, const AttentionDims& d, const double* q, const double* k, const double* v,
                                const double* dout, double* dq, double* dk, double* dv) {
    attention_backward_ref(d, q, k, v, dout, dq, dk, dv);
  }
  static void embedding(const double* table, const int32_t* ids, double* out, int64_t n, int64_t dim) {
    std::fill(out, out + n * dim, 0.0);
    embedding_forward_ref(table, ids, out, n, dim);
  }
  static void addEmbedding(const double* table, const int32_t* ids, double* out, int64_t n, int64_t dim) {
    embedding_forward_ref(table, ids, out, n, dim);
  }
  static void embeddingBackward(P, const int32_t* ids, const double* dout, double* dtable, int64_t n, int64_t dim) {
    embedding_backward_ref(ids, dout, dtable, n, dim);
  }
  static void add(const double* x, double* y, int64_t n) {
    for (int64_t i = 0; i < n; ++i) y[i] += x[i];
  }
  static double crossEntropy(P, const double* logits, const int32_t* targets, const uint8_t* mask, int64_t n,
                             int64_t vocab) {
    return cross_entropy_ref(logits, targets, mask, n, vocab);
  }
  static void crossEntropyBackward(P, const double* logits, const int32_t* targets, const uint8_t* mask, double scale,
                                   double* dlogits, int64_t n, int64_t vocab) {
    cross_entropy_backward_ref(logits, targets, mask, scale, dlogits, n, vocab);
  }
  // QCFS is defined on floats (spiking/qcfs.h): these round x to float, so around a step of the floor
  // they are only float-accurate. Finite differences through QCFS use a test kernel set instead.
  static void qcfs(P, const double* x, double* y, int64_t n, double lambda, const QcfsSite& site) {
    const spiking::Qcfs q = site.at(static_cast<float>(lambda));
    for (int64_t i = 0; i < n; ++i) y[i] = spiking::qcfs(static_cast<float>(x[i]), q);
  }
  static double qcfsBackward(P, const double* x, const double* dy, double* dx, int64_t n, double lambda,
                             const QcfsSite& site) {
    const spiking::Qcfs q = site.at(static_cast<float>(lambda));
    double dlambda = 0;
    for (int64_t i = 0; i < n; ++i) {
      const spiking::QcfsGrad g = spiking::qcfsGrad(static_cast<float>(x[i]), q);
      dlambda += dy[i] * g.dlambda;
      dx[i] = dy[i] * g.dx;
    }
    return dlambda;
  }
  static void quantise(P, const double* x, double* y, int64_t rows, int64_t width, const double* lambda,
                       const SiteQuant& q) {
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t c = 0; c < width; ++c) {
        const int64_t i = r * width + c;
        y[i] = spiking::qcfs(static_cast<float>(x[i]), q.at(static_cast<float>(lambda[q.perChannel ? c : 0])));
      }
    }
  }
  static void quantiseBackward(P, const double* x, const double* dy, double* dx, int64_t rows, int64_t width,
                               const double* lambda, double* dlambda, const SiteQuant& q) {
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t c = 0; c < width; ++c) {
        const int64_t i = r * width + c, k = q.perChannel ? c : 0;
        const spiking::QcfsGrad g = spiking::qcfsGrad(static_cast<float>(x[i]), q.at(static_cast<float>(lambda[k])));
        dx[i] += dy[i] * g.dx;
        if (dlambda) dlambda[k] += dy[i] * g.dlambda;
      }
    }
  }
  // The IF neurons are defined on floats too: these run the float references on rounded copies.
  static void ifForward(P, const double* x, double* y, const spiking::SpikeShape& shape,
                        const spiking::IfNeuron& neuron) {
    const std::vector<float> xf(x, x + shape.size());
    std::vector<float> yf(shape.size());
    spiking::IfOutputs out;
    out.out = yf.data();
    spiking::ifForwardRef(xf.data(), shape, neuron, out);
    std::copy(yf.begin(), yf.end(), y);
  }
  static void ifBackward(P, const double* x, const double* dy, double* dx, const spiking::SpikeShape& shape,
                         const spiking::IfNeuron& neuron, const spiking::NeuronGrad& dTheta,
                         const spiking::NeuronGrad& dV0) {
    const std::vector<float> xf(x, x + shape.size()), dyf(dy, dy + shape.size());
    std::vector<float> dxf(shape.size());
    spiking::ifBackwardRef(xf.data(), shape, neuron, spiking::IfUpstream{dyf.data(), nullptr},
                           spiking::IfGrads{dTheta, dV0, dxf.data()});
    std::copy(dxf.begin(), dxf.end(), dx);
  }
};

}  // namespace fas::train
