// SIMD building blocks shared by the fast ops, and the dispatch that picks their ISA at run time.
//
// Kernels are written once as `template <int N> struct K { static void run(...); }` on vectors of N
// floats (GCC/Clang vector extensions). dispatch<K>(args...) runs K<16> compiled for AVX-512, K<8>
// for AVX2 + FMA or K<4> for the baseline, whichever the CPU has, so the addon runs on any x86-64
// and every kernel works on registers of the native width. The helpers and the kernels' run() are
// always_inline: they take the ISA of the dispatch wrapper they are inlined into.
//
// The end of the file keeps the first, fixed-width API (16-float vf in FAS_SIMD_CLONES functions),
// which train/ and spiking/ use. On AVX2 every vf takes two registers, fine for light kernels but
// the compiler spills register-heavy ones (the matmul tile ran 7x slower): use dispatch there.
#pragma once
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <type_traits>
#include <utility>

#include "engine/model/dtype.h"

#define FAS_ALWAYS_INLINE inline __attribute__((always_inline))

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define FAS_ISA_DISPATCH 1  // GCC >= 12: target("arch=x86-64-vN") and __builtin_cpu_supports of it
#if !defined(__CUDACC__)
// F16C's conversion as the builtin behind _mm256_cvtph_ps / _mm512_cvtph_ps: the intrinsic wrappers
// carry their own target and cannot be inlined into the untargeted kernel templates, the builtins
// can (they are checked where they land, in the dispatch wrapper of that ISA). immintrin.h declares them.
#define FAS_F16C_BUILTINS 1
#include <immintrin.h>
#endif
#endif

