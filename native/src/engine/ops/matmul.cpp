#include "engine/ops/matmul.h"

#include <algorithm>
#include <atomic>

#include "engine/ops/gemm.h"
#include "engine/simd.h"

namespace fas::ops {

void linear_ref(const float* x, WeightView w, const float* b, float* y, int64_t n, int64_t in, int64_t out) {
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < out; ++j) {
      double s = b ? b[j] : 0.0;
      for (int64_t k = 0; k < in; ++k) s += static_cast<double>(x[i * in + k]) * w.at(j * in + k);
      y[i * out + j] = static_cast<float>(s);
    }
  }
}

namespace {

constexpr int64_t kBlockBytes = 256 << 10;  // bytes of w per work item: fits L2 on any x86-64
// From this many rows the packed GEMM wins: packing w costs about as much as 20 to 30 rows of dot
// products (measured on AVX2 and AVX-512), then its register tile runs near the FMA peak.
constexpr int64_t kGemmRows = 32;

// y[r][c] = x[r] · w[c] (+ b[c]) for an R x C tile on N-float vectors, w stored as T (widened as it
// is loaded); x and w rows are `in` elements apart, y rows `out`. `next` (or null) is the next tile's
// first weight row: its C rows are prefetched as this tile's are read (see LinearBlock).
template <int N, DType T, int R, int C>
FAS_ALWAYS_INLINE void tile(const float* x, const simd::Stored<T>* w, const float* b, float* y, int64_t in, int64_t out,
                            const simd::Stored<T>* next = nullptr) {
  using V = simd::vec<N>;
  // The next tile's bytes per step of k: its C rows, in * C elements, read in in / N steps.
  constexpr int64_t kNextBytesPerStep = int64_t{C} * N * sizeof(simd::Stored<T>);
  const char* ahead = reinterpret_cast<const char*>(next);
  V acc[R][C] = {};
  int64_t k = 0;
  for (; k + N <= in; k += N) {
    if (ahead) {
      for (int64_t line = 0; line < kNextBytesPerStep; line += 64) __builtin_prefetch(ahead + line);
      ahead += kNextBytesPerStep;
    }
    // Load both sides into registers first; otherwise the compiler re-reads w inside every FMA.
    V xv[R], wv[C];
    for (int r = 0; r < R; ++r) xv[r] = simd::load<N>(x + r * in + k);
    for (int c = 0; c < C; ++c) wv[c] = simd::loadAs<N, T>(w + c * in + k);
    for (int r = 0; r < R; ++r) {
      for (int c = 0; c < C; ++c) acc[r][c] += xv[r] * wv[c];
    }
  }
  for (int r = 0; r < R; ++r) {
    for (int c = 0; c < C; ++c) {
      float s = simd::sum<N>(acc[r][c]);
      for (int64_t t = k; t < in; ++t) s += x[r * in + t] * simd::scalarAs<T>(w[c * in + t]);
      y[r * out + c] = b ? s + b[c] : s;
    }
  }
}

// A tile of rows x cols <= R x C, at the edges of y.
template <int N, DType T, int R, int C>
FAS_ALWAYS_INLINE void edgeTile(int rows, int cols, const float* x, const simd::Stored<T>* w, const float* b, float* y,
                                int64_t in, int64_t out, const simd::Stored<T>* next = nullptr) {
  if constexpr (R > 1) {
    if (rows < R) return edgeTile<N, T, R - 1, C>(rows, cols, x, w, b, y, in, out, next);
  }
  if constexpr (C > 1) {
    if (cols < C) return edgeTile<N, T, R, C - 1>(rows, cols, x, w, b, y, in, out, next);
  }
  tile<N, T, R, C>(x, w, b, y, in, out, next);
}

// Rows [i0, i1) and outputs [j0, j1) of y. The tile is what the registers hold: R x C accumulators
// plus R + C operands, 4 x 4 in AVX-512's 32 registers, 3 x 3 in the 16 of AVX2 and SSE. With AVX2,
// F32 weights take 4 x 3 (the compiler reads x inside the FMAs): T = 4 or 8 rows then pass over the
// weights once or twice, not two or three times (1.1 to 1.3x faster from memory). 16-bit weights
// keep 3 x 3: widening them needs registers, and on 4 x 3 the compiler spilled a sum. One row (a
// decode step) has no rows to share w with, so it takes more columns: 1 x 8 and 1 x 6, more weight
// rows streaming and more independent sums (10 to 20% faster than 1 x 3 with AVX2, F32 and F16).
template <int N>
struct LinearBlock {
  template <DType T>
  static constexpr int kRows = N == 16 || (N == 8 && T == DType::F32) ? 4 : 3;
  static constexpr int kCols = N == 16 ? 4 : 3;
  static constexpr int kRowCols = N == 16 ? 8 : 6;
  FAS_ALWAYS_INLINE static void run(const float* x, WeightView w, const float* b, float* y, int64_t in, int64_t out,
                                    int64_t i0, int64_t i1, int64_t j0, int64_t j1) {
    simd::runAsStored<LinearBlock>(w.dtype, x, w, b, y, in, out, i0, i1, j0, j1);
  }

