#include "spiking/if_neuron.h"

#include <algorithm>

#include "engine/simd.h"
#include "engine/threadpool.h"

namespace fas::spiking {

void ifForwardRef(const float* x, const SpikeShape& sh, const IfNeuron& nr, const IfOutputs& out) {
  const size_t step = sh.rowElems();
  for (int r = 0; r < sh.rows; ++r) {
    const int pos = sh.pos0 + r;
    for (int i = 0; i < sh.n; ++i) {
      const size_t e = size_t(r) * sh.n + i;
      const float theta = nr.theta.at(pos, i, sh.n);
      float v = nr.v0.at(pos, i, sh.n);
      int count = 0;
      for (int t = 0; t < sh.T; ++t) {
        v += x[t * step + e];
        const int s = int(fire(v, theta, nr.signedSpikes));
        v -= float(s) * theta;
        count += s;
        if (out.spikes) out.spikes[t * step + e] = int8_t(s);
        if (out.out) out.out[t * step + e] = float(s) * theta;
      }
      if (out.counts) out.counts[e] = count;
      if (out.mean) out.mean[e] = float(count) * theta / float(sh.T);
    }
  }
}

namespace {

constexpr int kChunk = 64;  // neurons per pass: their potentials stay in registers or L1

// One row's neurons [0, w) over all T steps; x, spikes and outT advance by `step` per timestep.
FAS_SIMD_CLONES void fireChunk(const float* x, size_t step, int T, int w, const float* theta, const float* v0,
                               bool signedSpikes, int8_t* spikes, float* outT, float* mean, int32_t* counts) {
  float v[kChunk], count[kChunk];
  int8_t s8[kChunk];
  for (int i = 0; i < w; ++i) {
    v[i] = v0[i];
    count[i] = 0.0f;
  }
  for (int t = 0; t < T; ++t) {
    const float* xt = x + t * step;
    for (int i = 0; i < w; ++i) {
      const float u = v[i] + xt[i];
      const float s = fire(u, theta[i], signedSpikes);
      v[i] = u - s * theta[i];
      count[i] += s;
      s8[i] = int8_t(s);
    }
    if (spikes) std::copy(s8, s8 + w, spikes + t * step);
    if (outT) {
      for (int i = 0; i < w; ++i) outT[t * step + i] = float(s8[i]) * theta[i];
    }
  }
  for (int i = 0; i < w; ++i) {
    if (counts) counts[i] = int32_t(count[i]);
    if (mean) mean[i] = count[i] * theta[i] / float(T);
  }
}

}  // namespace

void ifForward(const float* x, const SpikeShape& sh, const IfNeuron& nr, const IfOutputs& out, int ith, int nth) {
  const Range cols = blockSlice(sh.n, 16, ith, nth);
  const size_t step = sh.rowElems();
  float theta[kChunk], v0[kChunk];
  for (int r = 0; r < sh.rows; ++r) {
    const int pos = sh.pos0 + r;
    const float* th = nr.theta.row(pos, sh.n);
    const float* pv = nr.v0.row(pos, sh.n);
    const int ts = nr.theta.stride(), vs = nr.v0.stride();
    for (int64_t c = cols.begin; c < cols.end; c += kChunk) {
      const int w = int(std::min<int64_t>(kChunk, cols.end - c));
      for (int i = 0; i < w; ++i) {
        theta[i] = th[(c + i) * ts];
        v0[i] = pv[(c + i) * vs];
      }
      const size_t e = size_t(r) * sh.n + c;
      fireChunk(x + e, step, sh.T, w, theta, v0, nr.signedSpikes, out.spikes ? out.spikes + e : nullptr,
                out.out ? out.out + e : nullptr, out.mean ? out.mean + e : nullptr,
                out.counts ? out.counts + e : nullptr);
    }
  }
}

}  // namespace fas::spiking