namespace fas::simd {

template <int N>
struct Vec {
  typedef float f __attribute__((vector_size(4 * N)));
  typedef int32_t i __attribute__((vector_size(4 * N)));
};
template <int N>
struct Vec16 {
  typedef uint16_t u __attribute__((vector_size(2 * N)));
  typedef short s __attribute__((vector_size(2 * N)));
};
template <int N>
using vec = typename Vec<N>::f;
template <int N>
using ivec = typename Vec<N>::i;
template <int N>
using hvec = typename Vec16<N>::u;  // N 16-bit storage words

template <int N>
FAS_ALWAYS_INLINE vec<N> load(const float* p) {
  vec<N> v;
  std::memcpy(&v, p, sizeof v);  // unaligned load
  return v;
}

template <int N>
FAS_ALWAYS_INLINE void store(float* p, vec<N> v) {
  std::memcpy(p, &v, sizeof v);
}

template <int N>
FAS_ALWAYS_INLINE vec<N> splat(float x) {
  return vec<N>{} + x;
}

template <int N>
FAS_ALWAYS_INLINE vec<N> max(vec<N> a, vec<N> b) {
  return a > b ? a : b;
}

template <int N>
FAS_ALWAYS_INLINE vec<N> min(vec<N> a, vec<N> b) {
  return a < b ? a : b;
}

// The two halves of v, for tree reductions (compiles to register extracts).
template <int N>
FAS_ALWAYS_INLINE void halves(vec<N> v, vec<N / 2>& lo, vec<N / 2>& hi) {
  std::memcpy(&lo, &v, sizeof lo);
  std::memcpy(&hi, reinterpret_cast<const char*>(&v) + sizeof lo, sizeof hi);
}

// Sum of the lanes, halving the vector each step so the adds do not wait on each other.
template <int N>
FAS_ALWAYS_INLINE float sum(vec<N> v) {
  if constexpr (N == 4) {
    return (v[0] + v[2]) + (v[1] + v[3]);
  } else {
    vec<N / 2> lo, hi;
    halves<N>(v, lo, hi);
    return sum<N / 2>(lo + hi);
  }
}

template <int N>
FAS_ALWAYS_INLINE float maxLane(vec<N> v) {
  if constexpr (N == 4) {
    const float a = v[0] > v[2] ? v[0] : v[2], b = v[1] > v[3] ? v[1] : v[3];
    return a > b ? a : b;
  } else {
    vec<N / 2> lo, hi;
    halves<N>(v, lo, hi);
    return maxLane<N / 2>(max<N / 2>(lo, hi));
  }
}

// The largest of p[0..n) (-inf when n is 0): N lanes at a time, then the tail.
template <int N>
FAS_ALWAYS_INLINE float maxOf(const float* p, int64_t n) {
  vec<N> top = splat<N>(-__builtin_inff());
  int64_t i = 0;
  for (; i + N <= n; i += N) top = max<N>(top, load<N>(p + i));
  float m = maxLane<N>(top);
  for (; i < n; ++i) m = p[i] > m ? p[i] : m;
  return m;
}

// e^x per lane, relative error about 1e-7. x = n ln2 + r with |r| <= ln2/2, so e^x = 2^n e^r and
// e^r is its Taylor polynomial to degree 7 (remainder below 6e-9). x is clamped to [-87, 88], where
// 2^n stays a normal float: e^-87 (1.6e-38) stands for 0, e^88 for overflow.
template <int N>
FAS_ALWAYS_INLINE vec<N> exp(vec<N> x) {
  x = min<N>(max<N>(x, splat<N>(-87.0f)), splat<N>(88.0f));
  const vec<N> round = splat<N>(12582912.0f);  // 1.5 * 2^23: adding and subtracting it rounds to an integer
  const vec<N> n = (x * 1.44269504f + round) - round;
  const vec<N> r = (x - n * 0.693145751953125f) - n * 1.428606765330187e-06f;  // ln2 split in two
  vec<N> p = splat<N>(1.0f / 5040);
  p = p * r + 1.0f / 720;
  p = p * r + 1.0f / 120;
  p = p * r + 1.0f / 24;
  p = p * r + 1.0f / 6;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  const ivec<N> bits = (__builtin_convertvector(n, ivec<N>) + 127) << 23;  // 2^n as float bits
  return p * (vec<N>)bits;  // same-size vector cast: reinterprets the bits
}

// row[0..valid) becomes the softmax of scale * row (scale > 0), computed from the row's largest value
// so nothing overflows; row[valid..width) becomes 0 (keys a causal mask hides). The one softmax of
// attention's forward and backward.
template <int N>
FAS_ALWAYS_INLINE void softmaxInPlace(float* row, int64_t valid, int64_t width, float scale) {
  const float top = maxOf<N>(row, valid);
  vec<N> total = {};
  int64_t j = 0;
  for (; j + N <= valid; j += N) {
    const vec<N> e = exp<N>((load<N>(row + j) - top) * scale);
    store<N>(row + j, e);
    total += e;
  }
  float sumExp = sum<N>(total);
  for (; j < valid; ++j) sumExp += (row[j] = std::exp((row[j] - top) * scale));
  const float inv = 1.0f / sumExp;
  for (j = 0; j + N <= valid; j += N) store<N>(row + j, load<N>(row + j) * inv);
  for (; j < valid; ++j) row[j] *= inv;
  std::fill(row + valid, row + width, 0.0f);
}

// log sum_j e^row[j] over row[0..n), from the row's largest value so nothing overflows: the
// log-softmax's normaliser of a row of logits (training's cross-entropy, evaluation's scores). The
// lanes add 64 vectors in float, then the total goes on in double: a 128k-word vocabulary summed in
// float lanes alone would lose up to 1e-4 of it.
template <int N>
FAS_ALWAYS_INLINE float logSumExp(const float* row, int64_t n) {
  const float top = maxOf<N>(row, n);
  double total = 0;
  int64_t j = 0;
  while (j + N <= n) {
    vec<N> acc = {};
    for (const int64_t end = std::min(n - N, j + 63 * N); j <= end; j += N) acc += exp<N>(load<N>(row + j) - top);
    total += sum<N>(acc);
  }
  for (; j < n; ++j) total += std::exp(row[j] - top);
  return top + static_cast<float>(std::log(total));
}

// ---- 16-bit weights -------------------------------------------------------------------------
// F16 and BF16 matrices stay 16-bit in memory; the kernels widen them to float as they load them
// into registers, so a weight costs two bytes of bandwidth instead of four. Kernels are templates on
// the stored type T and reach elements through Stored<T> pointers.

template <DType T>
using Stored = std::conditional_t<T == DType::F32, float, uint16_t>;

// K::runAs<T>(args...) for the stored type T of dtype d: the one switch from a weight's dtype to the
// kernels templated on it, inlined into the ISA clone that calls it.
template <class K, class... Args>
FAS_ALWAYS_INLINE void runAsStored(DType d, Args&&... args) {
  switch (d) {
    case DType::F32: return K::template runAs<DType::F32>(std::forward<Args>(args)...);
    case DType::F16: return K::template runAs<DType::F16>(std::forward<Args>(args)...);
    case DType::BF16: return K::template runAs<DType::BF16>(std::forward<Args>(args)...);
  }
}

// IEEE half bits (one per 32-bit lane) to float, exactly, on any ISA: the exponent and mantissa
// shifted into float position are the value times 2^-112 (subnormal halves land on subnormal
// floats, exact), so one multiply rebiases; infinities and NaN keep their all-ones exponent.
template <int N>
FAS_ALWAYS_INLINE vec<N> halfBitsToFloat(ivec<N> h) {
  const ivec<N> magnitude = (h & 0x7fff) << 13, sign = (h & 0x8000) << 16;
  const ivec<N> finite = (ivec<N>)((vec<N>)magnitude * 0x1.0p112f);
  const ivec<N> bits = (h & 0x7fff) >= 0x7c00 ? magnitude | 0x7f800000 : finite;
  return (vec<N>)(bits | sign);
}

// N halves at p as floats: F16C / AVX-512's conversion where the ISA has it (a 128- or 256-bit
// load and one instruction), else the integer form above.
template <int N>
FAS_ALWAYS_INLINE vec<N> widenF16(const uint16_t* p) {
#ifdef FAS_F16C_BUILTINS
  if constexpr (N == 8 || N == 16) {
    typename Vec16<N>::s h;
    std::memcpy(&h, p, sizeof h);
    if constexpr (N == 8) {
      return __builtin_ia32_vcvtph2ps256(h);
    } else {
      return __builtin_ia32_vcvtph2ps512_mask(h, vec<16>{}, static_cast<__mmask16>(-1), _MM_FROUND_CUR_DIRECTION);
    }
  }
#endif
  hvec<N> h;
  std::memcpy(&h, p, sizeof h);
  return halfBitsToFloat<N>(__builtin_convertvector(h, ivec<N>));
}

// N bfloat16 at p as floats: each is the top half of its float.
template <int N>
FAS_ALWAYS_INLINE vec<N> widenBf16(const uint16_t* p) {
  hvec<N> h;
  std::memcpy(&h, p, sizeof h);
  return (vec<N>)(__builtin_convertvector(h, ivec<N>) << 16);
}

// N weights stored as T at p, as floats.
template <int N, DType T>
FAS_ALWAYS_INLINE vec<N> loadAs(const Stored<T>* p) {
  if constexpr (T == DType::F32) {
    return load<N>(p);
  } else if constexpr (T == DType::F16) {
    return widenF16<N>(p);
  } else {
    return widenBf16<N>(p);
  }
}

// One weight stored as T, as a float (the tails of the vector loops).
template <DType T>
FAS_ALWAYS_INLINE float scalarAs(Stored<T> v) {
  if constexpr (T == DType::F32) {
    return v;
  } else if constexpr (T == DType::F16) {
    return halfToFloat(v);
  } else {
    return bfloat16ToFloat(v);
  }
}

// out[0..n) = the n weights stored as T at src, as floats.
template <int N, DType T>
FAS_ALWAYS_INLINE void widenInto(const Stored<T>* src, int64_t n, float* out) {
  int64_t i = 0;
  for (; i + N <= n; i += N) store<N>(out + i, loadAs<N, T>(src + i));
  for (; i < n; ++i) out[i] = scalarAs<T>(src[i]);
}

// ---- Dispatch --------------------------------------------------------------------------------

enum class Isa { Baseline = 0, Avx2 = 1, Avx512 = 2 };

// The widest vectors this CPU runs.
inline Isa detectedIsa() {
#ifdef FAS_ISA_DISPATCH
  __builtin_cpu_init();
  if (__builtin_cpu_supports("x86-64-v4")) return Isa::Avx512;
  if (__builtin_cpu_supports("x86-64-v3")) return Isa::Avx2;
#endif
  return Isa::Baseline;
}

// The environment's cap on the ISA, FAS_MAX_ISA=baseline|avx2|avx512 (to measure the narrower
// kernels on a wider CPU, e.g. `FAS_MAX_ISA=avx2 fas bench`); unset or unknown: no cap.
inline Isa isaCapFromEnv() {
  const char* cap = std::getenv("FAS_MAX_ISA");
  if (!cap) return Isa::Avx512;
  if (std::strcmp(cap, "baseline") == 0) return Isa::Baseline;
  if (std::strcmp(cap, "avx2") == 0) return Isa::Avx2;
  return Isa::Avx512;
}

// The ISA dispatch() uses: the detected one unless FAS_MAX_ISA or limitIsa() lowered it.
inline std::atomic<int>& activeIsa() {
  static std::atomic<int> isa{std::min(static_cast<int>(detectedIsa()), static_cast<int>(isaCapFromEnv()))};
  return isa;
}

// Caps the ISA of every dispatched kernel (so tests run each code path on one machine); a cap above
// the CPU's is ignored. Returns the ISA in use before.
inline Isa limitIsa(Isa cap) {
  return static_cast<Isa>(activeIsa().exchange(std::min(static_cast<int>(cap), static_cast<int>(detectedIsa()))));
}

// limitIsa() for one scope.
class IsaLimit {
 public:
  explicit IsaLimit(Isa cap) : before_(limitIsa(cap)) {}
  ~IsaLimit() { limitIsa(before_); }
  IsaLimit(const IsaLimit&) = delete;
  IsaLimit& operator=(const IsaLimit&) = delete;