  // Weight rows are short streams (3 KB in F32 for GPT-2's 768 inputs, 1.5 KB in 16 bits) that the
  // hardware prefetcher picks up late, so the first pass over a block prefetches the next tile's rows
  // as it reads a tile (later passes find the block in L2). From memory, with AVX2: one row in F16
  // 1.15 to 1.3x faster, 3 and 8 rows in F16 1.25 to 1.6x, in F32 1.08 to 1.19x. One F32 row is left
  // to the hardware: its 1 x 6 tile streams at the bandwidth limit already, and ran 5 to 10 % slower.
  template <DType T>
  FAS_ALWAYS_INLINE static void runAs(const float* x, WeightView w, const float* b, float* y, int64_t in, int64_t out,
                                      int64_t i0, int64_t i1, int64_t j0, int64_t j1) {
    const simd::Stored<T>* weights = w.as<simd::Stored<T>>();
    if (i1 - i0 == 1) {
      constexpr bool kPrefetch = sizeof(simd::Stored<T>) == 2;
      tileRow<T, 1, kRowCols>(kPrefetch, 1, x + i0 * in, weights, b, y + i0 * out, in, out, j0, j1);
      return;
    }
    constexpr int R = kRows<T>;
    for (int64_t i = i0; i < i1; i += R) {
      const int rows = static_cast<int>(std::min<int64_t>(R, i1 - i));
      tileRow<T, R, kCols>(i == i0, rows, x + i * in, weights, b, y + i * out, in, out, j0, j1);
    }
  }

  // Outputs [j0, j1) of `rows` <= R rows on R x C tiles; with `prefetch`, each tile but the last
  // prefetches the next one's weight rows.
  template <DType T, int R, int C>
  FAS_ALWAYS_INLINE static void tileRow(bool prefetch, int rows, const float* x, const simd::Stored<T>* weights,
                                        const float* b, float* y, int64_t in, int64_t out, int64_t j0, int64_t j1) {
    for (int64_t j = j0; j < j1; j += C) {
      const int cols = static_cast<int>(std::min<int64_t>(C, j1 - j));
      const bool more = prefetch && j + 2 * C <= j1;  // a whole tile follows in this block
      edgeTile<N, T, R, C>(rows, cols, x, weights + j * in, b ? b + j : nullptr, y + j, in, out,
                           more ? weights + (j + C) * in : nullptr);
    }
  }
};

int64_t roundUp(int64_t v, int64_t m) { return (v + m - 1) / m * m; }

}  // namespace

void linear(ThreadPool& pool, const float* x, WeightView w, const float* b, float* y, int64_t n, int64_t in,
            int64_t out) {
  if (n >= kGemmRows) {
    // B(p, j) = w[j][p]: the weight read transposed.
    gemm_bias(pool, n, out, in, GemmA{x, in, 1}, GemmB{w.data, 1, in, w.dtype}, b, y, out);
    return;
  }
  // Work items are blocks of w rows small enough to stay in L2 while all of x streams past them;
  // when that makes too few items for the threads, the rows of x are split as well.
  // Multiples of 24 are whole tiles for every ISA's tile widths (4 or 3, one row's 8 or 6).
  const int64_t cols = std::clamp<int64_t>(kBlockBytes / (in * dtypeSize(w.dtype)) / 24 * 24, 24, 120);
  const int64_t colItems = (out + cols - 1) / cols;
  const int64_t rowItems = std::clamp<int64_t>((4 * pool.size() + colItems - 1) / colItems, 1, (n + 11) / 12);
  const int64_t rows = roundUp((n + rowItems - 1) / rowItems, 12);
  const int64_t items = colItems * rowItems;
  // Threads take the next item as they finish one, so a thread the OS preempts delays no one.
  std::atomic<int64_t> next{0};
  pool.run([&](int, int) {
    for (int64_t t = next++; t < items; t = next++) {
      const int64_t j0 = t / rowItems * cols, i0 = t % rowItems * rows;
      simd::dispatch<LinearBlock>(x, w, b, y, in, out, i0, std::min(n, i0 + rows), j0, std::min(out, j0 + cols));
    }
  });
}

}  // namespace fas::ops
