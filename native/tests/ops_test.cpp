// Every fast op against its plain reference, on shapes that are not multiples of the SIMD width.
#include <cmath>
#include <random>
#include <vector>

#include "engine/ops/activation.h"
#include "engine/ops/attention.h"
#include "engine/ops/embedding.h"
#include "engine/ops/gemm.h"
#include "engine/ops/log_softmax.h"
#include "engine/ops/matmul.h"
#include "engine/ops/norm.h"
#include "engine/ops/rope.h"
#include "engine/simd.h"
#include "fixtures.h"
#include "isas.h"
#include "test.h"

using fas::test::randomVector;
using fas::test::relativeError;

TEST(linear_matches_reference_on_odd_shapes) {
  for (const auto isa : fas::test::availableIsas()) {
    fas::simd::IsaLimit limit(isa);
    fas::ThreadPool pool(3);
    // Below 32 rows the dot-product tiles (one row's wider ones over several blocks of w), from 32
    // the packed GEMM (with a second block of depth past 256 inputs).
    // 4 and 8 rows: a spiking decode's T timesteps.
    const int64_t shapes[][3] = {{1, 1, 1},     {1, 37, 5},     {3, 17, 9},    {5, 16, 16}, {7, 33, 70},
                                 {13, 129, 31}, {1, 300, 611},  {4, 40, 50},   {8, 70, 61}, {32, 5, 3},
                                 {33, 70, 67},  {64, 200, 300}, {41, 300, 130}};
    for (const auto& s : shapes) {
      const int64_t n = s[0], in = s[1], out = s[2];
      const auto x = randomVector(n * in, 1), w = randomVector(out * in, 2), b = randomVector(out, 3);
      for (const bool withBias : {true, false}) {
        std::vector<float> fast(n * out, NAN), ref(n * out);  // NaN: y's old contents must not be read
        fas::ops::linear(pool, x.data(), w.data(), withBias ? b.data() : nullptr, fast.data(), n, in, out);
        fas::ops::linear_ref(x.data(), w.data(), withBias ? b.data() : nullptr, ref.data(), n, in, out);
        CHECK(relativeError(fast, ref) < 1e-6);
      }
    }
  }
}

TEST(gemm_bias_matches_reference_and_ignores_thread_count) {
  using fas::ops::GemmA;
  using fas::ops::GemmB;
  fas::ThreadPool one(1), two(2);
  // B read transposed (a weight [n, k] as W^T, packed 4 x 4 at a time) and plain; odd sizes leave
  // tails in every loop, k = 300 takes two blocks of depth with AVX-512 and k = 1,601 several on
  // every ISA (of even depth, the last one shorter).
  const int64_t shapes[][3] = {{1, 1, 1}, {7, 70, 33}, {13, 129, 300}, {70, 3, 17}, {6, 64, 8}, {5, 37, 1601}};
  for (const auto isa : fas::test::availableIsas()) {
    fas::simd::IsaLimit limit(isa);
    for (const auto& s : shapes) {
      const int64_t m = s[0], n = s[1], k = s[2];
      const auto a = randomVector(m * k, 1), w = randomVector(n * k, 2), bias = randomVector(n, 3);
      for (const bool transposed : {true, false}) {
        const GemmB b = transposed ? GemmB{w.data(), 1, k} : GemmB{w.data(), n, 1};
        for (const float* bi : {bias.data(), static_cast<const float*>(nullptr)}) {
          std::vector<float> c1(m * n, NAN), c2(m * n, NAN), ref(m * n);
          for (int64_t i = 0; i < m; ++i) {
            for (int64_t j = 0; j < n; ++j) ref[i * n + j] = bi ? bi[j] : 0.0f;
          }
          fas::ops::gemm_bias(one, m, n, k, GemmA{a.data(), k, 1}, b, bi, c1.data(), n);
          fas::ops::gemm_bias(two, m, n, k, GemmA{a.data(), k, 1}, b, bi, c2.data(), n);
          fas::ops::gemm_accumulate_ref(m, n, k, GemmA{a.data(), k, 1}, b, ref.data(), n);
          CHECK(c1 == c2);
          CHECK(relativeError(c1, ref) < 1e-6);
        }
      }
    }
  }
}

