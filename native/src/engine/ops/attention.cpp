#include "engine/ops/attention.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <vector>

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

constexpr int64_t kQueryBlock = 16;  // queries per task: small enough to balance the causal triangle

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

}  // namespace

void attention(ThreadPool& pool, const AttentionShape& s, const float* q, const float* k, const float* v,
               float* out) {
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
      for (int64_t i = blk * kQueryBlock; i < std::min(s.seqLen, (blk + 1) * kQueryBlock); ++i) {
        const int64_t row = (b * s.seqLen + i) * s.numHeads + h;
        simd::dispatch<AttendOne>(q + row * d, kb, vb, out + row * d, scores.data(), s.past + i + 1, kStride, d, scale);
      }
    }
  });
}

}  // namespace fas::ops
