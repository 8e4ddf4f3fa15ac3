#include "engine/ops/attention.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <vector>

#include "engine/ops/gemm.h"
#include "engine/simd.h"

namespace fas::ops {

void attention_ref(const AttentionShape& s, const float* q, const float* k, const float* v, float* out) {
  const int64_t group = s.numHeads / s.numKvHeads, d = s.headDim;
  const double scale = 1.0 / std::sqrt(static_cast<double>(d));
  std::vector<double> p(s.past + s.seqLen);
  for (int64_t b = 0; b < s.batch; ++b) {
    for (int64_t i = 0; i < s.seqLen; ++i) {
      const int64_t keys = s.past + i + 1;
      for (int64_t h = 0; h < s.numHeads; ++h) {
        const float* qi = q + ((b * s.seqLen + i) * s.numHeads + h) * d;
        const int64_t kvHead = h / group;
        double maxScore = -INFINITY;
        for (int64_t j = 0; j < keys; ++j) {
          const float* kj = k + ((b * s.kvCapacity + j) * s.numKvHeads + kvHead) * d;
          double dot = 0;
          for (int64_t t = 0; t < d; ++t) dot += static_cast<double>(qi[t]) * kj[t];
          p[j] = dot * scale;
          maxScore = std::max(maxScore, p[j]);
        }
        double total = 0;
        for (int64_t j = 0; j < keys; ++j) total += (p[j] = std::exp(p[j] - maxScore));
        float* o = out + ((b * s.seqLen + i) * s.numHeads + h) * d;
        for (int64_t t = 0; t < d; ++t) {
          double acc = 0;
          for (int64_t j = 0; j < keys; ++j) acc += p[j] * v[((b * s.kvCapacity + j) * s.numKvHeads + kvHead) * d + t];
          o[t] = static_cast<float>(acc / total);
        }
      }
    }
  }
}

namespace {

constexpr int64_t kQueryBlock = 32;  // queries per task: small enough to balance the causal triangle
constexpr int64_t kGemmQueries = 4;  // from this many queries a block's scores and sums run on the GEMM

// One query of one head: scores against `keys` keys (kStride floats apart), softmax, weighted sum of
// values. scores has room for `keys` floats.
template <int N>
struct AttendOne {
  FAS_ALWAYS_INLINE static void run(const float* q, const float* k, const float* v, float* out, float* scores,
                                    int64_t keys, int64_t kStride, int64_t d, float scale) {
    using V = simd::vec<N>;
    float maxScore = -INFINITY;
    for (int64_t j = 0; j < keys; ++j) {
      const float* kj = k + j * kStride;
      V acc = {};
      int64_t t = 0;
      for (; t + N <= d; t += N) acc += simd::load<N>(q + t) * simd::load<N>(kj + t);
      float dot = simd::sum<N>(acc);
      for (; t < d; ++t) dot += q[t] * kj[t];
      scores[j] = dot * scale;
      maxScore = std::max(maxScore, scores[j]);
    }
    V total = {};
    int64_t j = 0;
    for (; j + N <= keys; j += N) {
      const V e = simd::exp<N>(simd::load<N>(scores + j) - maxScore);
      simd::store<N>(scores + j, e);
      total += e;
    }
    float sumExp = simd::sum<N>(total);
    for (; j < keys; ++j) sumExp += (scores[j] = std::exp(scores[j] - maxScore));
    const float inv = 1.0f / sumExp;
    int64_t t = 0;
    for (; t + N <= d; t += N) {
      V acc = {};
      for (j = 0; j < keys; ++j) acc += scores[j] * simd::load<N>(v + j * kStride + t);
      simd::store<N>(out + t, acc * inv);
    }
    for (; t < d; ++t) {
      float acc = 0;
      for (j = 0; j < keys; ++j) acc += scores[j] * v[j * kStride + t];
      out[t] = acc * inv;
    }
  }
};

// Softmax of one query's scores[0..keys) (already scaled) in place; the scores of [keys, width)
// (keys the causal mask hides from this query) become 0.
template <int N>
struct SoftmaxRow {
  FAS_ALWAYS_INLINE static void run(float* scores, int64_t keys, int64_t width) {
    simd::softmaxInPlace<N>(scores, keys, width, 1.0f);
  }
};

// A block of `rows` consecutive queries of one head, the first at position `first`: the scores
// Q·K^T of the block against every key the last query sees on the GEMM, softmax per row, then
// out = P·V on the GEMM. qStride is the distance between consecutive queries (and outputs).
void attendBlock(const float* q, const float* k, const float* v, float* out, std::vector<float>& scores, int64_t rows,
                 int64_t first, int64_t qStride, int64_t kStride, int64_t d, float scale) {
  const int64_t width = first + rows;  // keys of the block's last query
  scores.assign(rows * width, 0.0f);
  gemm_accumulate_serial(rows, width, d, GemmA{q, qStride, 1}, GemmB{k, 1, kStride}, scores.data(), width);
  for (int64_t r = 0; r < rows; ++r) {
    float* row = scores.data() + r * width;
    for (int64_t j = 0; j <= first + r; ++j) row[j] *= scale;
    simd::dispatch<SoftmaxRow>(row, first + r + 1, width);
  }
  for (int64_t r = 0; r < rows; ++r) std::fill(out + r * qStride, out + r * qStride + d, 0.0f);
  gemm_accumulate_serial(rows, d, width, GemmA{scores.data(), width, 1}, GemmB{v, kStride}, out, qStride);
}

}  // namespace

void attention(ThreadPool& pool, const AttentionShape& s, const float* q, const float* k, const float* v, float* out) {
  const int64_t group = s.numHeads / s.numKvHeads, d = s.headDim;
  const int64_t kStride = s.numKvHeads * d;
  const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(d)));
  const int64_t blocks = (s.seqLen + kQueryBlock - 1) / kQueryBlock;
  const int64_t tasks = s.batch * s.numHeads * blocks;
  // Threads take the next task as they finish one: later query blocks see more keys, so equal
  // shares of tasks would not be equal shares of work.
  std::atomic<int64_t> next{0};
  pool.run([&](int, int) {
    std::vector<float> scores(s.past + s.seqLen);
    for (int64_t task = next++; task < tasks; task = next++) {
      const int64_t b = task / (s.numHeads * blocks), h = task / blocks % s.numHeads, blk = task % blocks;
      const float* kb = k + (b * s.kvCapacity * s.numKvHeads + h / group) * d;
      const float* vb = v + (b * s.kvCapacity * s.numKvHeads + h / group) * d;
      const int64_t i0 = blk * kQueryBlock, rows = std::min(s.seqLen, i0 + kQueryBlock) - i0;
      const int64_t row0 = (b * s.seqLen + i0) * s.numHeads + h;
      if (rows >= kGemmQueries) {
        attendBlock(q + row0 * d, kb, vb, out + row0 * d, scores, rows, s.past + i0, s.numHeads * d, kStride, d, scale);
        continue;
      }
      // A few queries (decoding): one pass over the keys each, no packing.
      scores.resize(s.past + s.seqLen);
      for (int64_t r = 0; r < rows; ++r) {
        const int64_t row = row0 + r * s.numHeads;
        simd::dispatch<AttendOne>(q + row * d, kb, vb, out + row * d, scores.data(), s.past + i0 + r + 1, kStride, d,
                                  scale);
      }
    }
  });
}

}  // namespace fas::ops
