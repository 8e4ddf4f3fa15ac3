#include "train/ops/attention_backward.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "engine/ops/gemm.h"
#include "engine/simd.h"

namespace fas::train {

namespace {

// Offsets of row i of head h in a [batch, seqLen, heads, headDim] tensor.
int64_t at(const AttentionDims& d, int64_t b, int64_t i, int64_t heads, int64_t h) {
  return ((b * d.seqLen + i) * heads + h) * d.headDim;
}

// Softmax of query i's scores over keys 0..i into p.
void probabilitiesRef(const AttentionDims& d, const double* q, const double* k, int64_t b, int64_t h, int64_t i,
                      double* p) {
  const int64_t kvHead = h / (d.numHeads / d.numKvHeads);
  const double scale = 1.0 / std::sqrt(static_cast<double>(d.headDim));
  const double* qi = q + at(d, b, i, d.numHeads, h);
  double maxScore = -INFINITY;
  for (int64_t j = 0; j <= i; ++j) {
    const double* kj = k + at(d, b, j, d.numKvHeads, kvHead);
    double dot = 0;
    for (int64_t t = 0; t < d.headDim; ++t) dot += qi[t] * kj[t];
    p[j] = dot * scale;
    maxScore = std::max(maxScore, p[j]);
  }
  double total = 0;
  for (int64_t j = 0; j <= i; ++j) total += (p[j] = std::exp(p[j] - maxScore));
  for (int64_t j = 0; j <= i; ++j) p[j] /= total;
}

}  // namespace

void attention_forward_ref(const AttentionDims& d, const double* q, const double* k, const double* v, double* out) {
  std::vector<double> p(d.seqLen);
  for (int64_t b = 0; b < d.batch; ++b) {
    for (int64_t h = 0; h < d.numHeads; ++h) {
      const int64_t kvHead = h / (d.numHeads / d.numKvHeads);
      for (int64_t i = 0; i < d.seqLen; ++i) {
        probabilitiesRef(d, q, k, b, h, i, p.data());
        double* o = out + at(d, b, i, d.numHeads, h);
        for (int64_t t = 0; t < d.headDim; ++t) {
          double acc = 0;
          for (int64_t j = 0; j <= i; ++j) acc += p[j] * v[at(d, b, j, d.numKvHeads, kvHead) + t];
          o[t] = acc;
        }
      }
    }
  }
}

void attention_backward_ref(const AttentionDims& d, const double* q, const double* k, const double* v,
                            const double* dout, double* dq, double* dk, double* dv) {
  const double scale = 1.0 / std::sqrt(static_cast<double>(d.headDim));
  std::vector<double> p(d.seqLen), dp(d.seqLen);
  for (int64_t b = 0; b < d.batch; ++b) {
    for (int64_t h = 0; h < d.numHeads; ++h) {
      const int64_t kvHead = h / (d.numHeads / d.numKvHeads);
      for (int64_t i = 0; i < d.seqLen; ++i) {
        probabilitiesRef(d, q, k, b, h, i, p.data());
        const int64_t qi = at(d, b, i, d.numHeads, h);
        double weighted = 0;
        for (int64_t j = 0; j <= i; ++j) {
          const int64_t kj = at(d, b, j, d.numKvHeads, kvHead);
          dp[j] = 0;
          for (int64_t t = 0; t < d.headDim; ++t) {
            dp[j] += dout[qi + t] * v[kj + t];
            dv[kj + t] += p[j] * dout[qi + t];
          }
          weighted += p[j] * dp[j];
        }
        for (int64_t j = 0; j <= i; ++j) {
          const int64_t kj = at(d, b, j, d.numKvHeads, kvHead);
          const double ds = p[j] * (dp[j] - weighted) * scale;
          for (int64_t t = 0; t < d.headDim; ++t) {
            dq[qi + t] += ds * k[kj + t];
            dk[kj + t] += ds * q[qi + t];
          }
        }
      }
    }
  }
}

namespace {

using namespace simd;

constexpr int64_t kQueryBlock = 64;  // queries per block: a block sees only keys up to its last query

// Rows of scores s[rows][keys] for queries i0.. become causal softmax probabilities of scale * s;
// keys after a row's own position get 0. Dispatched (simd.h): as a 16-float clone the compiler
// spilled exp's temporaries with AVX2.
template <int N>
struct CausalSoftmaxRows {
  FAS_ALWAYS_INLINE static void run(float* s, int64_t rows, int64_t keys, int64_t i0, float scale) {
    for (int64_t r = 0; r < rows; ++r) simd::softmaxInPlace<N>(s + r * keys, i0 + r + 1, keys, scale);
  }
};

// ds = p (dp - sum_j p dp) * scale per row, in place in dp.
FAS_SIMD_CLONES void softmaxBackwardRows(const float* p, float* dp, int64_t rows, int64_t keys, float scale) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* pr = p + r * keys;
    float* dr = dp + r * keys;
    vf acc = {};
    int64_t j = 0;
    for (; j + kLanes <= keys; j += kLanes) acc += load(pr + j) * load(dr + j);
    float weighted = sum(acc);
    for (; j < keys; ++j) weighted += pr[j] * dr[j];
    for (j = 0; j + kLanes <= keys; j += kLanes) store(dr + j, load(pr + j) * (load(dr + j) - weighted) * scale);
    for (; j < keys; ++j) dr[j] = pr[j] * (dr[j] - weighted) * scale;
  }
}

}  // namespace

