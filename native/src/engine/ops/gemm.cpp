#include "engine/ops/gemm.h"

#include <algorithm>

#include "engine/aligned.h"
#include "engine/simd.h"
#include "engine/weight_view.h"

namespace fas::ops {

namespace {

using namespace simd;

constexpr int64_t kMc = 96;    // rows of A packed at once (kMc x kKc floats, in L2)
constexpr int64_t kNc = 1024;  // columns of B packed at once (kKc x kNc floats, in L2/L3)

int64_t roundUp(int64_t x, int64_t to) { return (x + to - 1) / to * to; }

// dst[q * ldd + r] = src[r * lds + q] for a 4 x 4 block, on 4-float vectors (any ISA): packing a
// weight read transposed this way takes half the instructions of moving one float at a time.
FAS_ALWAYS_INLINE void transpose4(const float* src, int64_t lds, float* dst, int64_t ldd) {
  using V = vec<4>;
  using I = ivec<4>;
  const V r0 = load<4>(src), r1 = load<4>(src + lds), r2 = load<4>(src + 2 * lds), r3 = load<4>(src + 3 * lds);
  const V t0 = __builtin_shuffle(r0, r1, I{0, 4, 1, 5}), t1 = __builtin_shuffle(r0, r1, I{2, 6, 3, 7});
  const V t2 = __builtin_shuffle(r2, r3, I{0, 4, 1, 5}), t3 = __builtin_shuffle(r2, r3, I{2, 6, 3, 7});
  store<4>(dst, __builtin_shuffle(t0, t2, I{0, 1, 4, 5}));
  store<4>(dst + ldd, __builtin_shuffle(t0, t2, I{2, 3, 6, 7}));
  store<4>(dst + 2 * ldd, __builtin_shuffle(t1, t3, I{0, 1, 4, 5}));
  store<4>(dst + 3 * ldd, __builtin_shuffle(t1, t3, I{2, 3, 6, 7}));
}

// The blocked product on vectors of N floats (simd.h's dispatch picks N for the CPU). The register
// tile is kMr x kNr of C: 6 x 64 with AVX-512 (24 of its 32 registers accumulate), 6 x 16 with AVX2
// and 6 x 8 with SSE (12 of their 16), leaving registers for B's row and A's broadcast.
template <int N>
struct Blocked {
  static constexpr int kMr = 6;                // rows of C per register tile
  static constexpr int kNv = N == 16 ? 4 : 2;  // vectors of C per tile row
  static constexpr int kNr = kNv * N;          // columns of C per register tile
  // Depth of a packed block. Every block of depth reads and writes C once more, which costs most on
  // the vocabulary head's 206 MB of logits: with AVX2 a depth of 768 (a 48 KiB panel of B streamed
  // from L2, a whole GPT-2 row in one block) ran the head at 0.8-0.85 of the FMA peak against
  // 0.69 at 256, and the layers' shapes at 0.85. AVX-512's 64-wide panel keeps 256 (64 KiB).
  static constexpr int64_t kKc = N == 16 ? 256 : 768;

  // The depth of each of k's blocks: as few blocks as kKc allows, of even depth (a multiple of 8), so
  // no thin last block re-reads C for a few steps. The backward's dW (k = 1,024 tokens) ran as 768 +
  // 256; as 512 + 512 it took 0.95 of the time (one thread, beside OpenBLAS: see anchor-openblas.cpp).
  static int64_t blockDepth(int64_t k) {
    const int64_t blocks = (k + kKc - 1) / kKc;
    return std::min(kKc, roundUp((k + blocks - 1) / blocks, 8));
  }

