#include "spiking/if_surrogate.h"

#include <vector>

#include "engine/simd.h"
#include "engine/threadpool.h"
#include "spiking/if_neuron.h"

namespace fas::spiking {

void ifBackwardRef(const float* x, const SpikeShape& sh, const IfNeuron& nr, const IfUpstream& up,
                   const IfGrads& grads) {
  const size_t step = sh.rowElems();
  std::vector<float> u(size_t(sh.T));
  for (int r = 0; r < sh.rows; ++r) {
    const int pos = sh.pos0 + r;
    for (int i = 0; i < sh.n; ++i) {
      const size_t e = size_t(r) * sh.n + i;
      const float theta = nr.theta.at(pos, i, sh.n);
      float v = nr.v0.at(pos, i, sh.n);
      for (int t = 0; t < sh.T; ++t) {  // forward again, keeping the pre-reset potentials
        u[t] = v + x[t * step + e];
        v = u[t] - fire(u[t], theta, nr.signedSpikes) * theta;
      }
      float dv = 0.0f, dtheta = 0.0f;  // dv: dL/dv_t, nothing reads the final potential
      for (int t = sh.T - 1; t >= 0; --t) {
        const float s = fire(u[t], theta, nr.signedSpikes);
        const float dout = up.dOut ? up.dOut[t * step + e] : up.dMean[e] / float(sh.T);
        const float ds = theta * (dout - dv);  // through out_t and the reset
        const float sgTheta = surrogate(u[t] - theta);
        const float sgZero = nr.signedSpikes ? surrogate(u[t]) : 0.0f;
        dtheta += s * (dout - dv) - ds * sgTheta;
        dv += ds * (sgTheta + sgZero);  // now dL/du_t = dL/dv_{t-1} = dL/dx_t
        if (grads.dx) grads.dx[t * step + e] = dv;
      }
      grads.theta.at(pos, i, sh.n) += dtheta;
      grads.v0.at(pos, i, sh.n) += dv;
    }
  }
}

namespace {

constexpr int kChunk = 64;

// One row's neurons [0, w): u holds T * kChunk floats of scratch; x, dOut, dx advance by `step`.
// __restrict: the buffers never overlap, and without it the many pointers defeat vectorisation.
FAS_SIMD_CLONES void backwardChunk(const float* __restrict x, size_t step, int T, int w, const float* __restrict theta,
                                   const float* __restrict v0, bool signedSpikes, const float* __restrict dOut,
                                   const float* __restrict dMean, float* __restrict dx, float* __restrict u,
                                   float* __restrict dtheta, float* __restrict dv) {
  float v[kChunk];
  for (int i = 0; i < w; ++i) v[i] = v0[i];
  for (int t = 0; t < T; ++t) {
    float* ut = u + t * kChunk;
    for (int i = 0; i < w; ++i) {
      ut[i] = v[i] + x[t * step + i];
      v[i] = ut[i] - fire(ut[i], theta[i], signedSpikes) * theta[i];
    }
  }
  // Branch-free inner loop: upstream gradients come from dOut[t] or dMean / T, dx goes to a scratch
  // row when not wanted, and the signed neuron's zero-crossing term is scaled by 0 or 1.
  const float neg = signedSpikes ? 1.0f : 0.0f;
  const float upScale = dOut ? 1.0f : 1.0f / float(T);
  float dxScratch[kChunk];
  for (int i = 0; i < w; ++i) dtheta[i] = dv[i] = 0.0f;
  for (int t = T - 1; t >= 0; --t) {
    const float* ut = u + t * kChunk;
    const float* g = dOut ? dOut + t * step : dMean;
    float* dxt = dx ? dx + t * step : dxScratch;
    for (int i = 0; i < w; ++i) {
      const float s = fire(ut[i], theta[i], signedSpikes);
      const float dout = g[i] * upScale;
      const float ds = theta[i] * (dout - dv[i]);
      const float sgTheta = surrogate(ut[i] - theta[i]);
      dtheta[i] += s * (dout - dv[i]) - ds * sgTheta;
      dv[i] += ds * (sgTheta + neg * surrogate(ut[i]));
      dxt[i] = dv[i];
    }
  }
}

}  // namespace

void ifBackward(const float* x, const SpikeShape& sh, const IfNeuron& nr, const IfUpstream& up, const IfGrads& grads,
                int ith, int nth) {
  const Range cols = blockSlice(sh.n, 16, ith, nth);
  const size_t step = sh.rowElems();
  std::vector<float> u(size_t(sh.T) * kChunk);
  float theta[kChunk], v0[kChunk], dtheta[kChunk], dv[kChunk];
  for (int r = 0; r < sh.rows; ++r) {
    const int pos = sh.pos0 + r;
    const float* th = nr.theta.row(pos, sh.n);
    const float* pv = nr.v0.row(pos, sh.n);
    float* gth = grads.theta.row(pos, sh.n);
    float* gv = grads.v0.row(pos, sh.n);
    for (int64_t c = cols.begin; c < cols.end; c += kChunk) {
      const int w = int(std::min<int64_t>(kChunk, cols.end - c));
      for (int i = 0; i < w; ++i) {
        theta[i] = th[(c + i) * nr.theta.stride()];
        v0[i] = pv[(c + i) * nr.v0.stride()];
      }
      const size_t e = size_t(r) * sh.n + c;
      backwardChunk(x + e, step, sh.T, w, theta, v0, nr.signedSpikes, up.dOut ? up.dOut + e : nullptr,
                    up.dMean ? up.dMean + e : nullptr, grads.dx ? grads.dx + e : nullptr, u.data(), dtheta, dv);
      for (int i = 0; i < w; ++i) {
        gth[(c + i) * grads.theta.stride()] += dtheta[i];
        gv[(c + i) * grads.v0.stride()] += dv[i];
      }
    }
  }
}

}  // namespace fas::spiking