// Per (sequence, key/value head), per query head of its group, per block of queries: five products
// on the GEMM, with p and ds as [rows, keys] matrices (keys = the block's last position + 1):
//   s = q k^T, p = softmax;  ds from dp = dout v^T;  dq += ds k;  dk += ds^T q;  dv += p^T dout.
void attention_backward(ThreadPool& pool, const AttentionDims& d, const float* q, const float* k, const float* v,
                        const float* dout, float* dq, float* dk, float* dv) {
  const int64_t group = d.numHeads / d.numKvHeads, hd = d.headDim;
  const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(hd)));
  const int64_t qStride = d.numHeads * hd, kvStride = d.numKvHeads * hd;
  const int64_t tasks = d.batch * d.numKvHeads;
  pool.run([&](int ith, int nth) {
    std::vector<float> p(kQueryBlock * d.seqLen), ds(kQueryBlock * d.seqLen);
    const Range r = splitRange(tasks, ith, nth);
    for (int64_t task = r.begin; task < r.end; ++task) {
      const int64_t b = task / d.numKvHeads, kvHead = task % d.numKvHeads;
      const int64_t kvOffset = b * d.seqLen * kvStride + kvHead * hd;
      const float *kb = k + kvOffset, *vb = v + kvOffset;
      float *dkb = dk + kvOffset, *dvb = dv + kvOffset;
      for (int64_t h = kvHead * group; h < (kvHead + 1) * group; ++h) {
        const int64_t qOffset = b * d.seqLen * qStride + h * hd;
        for (int64_t i0 = 0; i0 < d.seqLen; i0 += kQueryBlock) {
          const int64_t rows = std::min(kQueryBlock, d.seqLen - i0), keys = i0 + rows;
          const float* qi = q + qOffset + i0 * qStride;
          const float* douti = dout + qOffset + i0 * qStride;
          std::fill(p.begin(), p.begin() + rows * keys, 0.0f);
          ops::gemm_accumulate_serial(rows, keys, hd, ops::GemmA{qi, qStride, 1}, ops::GemmB{kb, 1, kvStride}, p.data(),
                                      keys);
          simd::dispatch<CausalSoftmaxRows>(p.data(), rows, keys, i0, scale);
          std::fill(ds.begin(), ds.begin() + rows * keys, 0.0f);
          ops::gemm_accumulate_serial(rows, keys, hd, ops::GemmA{douti, qStride, 1}, ops::GemmB{vb, 1, kvStride},
                                      ds.data(), keys);
          softmaxBackwardRows(p.data(), ds.data(), rows, keys, scale);
          float* dqi = dq + qOffset + i0 * qStride;
          ops::gemm_accumulate_serial(rows, hd, keys, ops::GemmA{ds.data(), keys, 1}, ops::GemmB{kb, kvStride}, dqi,
                                      qStride);
          ops::gemm_accumulate_serial(keys, hd, rows, ops::GemmA{ds.data(), 1, keys}, ops::GemmB{qi, qStride}, dkb,
                                      kvStride);
          ops::gemm_accumulate_serial(keys, hd, rows, ops::GemmA{p.data(), 1, keys}, ops::GemmB{douti, qStride}, dvb,
                                      kvStride);
        }
      }
    }
  });
}

}  // namespace fas::train