  // c[0..kMr)[0..kNr) = start + ap · bp over kc steps; ap is [kc][kMr], bp is [kc][kNr]. start is c
  // itself when `bias` is null and `load`, else the bias row (kNr floats) or zero.
  static FAS_ALWAYS_INLINE void microTile(int64_t kc, const float* ap, const float* bp, float* c, int64_t ldc,
                                          bool load, const float* bias) {
    vec<N> acc[kMr][kNv];
    for (int r = 0; r < kMr; ++r) {
      for (int v = 0; v < kNv; ++v) {
        acc[r][v] = load ? simd::load<N>(c + r * ldc + v * N) : bias ? simd::load<N>(bias + v * N) : vec<N>{};
      }
    }
    for (int64_t p = 0; p < kc; ++p) {
      vec<N> bv[kNv];
      for (int v = 0; v < kNv; ++v) bv[v] = simd::load<N>(bp + p * kNr + v * N);
      for (int r = 0; r < kMr; ++r) {
        const float av = ap[p * kMr + r];  // scalar * vector: the compiler broadcasts it in the FMA
        for (int v = 0; v < kNv; ++v) acc[r][v] += av * bv[v];
      }
    }
    for (int r = 0; r < kMr; ++r) {
      for (int v = 0; v < kNv; ++v) store<N>(c + r * ldc + v * N, acc[r][v]);
    }
  }

  // One packed block: C[mc, nc] = start + Ap · Bp (start as in microTile; bias is the block's first
  // column's). Edge tiles run the same kernel on a zero-padded copy, so every element is computed by
  // the same sequence of operations wherever the tile boundaries fall.
  static FAS_ALWAYS_INLINE void blockProduct(int64_t mc, int64_t nc, int64_t kc, const float* ap, const float* bp,
                                             float* c, int64_t ldc, bool load, const float* bias) {
    for (int64_t jr = 0; jr < nc; jr += kNr) {
      const int64_t cols = std::min<int64_t>(kNr, nc - jr);
      const float* bPanel = bp + jr * kc;
      alignas(64) float edgeBias[kNr] = {};
      const float* tileBias = bias ? bias + jr : nullptr;
      if (bias && cols < kNr) {
        std::copy_n(tileBias, cols, edgeBias);
        tileBias = edgeBias;
      }
      for (int64_t ir = 0; ir < mc; ir += kMr) {
        const int64_t rows = std::min<int64_t>(kMr, mc - ir);
        const float* aPanel = ap + ir * kc;
        float* cTile = c + ir * ldc + jr;
        if (rows == kMr && cols == kNr) {
          microTile(kc, aPanel, bPanel, cTile, ldc, load, tileBias);
          continue;
        }
        alignas(64) float edge[kMr * kNr] = {};
        if (load) {
          for (int64_t r = 0; r < rows; ++r) std::copy_n(cTile + r * ldc, cols, edge + r * kNr);
        }
        microTile(kc, aPanel, bPanel, edge, kNr, load, tileBias);
        for (int64_t r = 0; r < rows; ++r) std::copy_n(edge + r * kNr, cols, cTile + r * ldc);
      }
    }
  }

  // A[m0 .. m0+mc, p0 .. p0+kc) as panels of kMr rows, [panel][p][row], zero past the last row.
  static void packA(const GemmA& a, int64_t m0, int64_t mc, int64_t p0, int64_t kc, float* out) {
    static_assert(kMr == 6, "whole panels are packed as rows 0-3 and 4-5");
    for (int64_t ir = 0; ir < mc; ir += kMr) {
      const int64_t rows = std::min<int64_t>(kMr, mc - ir);
      float* panel = out + ir * kc;
      int64_t p = 0;
      if (rows == kMr && a.colStride == 1) {
        // A as stored (the prefill's activations), a whole panel: rows 0-3 transposed 4 x 4, rows
        // 4-5 interleaved in pairs, 4 steps of p at a time (2 to 3 % of a product's time, one
        // thread, against one float at a time).
        const float* src = a.data + (m0 + ir) * a.rowStride + p0;
        const int64_t lds = a.rowStride;
        for (; p + 4 <= kc; p += 4) {
          transpose4(src + p, lds, panel + p * kMr, kMr);
          const vec<4> r4 = load<4>(src + 4 * lds + p), r5 = load<4>(src + 5 * lds + p);
          vec<2> pairs[4];  // rows 4 and 5 at p, p + 1, p + 2, p + 3
          halves<4>(__builtin_shuffle(r4, r5, ivec<4>{0, 4, 1, 5}), pairs[0], pairs[1]);
          halves<4>(__builtin_shuffle(r4, r5, ivec<4>{2, 6, 3, 7}), pairs[2], pairs[3]);
          for (int q = 0; q < 4; ++q) store<2>(panel + (p + q) * kMr + 4, pairs[q]);
        }
      }
      for (; p < kc; ++p) {
        const float* src = a.data + (m0 + ir) * a.rowStride + (p0 + p) * a.colStride;
        int64_t r = 0;
        for (; r < rows; ++r) panel[p * kMr + r] = src[r * a.rowStride];
        for (; r < kMr; ++r) panel[p * kMr + r] = 0.0f;
      }
    }
  }

