// The kernels on weights kept in 16 bits (F16, BF16), on every ISA this CPU has: each against its
// plain reference, which reads the same 16-bit values one at a time through dtype.h.
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "engine/model/dtype.h"
#include "engine/ops/embedding.h"
#include "engine/ops/gemm.h"
#include "engine/ops/matmul.h"
#include "engine/ops/widen.h"
#include "engine/simd.h"
#include "fixtures.h"
#include "isas.h"
#include "test.h"

namespace {

using fas::DType;
using fas::WeightView;
using fas::test::randomVector;
using fas::test::relativeError;

constexpr DType kHalfTypes[] = {DType::F16, DType::BF16};

// Normal values of about unit size as 16-bit words: the float's bits truncated to the dtype (BF16:
// the top half; F16: exponent rebiased, mantissa cut to 10 bits; below F16's normal range, zero).
std::vector<uint16_t> randomWords(size_t n, uint32_t seed, DType type) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<uint16_t> out(n);
  for (auto& w : out) {
    const float x = normal(rng);
    uint32_t b;
    std::memcpy(&b, &x, 4);
    if (type == DType::BF16) {
      w = static_cast<uint16_t>(b >> 16);
      continue;
    }
    const int exponent = int((b >> 23) & 0xff) - 127 + 15;
    w = exponent < 1 ? 0 : static_cast<uint16_t>(((b >> 16) & 0x8000) | (exponent << 10) | ((b >> 13) & 0x3ff));
  }
  return out;
}

std::vector<float> widened(const std::vector<uint16_t>& words, DType type) {
  std::vector<float> out(words.size());
  fas::ops::widen_ref(WeightView(words.data(), type), 0, int64_t(words.size()), out.data());
  return out;
}

}  // namespace

TEST(widen_converts_every_16_bit_pattern_exactly) {
  std::vector<uint16_t> all(65536);
  for (size_t i = 0; i < all.size(); ++i) all[i] = static_cast<uint16_t>(i);
  for (const auto isa : fas::test::availableIsas()) {
    fas::simd::IsaLimit limit(isa);
    for (const DType type : kHalfTypes) {
      const WeightView view(all.data(), type);
      // Odd starts and lengths: every vector width's tail.
      for (const int64_t first : {0, 3}) {
        const int64_t n = int64_t(all.size()) - first - 5;
        std::vector<float> fast(n);
        fas::ops::widen(view, first, n, fast.data());
        for (int64_t i = 0; i < n; ++i) {
          const float want =
              type == DType::F16 ? fas::halfToFloat(all[first + i]) : fas::bfloat16ToFloat(all[first + i]);
          // NaN stays NaN (F16C may quieten a signalling one); everything else is exact, sign of zero included.
          if (std::isnan(want)) {
            CHECK(std::isnan(fast[i]));
          } else {
            CHECK(std::memcmp(&fast[i], &want, 4) == 0);
          }
        }
      }
    }
  }
}

TEST(linear_on_16_bit_weights_matches_reference) {
  for (const auto isa : fas::test::availableIsas()) {
    fas::simd::IsaLimit limit(isa);
    fas::ThreadPool pool(3);
    // Decode tiles below 32 rows, the packed GEMM from 32 (two blocks of depth past 256 or 768 inputs).
    const int64_t shapes[][3] = {{1, 1, 1},      {1, 37, 5},     {3, 17, 9},    {5, 16, 16}, {7, 33, 70},
                                 {13, 129, 31},  {32, 5, 3},     {33, 70, 67},  {1, 800, 9}, {1, 300, 611},
                                 {64, 200, 300}, {41, 800, 130}, {40, 19, 1030}};
    for (const DType type : kHalfTypes) {
      for (const auto& s : shapes) {
        const int64_t n = s[0], in = s[1], out = s[2];
        const auto x = randomVector(n * in, 1), b = randomVector(out, 3);
        const auto words = randomWords(out * in, 2, type);
        const auto wide = widened(words, type);
        const WeightView w(words.data(), type);
        std::vector<float> fast(n * out, NAN), ref(n * out), f32(n * out);
        fas::ops::linear(pool, x.data(), w, b.data(), fast.data(), n, in, out);
        fas::ops::linear_ref(x.data(), w, b.data(), ref.data(), n, in, out);
        fas::ops::linear(pool, x.data(), wide.data(), b.data(), f32.data(), n, in, out);
        CHECK(relativeError(fast, ref) < 1e-6);
        CHECK(relativeError(fast, f32) < 1e-6);  // the kernels on the same weights widened to F32
      }
    }
  }
}

TEST(gemm_packs_16_bit_b_in_every_layout) {
  using fas::ops::GemmA;
  using fas::ops::GemmB;
  fas::ThreadPool one(1), two(2);
  const int64_t shapes[][3] = {{1, 1, 1}, {7, 70, 33}, {13, 129, 300}, {70, 3, 17}, {6, 64, 8}, {9, 21, 800}};
  for (const auto isa : fas::test::availableIsas()) {
    fas::simd::IsaLimit limit(isa);
    for (const DType type : kHalfTypes) {
      for (const auto& s : shapes) {
        const int64_t m = s[0], n = s[1], k = s[2];
        const auto a = randomVector(m * k, 1), bias = randomVector(n, 3);
        const auto words = randomWords(2 * n * k, 2, type);  // room for the strided layout
        // Transposed (a weight read as W^T), plain rows, and a gather with neither stride 1.
        const GemmB layouts[] = {
            {words.data(), 1, k, type}, {words.data(), n, 1, type}, {words.data(), 2 * n, 2, type}};
        for (const GemmB& b : layouts) {
          std::vector<float> c1(m * n, NAN), c2(m * n, NAN), ref(bias.begin(), bias.end());
          ref.resize(m * n);
          for (int64_t i = 0; i < m; ++i) std::copy_n(bias.begin(), n, ref.begin() + i * n);
          fas::ops::gemm_bias(one, m, n, k, GemmA{a.data(), k, 1}, b, bias.data(), c1.data(), n);
          fas::ops::gemm_bias(two, m, n, k, GemmA{a.data(), k, 1}, b, bias.data(), c2.data(), n);
          fas::ops::gemm_accumulate_ref(m, n, k, GemmA{a.data(), k, 1}, b, ref.data(), n);
          CHECK(c1 == c2);
          CHECK(relativeError(c1, ref) < 1e-6);
        }
      }
    }
  }
}

TEST(embedding_rows_of_16_bit_tables_are_widened) {
  for (const auto isa : fas::test::availableIsas()) {
    fas::simd::IsaLimit limit(isa);
    for (const DType type : kHalfTypes) {
      const int64_t rows = 9, dim = 37;
      const auto words = randomWords(rows * dim, 5, type);
      const auto wide = widened(words, type);
      const int32_t ids[] = {8, 0, 3, 3};
      std::vector<float> got(4 * dim), want(4 * dim);
      fas::ops::embedding(WeightView(words.data(), type), ids, got.data(), 4, dim);
      fas::ops::embedding(wide.data(), ids, want.data(), 4, dim);
      CHECK(got == want);
      fas::ops::add_position_embedding(WeightView(words.data(), type), ids + 1, 1, got.data(), 3, dim);  // rows 1, 4, 4
      fas::ops::add_position_embedding(wide.data(), ids + 1, 1, want.data(), 3, dim);
      CHECK(got == want);
    }
  }
}
