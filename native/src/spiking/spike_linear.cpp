#include "spiking/spike_linear.h"

#include <algorithm>
#include <vector>

#include "engine/ops/widen.h"
#include "engine/simd.h"
#include "engine/threadpool.h"

namespace fas::spiking {

void spikeLinearRef(const int8_t* s, const SpikeShape& sh, const SpikeLinear& L, float* y) {
  const int M = sh.T * sh.rows, in = sh.n;
  for (int m = 0; m < M; ++m) {
    const int pos = sh.pos0 + m % sh.rows;
    for (int j = 0; j < L.out; ++j) {
      double acc = L.bias ? L.bias[j] : 0.0;
      for (int i = 0; i < in; ++i)
        acc += double(s[size_t(m) * in + i]) * L.theta.at(pos, i, in) * L.Wt.at(int64_t(i) * L.out + j);
      y[size_t(m) * L.out + j] = float(acc);
    }
  }
}

namespace {

// Blocking: a row block's gathered inputs are reused over all output columns; a panel of kInBlock
// weight rows by kColBlock columns (64 KiB) stays in L2 while every row of the block adds from it.
// (Whole-height panels do not fit: Wt rows a few KiB apart collide in the same cache sets.) The
// event-driven form keeps only the events, so its row blocks can be 4x taller: each panel is then
// read from L3 a quarter as often (1.2 to 1.3x faster at 64 tokens x T = 8 with L3 shared).
constexpr int kRowBlock = 32;
constexpr int kEventRowBlock = 128;
constexpr int kColBlock = 64;
constexpr int kInBlock = 256;

using simd::Stored;

// acc[0:w] += sum_k coef[k] * Wt[idx[k], 0:w] for a column block narrower than kColBlock (the
// right edge); four rows per pass so acc is loaded and stored once per four multiply-adds. Plain
// loops, dispatched (N unused) so that the compiler vectorises them for the CPU's ISA.
template <int N>
struct AddRows {
  FAS_ALWAYS_INLINE static void run(float* acc, int w, WeightView Wt, size_t ld, const int32_t* idx, const float* coef,
                                    int count) {
    simd::runAsStored<AddRows>(Wt.dtype, acc, w, Wt, ld, idx, coef, count);
  }
  template <DType T>
  FAS_ALWAYS_INLINE static void runAs(float* acc, int w, WeightView weights, size_t ld, const int32_t* idx,
                                      const float* coef, int count) {
    using simd::scalarAs;
    const Stored<T>* Wt = weights.as<Stored<T>>();
    int k = 0;
    for (; k + 4 <= count; k += 4) {
      const Stored<T>* w0 = Wt + size_t(idx[k]) * ld;
      const Stored<T>* w1 = Wt + size_t(idx[k + 1]) * ld;
      const Stored<T>* w2 = Wt + size_t(idx[k + 2]) * ld;
      const Stored<T>* w3 = Wt + size_t(idx[k + 3]) * ld;
      const float c0 = coef[k], c1 = coef[k + 1], c2 = coef[k + 2], c3 = coef[k + 3];
      for (int j = 0; j < w; ++j) {
        acc[j] += c0 * scalarAs<T>(w0[j]) + c1 * scalarAs<T>(w1[j]) + c2 * scalarAs<T>(w2[j]) + c3 * scalarAs<T>(w3[j]);
      }
    }
    for (; k < count; ++k) {
      const Stored<T>* wr = Wt + size_t(idx[k]) * ld;
      const float c = coef[k];
      for (int j = 0; j < w; ++j) acc[j] += c * scalarAs<T>(wr[j]);
    }
  }
};

// AddRows for a whole column block (kColBlock columns): the block's accumulators stay in registers
// over all of the events, so each event costs one load and one multiply-add per vector of weights.
// On 4-float vectors the 16 registers hold half a block, so it runs in two halves. The weights of
// the event kAhead places on are prefetched: events hop between rows, which no hardware prefetcher
// follows, and waiting on each row's cache lines took most of the time (1.3x faster at 64 tokens).
template <int N>
struct AddEvents {
  static constexpr int kCols = N == 4 ? kColBlock / 2 : kColBlock;
  static constexpr int kVecs = kCols / N;
  static constexpr int kAhead = 4;
  FAS_ALWAYS_INLINE static void run(float* acc, WeightView Wt, size_t ld, const int32_t* idx, const float* coef,
                                    int count) {
    simd::runAsStored<AddEvents>(Wt.dtype, acc, Wt, ld, idx, coef, count);
  }
  template <DType T>
  FAS_ALWAYS_INLINE static void runAs(float* acc, WeightView weights, size_t ld, const int32_t* idx, const float* coef,
                                      int count) {
    using V = simd::vec<N>;
    const Stored<T>* Wt = weights.as<Stored<T>>();
    for (int half = 0; half < kColBlock; half += kCols) {
      V a[kVecs];
      for (int v = 0; v < kVecs; ++v) a[v] = simd::load<N>(acc + half + v * N);
      for (int k = 0; k < count; ++k) {
        if (k + kAhead < count) {
          const char* ahead = reinterpret_cast<const char*>(Wt + size_t(idx[k + kAhead]) * ld + half);
          for (int line = 0; line < kCols * int(sizeof(Stored<T>)); line += 64) __builtin_prefetch(ahead + line);
        }
        const Stored<T>* w = Wt + size_t(idx[k]) * ld + half;
        const float c = coef[k];
        for (int v = 0; v < kVecs; ++v) a[v] += c * simd::loadAs<N, T>(w + v * N);
      }
      for (int v = 0; v < kVecs; ++v) simd::store<N>(acc + half + v * N, a[v]);
    }
  }
};

// acc[0:w] += sum_i a[i] * Wt[i, 0:w] for i < count: the same, over every row.
FAS_SIMD_CLONES void addAllRows(float* acc, int w, const float* Wt, size_t ld, const float* a, int count) {
  int i = 0;
  for (; i + 4 <= count; i += 4) {
    const float* w0 = Wt + size_t(i) * ld;
    const float* w1 = w0 + ld;
    const float* w2 = w1 + ld;
    const float* w3 = w2 + ld;
    const float c0 = a[i], c1 = a[i + 1], c2 = a[i + 2], c3 = a[i + 3];
    for (int j = 0; j < w; ++j) acc[j] += c0 * w0[j] + c1 * w1[j] + c2 * w2[j] + c3 * w3[j];
  }
  for (; i < count; ++i) {
    const float* wr = Wt + size_t(i) * ld;
    const float c = a[i];
    for (int j = 0; j < w; ++j) acc[j] += c * wr[j];
  }
}

// The kernels' lists are kept per thread across calls and only ever grow (the event lists through
// push_back on their kept capacity): allocating them on every call, fresh pages and a page fault
// each, took 60% of a one-token call at T = 8.
template <class T>
void growTo(std::vector<T>& v, size_t n) {
  if (v.size() < n) v.resize(n);
}

// Output row m starts from the bias over columns [j, j + w).
void initBlock(float* y, const SpikeLinear& L, int m0, int rb, int64_t j, int w) {
  for (int r = 0; r < rb; ++r) {
    float* acc = y + size_t(m0 + r) * L.out + j;
    if (L.bias) std::copy(L.bias + j, L.bias + j + w, acc);
    else std::fill(acc, acc + w, 0.0f);
  }
}

// The sending neurons' thresholds for row m (stride 0 for one per layer).
const float* thetaRow(const SpikeShape& sh, const SpikeLinear& L, int m) {
  return L.theta.row(sh.pos0 + m % sh.rows, sh.n);
}

}  // namespace

void spikeLinearEvent(const int8_t* s, const SpikeShape& sh, const SpikeLinear& L, float* y, int ith, int nth) {
  const int M = sh.T * sh.rows, in = sh.n, ts = L.theta.stride();
  const Range rows = splitRange(M, ith, nth);
  const int inBlocks = (in + kInBlock - 1) / kInBlock;
  // The block's events, row after row: active inputs (ascending) with their amplitudes, and where
  // each row's input block starts among them (start[r * (inBlocks + 1) + b]).
  thread_local std::vector<int32_t> idx;
  thread_local std::vector<float> coef;
  thread_local std::vector<size_t> start;
  growTo(start, size_t(std::min(kEventRowBlock, M)) * (inBlocks + 1));
  for (int m0 = int(rows.begin); m0 < int(rows.end); m0 += kEventRowBlock) {
    const int rb = std::min(kEventRowBlock, int(rows.end) - m0);
    idx.clear();
    coef.clear();
    for (int r = 0; r < rb; ++r) {
      const int8_t* sr = s + size_t(m0 + r) * in;
      const float* th = thetaRow(sh, L, m0 + r);
      size_t* st = &start[size_t(r) * (inBlocks + 1)];
      for (int b = 0; b < inBlocks; ++b) {
        st[b] = idx.size();
        for (int i = b * kInBlock; i < std::min(in, (b + 1) * kInBlock); ++i) {
          if (sr[i] == 0) continue;
          idx.push_back(i);
          coef.push_back(float(sr[i]) * th[size_t(i) * ts]);
        }
      }
      st[inBlocks] = idx.size();
    }
    for (int64_t j = 0; j < L.out; j += kColBlock) {
      const int w = int(std::min<int64_t>(kColBlock, L.out - j));
      initBlock(y, L, m0, rb, j, w);
      for (int b = 0; b < inBlocks; ++b) {
        for (int r = 0; r < rb; ++r) {
          const size_t* st = &start[size_t(r) * (inBlocks + 1)];
          const size_t k0 = st[b];
          const int count = int(st[b + 1] - k0);
          float* acc = y + size_t(m0 + r) * L.out + j;
          if (w == kColBlock) {
            simd::dispatch<AddEvents>(acc, L.Wt.from(j), size_t(L.out), &idx[k0], &coef[k0], count);
          } else {
            simd::dispatch<AddRows>(acc, w, L.Wt.from(j), size_t(L.out), &idx[k0], &coef[k0], count);
          }
        }
      }
    }
  }
}

void spikeLinearDense(const int8_t* s, const SpikeShape& sh, const SpikeLinear& L, float* y, int ith, int nth) {
  const Range cols = blockSlice(L.out, kColBlock, ith, nth);
  const int M = sh.T * sh.rows, in = sh.n, ts = L.theta.stride();
  thread_local std::vector<float> a, panel;  // panel: a 16-bit block of Wt, widened
  growTo(a, size_t(std::min(kRowBlock, M)) * in);
  if (L.Wt.dtype != DType::F32) growTo(panel, size_t(kInBlock) * kColBlock);
  for (int m0 = 0; m0 < M; m0 += kRowBlock) {
    const int rb = std::min(kRowBlock, M - m0);
    for (int r = 0; r < rb; ++r) {  // the layer's real-valued input, spikes * theta
      const int8_t* sr = s + size_t(m0 + r) * in;
      const float* th = thetaRow(sh, L, m0 + r);
      for (int i = 0; i < in; ++i) a[size_t(r) * in + i] = float(sr[i]) * th[size_t(i) * ts];
    }
    for (int64_t j = cols.begin; j < cols.end; j += kColBlock) {
      const int w = int(std::min<int64_t>(kColBlock, cols.end - j));
      initBlock(y, L, m0, rb, j, w);
      for (int i0 = 0; i0 < in; i0 += kInBlock) {
        const int count = std::min(kInBlock, in - i0);
        const float* wb;  // Wt[i0 .. i0 + count, j .. j + w), rows ld apart
        size_t ld;
        if (L.Wt.dtype == DType::F32) {
          wb = L.Wt.as<float>() + size_t(i0) * L.out + j;
          ld = size_t(L.out);
        } else {
          for (int i = 0; i < count; ++i) ops::widen(L.Wt, int64_t(i0 + i) * L.out + j, w, &panel[size_t(i) * w]);
          wb = panel.data();
          ld = size_t(w);
        }
        for (int r = 0; r < rb; ++r) {
          addAllRows(y + size_t(m0 + r) * L.out + j, w, wb, ld, &a[size_t(r) * in + i0], count);
        }
      }
    }
  }
}

bool preferEventDriven(double firingRate) {
  // Measured with both paths above on a 2-core AVX-512 Xeon, one thread, firing rates 0.02 to 1:
  // the event-driven time grows linearly with the rate, the dense one (about 20 GFLOP/s) does not.
  // They cross at a rate of 0.9 for GPT-2's c_proj (3072 -> 768) and SmolLM's down_proj
  // (1536 -> 576) at 256 rows, and at 0.75 for 8 rows (one token, T = 8). Take the lower one.
  return firingRate < 0.75;
}

}  // namespace fas::spiking