  // B[p0 .. p0+kc, n0 .. n0+nc) as panels of kNr columns, [panel][p][column], zero past the last column.
  // `wide` holds kNr x kKc floats: a 16-bit B read transposed is widened there first.
  static FAS_ALWAYS_INLINE void packB(const GemmB& b, int64_t p0, int64_t kc, int64_t n0, int64_t nc, float* out,
                                      float* wide) {
    simd::runAsStored<Blocked>(b.dtype, b, p0, kc, n0, nc, out, wide);
  }

  // packB for B stored as T.
  template <DType T>
  static FAS_ALWAYS_INLINE void runAs(const GemmB& b, int64_t p0, int64_t kc, int64_t n0, int64_t nc, float* out,
                                      float* wide) {
    const Stored<T>* data = static_cast<const Stored<T>*>(b.data);
    for (int64_t jr = 0; jr < nc; jr += kNr) {
      const int64_t cols = std::min<int64_t>(kNr, nc - jr);
      float* panel = out + jr * kc;
      if (b.colStride == 1) {
        for (int64_t p = 0; p < kc; ++p) {
          widenInto<N, T>(data + (p0 + p) * b.rowStride + n0 + jr, cols, panel + p * kNr);
          std::fill(panel + p * kNr + cols, panel + (p + 1) * kNr, 0.0f);
        }
        continue;
      }
      if (b.rowStride == 1) {
        // Transposed B (a weight read as W^T): each column is a contiguous row of the weight; 4 x 4
        // blocks of them are transposed into the panel, which stays in L1, the edges one by one.
        // 16-bit rows are widened into `wide` first, on full vectors.
        const float* src;
        int64_t lds;
        if constexpr (T == DType::F32) {
          src = data + p0 + (n0 + jr) * b.colStride;
          lds = b.colStride;
        } else {
          for (int64_t j = 0; j < cols; ++j)
            widenInto<N, T>(data + p0 + (n0 + jr + j) * b.colStride, kc, wide + j * kc);
          src = wide;
          lds = kc;
        }
        const int64_t cols4 = cols / 4 * 4, kc4 = kc / 4 * 4;
        for (int64_t j = 0; j < cols4; j += 4) {
          for (int64_t p = 0; p < kc4; p += 4) transpose4(src + j * lds + p, lds, panel + p * kNr + j, kNr);
        }
        for (int64_t j = 0; j < cols; ++j) {
          for (int64_t p = j < cols4 ? kc4 : 0; p < kc; ++p) panel[p * kNr + j] = src[j * lds + p];
        }
        for (int64_t j = cols; j < kNr; ++j) {
          for (int64_t p = 0; p < kc; ++p) panel[p * kNr + j] = 0.0f;
        }
        continue;
      }
      // Any other strides: each step of p gathers one element from each of the panel's columns.
      const Stored<T>* src = data + p0 * b.rowStride + (n0 + jr) * b.colStride;
      for (int64_t p = 0; p < kc; ++p) {
        float* dst = panel + p * kNr;
        for (int64_t j = 0; j < cols; ++j) dst[j] = scalarAs<T>(src[p * b.rowStride + j * b.colStride]);
        std::fill(dst + cols, dst + kNr, 0.0f);
      }
    }
  }