TEST(linear_reference_is_x_times_w_transposed) {
  // x [1, 2] = [1, 2]; w [2 out, 2 in] = [[3, 4], [5, 6]]; b = [0.5, -1]  ->  y = [11.5, 16]
  const float x[] = {1, 2}, w[] = {3, 4, 5, 6}, b[] = {0.5f, -1};
  float y[2];
  fas::ops::linear_ref(x, w, b, y, 1, 2, 2);
  CHECK(y[0] == 11.5f && y[1] == 16.0f);
}

TEST(norms_match_reference) {
  for (const auto isa : fas::test::availableIsas()) {
    fas::simd::IsaLimit limit(isa);
    fas::ThreadPool pool(2);
    for (const int64_t dim : {1, 7, 16, 45, 768}) {
      const int64_t n = 5;
      auto x = randomVector(n * dim, 4, 3.0f);
      for (auto& v : x) v += 10.0f;  // a large mean tests the variance's accuracy
      const auto w = randomVector(dim, 5), b = randomVector(dim, 6);
      std::vector<float> fast(n * dim), ref(n * dim);
      fas::ops::layernorm(pool, x.data(), w.data(), b.data(), fast.data(), n, dim, 1e-5f);
      fas::ops::layernorm_ref(x.data(), w.data(), b.data(), ref.data(), n, dim, 1e-5f);
      CHECK(relativeError(fast, ref) < 1e-5);
      fas::ops::rmsnorm(pool, x.data(), w.data(), fast.data(), n, dim, 1e-6f);
      fas::ops::rmsnorm_ref(x.data(), w.data(), ref.data(), n, dim, 1e-6f);
      CHECK(relativeError(fast, ref) < 1e-6);
    }
  }
}

TEST(norms_in_place_and_hand_values) {
  fas::ThreadPool pool(1);
  // LayerNorm of [1, 3]: mean 2, var 1 -> [-1, 1] (eps 0), then * w + b.
  std::vector<float> x = {1, 3};
  const float w[] = {2, 3}, b[] = {1, 1};
  fas::ops::layernorm(pool, x.data(), w, b, x.data(), 1, 2, 0.0f);
  CHECK_NEAR(x[0], -1.0, 1e-6);
  CHECK_NEAR(x[1], 4.0, 1e-6);
  // RMSNorm of [3, 4]: rms = sqrt(12.5).
  std::vector<float> r = {3, 4};
  const float ones[] = {1, 1};
  fas::ops::rmsnorm(pool, r.data(), ones, r.data(), 1, 2, 0.0f);
  CHECK_NEAR(r[0], 3 / std::sqrt(12.5), 1e-6);
}

TEST(activations_match_reference) {
  for (const auto isa : fas::test::availableIsas()) {
    fas::simd::IsaLimit limit(isa);
    fas::ThreadPool pool(2);
    for (const int64_t n : {1, 15, 17, 4096 * 3 + 5}) {
      auto x = randomVector(n, 7, 4.0f);
      x[0] = -30.0f;  // saturated tails
      if (n > 1) x[1] = 30.0f;
      const auto up = randomVector(n, 8);
      std::vector<float> fast(n), ref(n);
      fas::ops::gelu_new(pool, x.data(), fast.data(), n);
      fas::ops::gelu_new_ref(x.data(), ref.data(), n);
      CHECK(relativeError(fast, ref) < 1e-6);
      fas::ops::relu(pool, x.data(), fast.data(), n);
      fas::ops::relu_ref(x.data(), ref.data(), n);
      CHECK(fast == ref);
      fas::ops::silu_mul(pool, x.data(), up.data(), fast.data(), n);
      fas::ops::silu_mul_ref(x.data(), up.data(), ref.data(), n);
      CHECK(relativeError(fast, ref) < 1e-6);
    }
    // gelu_new(1) = 0.5 (1 + tanh(sqrt(2/pi) * 1.044715)) = 0.8411919906...
    float one = 1.0f, g;
    fas::ops::gelu_new_ref(&one, &g, 1);
    CHECK_NEAR(g, 0.8411919906, 1e-7);
  }
}