 private:
  Isa before_;
};

#ifdef FAS_ISA_DISPATCH
template <template <int> class Kernel, typename... Args>
__attribute__((target("arch=x86-64-v4"))) void runAvx512(Args... args) {
  Kernel<16>::run(args...);
}
template <template <int> class Kernel, typename... Args>
__attribute__((target("arch=x86-64-v3"))) void runAvx2(Args... args) {
  Kernel<8>::run(args...);
}
#endif

// Kernel<N>::run(args...) with the widest vectors of the active ISA.
template <template <int> class Kernel, typename... Args>
void dispatch(Args... args) {
#ifdef FAS_ISA_DISPATCH
  switch (static_cast<Isa>(activeIsa().load(std::memory_order_relaxed))) {
    case Isa::Avx512: return runAvx512<Kernel>(args...);
    case Isa::Avx2: return runAvx2<Kernel>(args...);
    case Isa::Baseline: break;
  }
#endif
  Kernel<4>::run(args...);
}

}  // namespace fas::simd

// ---- Fixed 16-float API ------------------------------------------------------------------------
// Functions marked FAS_SIMD_CLONES are compiled once per ISA and picked by the dynamic loader
// (ifunc: GCC on Linux; nvcc's host pass is left out).
#if defined(__x86_64__) && defined(__linux__) && defined(__GNUC__) && !defined(__clang__) && !defined(__CUDACC__)
#define FAS_SIMD_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define FAS_SIMD_CLONES
#endif

namespace fas::simd {

constexpr int kLanes = 16;
using vf = vec<kLanes>;
using vi = ivec<kLanes>;

FAS_ALWAYS_INLINE vf load(const float* p) { return load<kLanes>(p); }
FAS_ALWAYS_INLINE void store(float* p, vf v) { store<kLanes>(p, v); }
FAS_ALWAYS_INLINE vf splat(float x) { return splat<kLanes>(x); }
FAS_ALWAYS_INLINE vf max(vf a, vf b) { return max<kLanes>(a, b); }
FAS_ALWAYS_INLINE vf min(vf a, vf b) { return min<kLanes>(a, b); }
FAS_ALWAYS_INLINE float sum(vf v) { return sum<kLanes>(v); }
FAS_ALWAYS_INLINE float maxLane(vf v) { return maxLane<kLanes>(v); }
FAS_ALWAYS_INLINE vf exp(vf x) { return exp<kLanes>(x); }

}  // namespace fas::simd