  // C[m0..m1, n0..n1) = start + A · B on one thread: the first block of p starts from C (load) or
  // from the bias, the others from C.
  static FAS_ALWAYS_INLINE void part(int64_t m0, int64_t m1, int64_t n0, int64_t n1, int64_t k, const GemmA& a,
                                     const GemmB& b, float* c, int64_t ldc, bool load, const float* bias) {
    // Kept per thread across calls: the pool's workers live as long as the pool. Cache-line aligned
    // (malloc's large blocks start 16 bytes into a line): a panel row of B is then one line with
    // AVX-512 and two halves of one with AVX2, never a load split across two lines.
    thread_local FloatVector aPacked, bPacked, bWide;
    aPacked.resize(roundUp(kMc, kMr) * kKc);
    bPacked.resize(roundUp(kNc, kNr) * kKc);
    if (b.dtype != DType::F32) bWide.resize(kNr * kKc);
    const int64_t depth = blockDepth(k);
    for (int64_t jc = n0; jc < n1; jc += kNc) {
      const int64_t nc = std::min(kNc, n1 - jc);
      for (int64_t pc = 0; pc < k; pc += depth) {
        const int64_t kc = std::min(depth, k - pc);
        const bool first = pc == 0;
        packB(b, pc, kc, jc, nc, bPacked.data(), bWide.data());
        for (int64_t ic = m0; ic < m1; ic += kMc) {
          const int64_t mc = std::min(kMc, m1 - ic);
          packA(a, ic, mc, pc, kc, aPacked.data());
          blockProduct(mc, nc, kc, aPacked.data(), bPacked.data(), c + ic * ldc + jc, ldc, load || !first,
                       first && bias ? bias + jc : nullptr);
        }
      }
    }
  }
};

// Thread ith of nth's share of C = start + A · B: whichever side has more register tiles is split
// evenly, and a thread then packs all of the other operand. nth = 1 is the whole product.
template <int N>
struct GemmShare {
  static FAS_ALWAYS_INLINE void run(int ith, int nth, int64_t m, int64_t n, int64_t k, GemmA a, GemmB b, float* c,
                                    int64_t ldc, bool load, const float* bias) {
    using G = Blocked<N>;
    const int64_t rowTiles = (m + G::kMr - 1) / G::kMr, colTiles = (n + G::kNr - 1) / G::kNr;
    if (rowTiles >= colTiles) {
      const Range r = splitRange(rowTiles, ith, nth);
      G::part(r.begin * G::kMr, std::min(m, r.end * G::kMr), 0, n, k, a, b, c, ldc, load, bias);
    } else {
      const Range r = splitRange(colTiles, ith, nth);
      G::part(0, m, r.begin * G::kNr, std::min(n, r.end * G::kNr), k, a, b, c, ldc, load, bias);
    }
  }
};

}  // namespace

void gemm_accumulate(ThreadPool& pool, int64_t m, int64_t n, int64_t k, GemmA a, GemmB b, float* c, int64_t ldc) {
  if (m == 0 || n == 0 || k == 0) return;
  pool.run([&](int ith, int nth) { dispatch<GemmShare>(ith, nth, m, n, k, a, b, c, ldc, true, nullptr); });
}

void gemm_accumulate_serial(int64_t m, int64_t n, int64_t k, GemmA a, GemmB b, float* c, int64_t ldc) {
  if (m == 0 || n == 0 || k == 0) return;
  dispatch<GemmShare>(0, 1, m, n, k, a, b, c, ldc, true, static_cast<const float*>(nullptr));
}

void gemm_bias(ThreadPool& pool, int64_t m, int64_t n, int64_t k, GemmA a, GemmB b, const float* bias, float* c,
               int64_t ldc) {
  if (m == 0 || n == 0) return;
  if (k == 0) {
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = 0; j < n; ++j) c[i * ldc + j] = bias ? bias[j] : 0.0f;
    }
    return;
  }
  pool.run([&](int ith, int nth) { dispatch<GemmShare>(ith, nth, m, n, k, a, b, c, ldc, false, bias); });
}

void gemm_accumulate_ref(int64_t m, int64_t n, int64_t k, GemmA a, GemmB b, float* c, int64_t ldc) {
  const WeightView bv(b.data, b.dtype);
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      double s = c[i * ldc + j];
      for (int64_t p = 0; p < k; ++p) {
        s += static_cast<double>(a.data[i * a.rowStride + p * a.colStride]) * bv.at(p * b.rowStride + j * b.colStride);
      }
      c[i * ldc + j] = static_cast<float>(s);
    }
  }
}

}  // namespace fas::ops