namespace {
template <int N>
void checkExp() {
  std::vector<float> x(1600), y(x.size());
  for (size_t i = 0; i < x.size(); ++i) x[i] = -80.0f + 0.1f * i;  // -80 .. 80
  for (size_t i = 0; i < x.size(); i += N) {
    fas::simd::store<N>(y.data() + i, fas::simd::exp<N>(fas::simd::load<N>(x.data() + i)));
  }
  for (size_t i = 0; i < x.size(); ++i) {
    const double want = std::exp(double(x[i]));
    CHECK(std::fabs(y[i] - want) <= 3e-7 * want);
  }
}
}  // namespace

TEST(simd_exp_is_accurate) {
  checkExp<4>();
  checkExp<8>();
  checkExp<16>();
}

TEST(simd_dispatch_can_be_limited) {
  const auto detected = fas::simd::detectedIsa();
  {
    fas::simd::IsaLimit limit(fas::simd::Isa::Baseline);
    CHECK(fas::simd::activeIsa().load() == static_cast<int>(fas::simd::Isa::Baseline));
  }
  CHECK(fas::simd::activeIsa().load() == static_cast<int>(detected));
}

TEST(attention_matches_reference_with_gqa_and_past) {
  for (const auto isa : fas::test::availableIsas()) {
    fas::simd::IsaLimit limit(isa);
    fas::ThreadPool pool(3);
    struct Case {
      int64_t batch, seqLen, past, heads, kvHeads, headDim;
    };
    for (const Case c : {Case{1, 1, 0, 1, 1, 1}, Case{2, 5, 0, 4, 2, 7}, Case{1, 3, 6, 6, 3, 20},
                         Case{3, 37, 0, 2, 1, 64}, Case{1, 1, 40, 8, 1, 17}}) {
      const int64_t capacity = c.past + c.seqLen + 2;  // spare rows must be ignored
      const fas::ops::AttentionShape s{c.batch, c.seqLen, c.past, capacity, c.heads, c.kvHeads, c.headDim};
      const auto q = randomVector(c.batch * c.seqLen * c.heads * c.headDim, 9);
      const auto k = randomVector(c.batch * capacity * c.kvHeads * c.headDim, 10);
      const auto v = randomVector(k.size(), 11);
      std::vector<float> fast(q.size()), ref(q.size());
      fas::ops::attention(pool, s, q.data(), k.data(), v.data(), fast.data());
      fas::ops::attention_ref(s, q.data(), k.data(), v.data(), ref.data());
      CHECK(relativeError(fast, ref) < 1e-5);
    }
  }
}

TEST(attention_token_by_token_equals_full_sequence) {
  fas::ThreadPool pool(2);
  const int64_t seq = 19, heads = 4, kvHeads = 2, d = 24;
  const auto q = randomVector(seq * heads * d, 12);
  const auto k = randomVector(seq * kvHeads * d, 13), v = randomVector(seq * kvHeads * d, 14);
  std::vector<float> full(q.size()), stepwise(q.size());
  fas::ops::attention(pool, {1, seq, 0, seq, heads, kvHeads, d}, q.data(), k.data(), v.data(), full.data());
  for (int64_t t = 0; t < seq; ++t) {  // query t sees the cache filled up to t
    fas::ops::attention(pool, {1, 1, t, seq, heads, kvHeads, d}, q.data() + t * heads * d, k.data(), v.data(),
                        stepwise.data() + t * heads * d);
  }
  CHECK(relativeError(stepwise, full) < 1e-6);
}

TEST(attention_first_token_returns_its_value) {
  fas::ThreadPool pool(1);
  // One key: softmax is 1, the output is v itself whatever q and k are.
  const float q[] = {0.3f, -2.0f}, k[] = {5.0f, 1.0f}, v[] = {0.25f, -0.75f};
  float out[2];
  fas::ops::attention(pool, {1, 1, 0, 1, 1, 1, 2}, q, k, v, out);
  CHECK_NEAR(out[0], 0.25, 1e-7);
  CHECK_NEAR(out[1], -0.75, 1e-7);
}

