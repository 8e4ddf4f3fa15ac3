// The kernels on weights kept in 16 bits (F16, BF16), the spike-driven layer's among them, on every
// ISA this CPU has: each against its plain reference, which reads the same 16-bit values one at a
// time through dtype.h.
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
#include "spiking/site_quantiser.h"
#include "spiking/spike_linear.h"
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

TEST(spike_linear_reads_16_bit_weights_in_place) {
  using namespace fas::spiking;
  // in = 300 and out = 70 cross the input and column blocks (columns 64-69 take the edge path); 20
  // rows, and a decoded token's T = 8.
  for (const SpikeShape sh : {SpikeShape{4, 5, 300, 0}, SpikeShape{8, 1, 300, 0}}) {
    const int out = 70;
    std::mt19937 rng(7);
    std::vector<int8_t> spikes(sh.size());
    for (auto& s : spikes) s = rng() % 10 < 3 ? 1 : 0;  // a firing rate of about 0.3
    const auto bias = randomVector(out, 3), theta = randomVector(sh.n, 4);
    const size_t ny = size_t(sh.T) * sh.rows * out;
    for (const DType type : kHalfTypes) {
      const auto words = randomWords(size_t(sh.n) * out, 2, type);
      const auto wide = widened(words, type);
      const SpikeLinear in16{WeightView(words.data(), type), bias.data(), out, neuronParam(theta.data())};
      const SpikeLinear in32{wide.data(), bias.data(), out, neuronParam(theta.data())};
      std::vector<float> ref(ny);
      spikeLinearRef(spikes.data(), sh, in16, ref.data());
      for (const auto isa : fas::test::availableIsas()) {
        fas::simd::IsaLimit limit(isa);
        for (auto fn : {spikeLinearEvent, spikeLinearDense}) {
          for (int nth : {1, 2}) {
            std::vector<float> y16(ny, NAN), y32(ny, NAN);
            fas::ThreadPool pool(nth);
            pool.run([&](int ith, int nt) { fn(spikes.data(), sh, in16, y16.data(), ith, nt); });
            pool.run([&](int ith, int nt) { fn(spikes.data(), sh, in32, y32.data(), ith, nt); });
            CHECK(relativeError(y16, ref) < 1e-6);
            CHECK(relativeError(y16, y32) < 1e-6);  // the kernels on the same weights widened to F32
          }
        }
      }
    }
  }
}

TEST(count_product_reads_16_bit_weights_in_place) {
  // Scope all's event-driven product: sparse signed counts over W [out, in] as the engine keeps it.
  const int64_t rows = 3, in = 40, out = 23;
  const auto lambda = randomVector(in, 6), bias = randomVector(out, 7);
  std::vector<float> scales(in);
  for (int64_t i = 0; i < in; ++i) scales[i] = 0.5f + std::fabs(lambda[i]);
  const fas::spiking::SiteQuantiser q{scales.data(), true, 8, true};
  std::vector<int32_t> counts(rows * in, 0);
  std::vector<float> values(rows * in);
  for (int64_t k = 0; k < rows * in; k += 7) counts[k] = int32_t(k % 17) - 8;
  for (int64_t k = 0; k < rows * in; ++k) values[k] = fas::spiking::siteValue(counts[k], scales[k % in], 8);
  for (const DType type : kHalfTypes) {
    const auto words = randomWords(out * in, 8, type);
    const auto wide = widened(words, type);
    std::vector<float> ref(rows * out), y16(rows * out, NAN), y32(rows * out, NAN);
    fas::ops::linear_ref(values.data(), WeightView(words.data(), type), bias.data(), ref.data(), rows, in, out);
    for (int nth : {1, 3}) {
      for (int ith = 0; ith < nth; ++ith) {
        fas::spiking::countLinearEvent(counts.data(), rows, in, q, WeightView(words.data(), type), bias.data(), out,
                                       y16.data(), ith, nth);
        fas::spiking::countLinearEvent(counts.data(), rows, in, q, wide.data(), bias.data(), out, y32.data(), ith, nth);
      }
      CHECK(relativeError(y16, ref) < 1e-6);
      CHECK(y16 == y32);  // one scalar loop: the same sums as on the weights widened to F32
    }
  }
}