TEST(rope_matches_hand_computed_values) {
  // headDim 4: pairs (0, 2) with freq 1 and (1, 3) with freq theta^(-1/2) = 0.01 for theta 10000.
  std::vector<float> x = {1, 2, 3, 4};
  const int32_t pos[] = {2};
  fas::ops::rope_ref(x.data(), pos, 1, 1, 4, 10000.0);
  CHECK_NEAR(x[0], 1 * std::cos(2.0) - 3 * std::sin(2.0), 1e-6);
  CHECK_NEAR(x[2], 3 * std::cos(2.0) + 1 * std::sin(2.0), 1e-6);
  CHECK_NEAR(x[1], 2 * std::cos(0.02) - 4 * std::sin(0.02), 1e-6);
  CHECK_NEAR(x[3], 4 * std::cos(0.02) + 2 * std::sin(0.02), 1e-6);
  // Position 0 leaves x unchanged.
  std::vector<float> y = {1, 2, 3, 4};
  const int32_t zero[] = {0};
  fas::ThreadPool pool(1);
  fas::ops::rope(pool, y.data(), zero, 1, 1, 4, 10000.0);
  CHECK(y == (std::vector<float>{1, 2, 3, 4}));
}

TEST(rope_matches_reference) {
  fas::ThreadPool pool(2);
  const int64_t n = 9, heads = 3, d = 38;
  std::vector<int32_t> pos(n);
  for (int64_t i = 0; i < n; ++i) pos[i] = static_cast<int32_t>(i * 97);
  auto fast = randomVector(n * heads * d, 15);
  auto ref = fast;
  fas::ops::rope(pool, fast.data(), pos.data(), n, heads, d, 500000.0);
  fas::ops::rope_ref(ref.data(), pos.data(), n, heads, d, 500000.0);
  CHECK(relativeError(fast, ref) < 1e-6);
}

TEST(embedding_gathers_rows_and_adds_positions) {
  const float table[] = {0, 1, 10, 11, 20, 21};  // 3 rows of 2
  const int32_t ids[] = {2, 0};
  float out[4];
  fas::ops::embedding(table, ids, out, 2, 2);
  CHECK(out[0] == 20 && out[1] == 21 && out[2] == 0 && out[3] == 1);
  const int32_t pos[] = {0, 1};
  fas::ops::add_position_embedding(table, pos, 1, out, 2, 2);  // rows 1 and 2
  CHECK(out[0] == 30 && out[1] == 32 && out[2] == 20 && out[3] == 22);
}

TEST(target_log_probs_match_reference_on_every_isa) {
  // Vocabularies that leave tails in every vector width and span several of the lanes' 64-vector
  // float runs; logits near 1000 (a naive e^x overflows) and spread over +-30.
  for (const auto isa : fas::test::availableIsas()) {
    fas::simd::IsaLimit limit(isa);
    for (const int threads : {1, 3}) {
      fas::ThreadPool pool(threads);
      for (const int64_t vocab : {1, 7, 33, 1500, 50257}) {
        const int64_t n = 5;
        for (const float offset : {0.0f, 1000.0f}) {
          auto logits = randomVector(n * vocab, 7, 30.0f);
          for (float& l : logits) l += offset;
          std::vector<int32_t> targets(n);
          for (int64_t i = 0; i < n; ++i) targets[i] = static_cast<int32_t>((i * 7919) % vocab);
          std::vector<double> fast(n), ref(n);
          fas::ops::target_log_probs(pool, logits.data(), targets.data(), n, vocab, fast.data());
          fas::ops::target_log_probs_ref(logits.data(), targets.data(), n, vocab, ref.data());
          for (int64_t i = 0; i < n; ++i) CHECK(std::abs(fast[i] - ref[i]) < 2e-5 * (1.0 + std::abs(ref[i])));
        }
      }
    }
  }
}
