// CUDA kernels of the IF neurons and the event-driven spike linear; see spiking.h.
#include <algorithm>

#include "cuda/spiking.h"
#include "cuda/spiking_buffer.h"

namespace fas::spiking::cuda {

namespace {

constexpr int kThreads = 256;
constexpr int kWarps = kThreads / 32;
constexpr int kMaxGridY = 65535;  // rows beyond it are taken in grid-stride steps

// One thread per (row, neuron), looping over T: consecutive threads read consecutive neurons.
__global__ void ifForwardKernel(const float* __restrict__ x, SpikeShape sh, IfNeuron nr, IfOutputs out) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= sh.n) return;
  const size_t step = sh.rowElems();
  for (int r = blockIdx.y; r < sh.rows; r += gridDim.y) {
    const int pos = sh.pos0 + r;
    const size_t e = size_t(r) * sh.n + i;
    const float theta = nr.theta.at(pos, i, sh.n);
    float v = nr.v0.at(pos, i, sh.n);
    float count = 0.0f;
    for (int t = 0; t < sh.T; ++t) {
      const float u = v + x[t * step + e];
      const float s = fire(u, theta, nr.signedSpikes);
      v = u - s * theta;
      count += s;
      if (out.spikes) out.spikes[t * step + e] = int8_t(s);
    }
    if (out.counts) out.counts[e] = int32_t(count);
    if (out.mean) out.mean[e] = count * theta / float(sh.T);
  }
}

// One block per (row m, kThreads output columns). The block walks the row's inputs kThreads at a
// time, compacts the active ones into shared memory in ascending order (ballot + prefix count), and
// each thread adds coef * Wt[i, j] for its column j: coalesced reads of one weight row per event.
__global__ void spikeLinearEventKernel(const int8_t* __restrict__ s, SpikeShape sh, SpikeLinear L,
                                       float* __restrict__ y) {
  __shared__ int idx[kThreads];
  __shared__ float coef[kThreads];
  __shared__ int warpActive[kWarps];
  const int j = blockIdx.x * kThreads + threadIdx.x;
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  const int M = sh.T * sh.rows;
  const float* Wt = static_cast<const float*>(L.Wt.data);  // F32 on the device (uploads widen)
  for (int m = blockIdx.y; m < M; m += gridDim.y) {
    const int8_t* sr = s + size_t(m) * sh.n;
    const float* th = L.theta.row(sh.pos0 + m % sh.rows, sh.n);
    const int ts = L.theta.stride();
    float acc = (L.bias && j < L.out) ? L.bias[j] : 0.0f;
    for (int i0 = 0; i0 < sh.n; i0 += kThreads) {
      const int i = i0 + threadIdx.x;
      const int8_t sv = i < sh.n ? sr[i] : int8_t(0);
      const unsigned active = __ballot_sync(0xffffffffu, sv != 0);
      if (lane == 0) warpActive[warp] = __popc(active);
      __syncthreads();
      int before = 0, total = 0;
      for (int w = 0; w < kWarps; ++w) {
        before += w < warp ? warpActive[w] : 0;
        total += warpActive[w];
      }
      if (sv != 0) {
        const int k = before + __popc(active & ((1u << lane) - 1u));
        idx[k] = i;
        coef[k] = float(sv) * th[size_t(i) * ts];
      }
      __syncthreads();
      if (j < L.out)
        for (int k = 0; k < total; ++k) acc += coef[k] * Wt[size_t(idx[k]) * L.out + j];
      __syncthreads();  // the next chunk overwrites idx, coef and warpActive
    }
    if (j < L.out) y[size_t(m) * L.out + j] = acc;
  }
}

}  // namespace

void ifForwardDevice(const float* x, const SpikeShape& sh, const IfNeuron& nr, const IfOutputs& out) {
  if (sh.size() == 0) return;
  const dim3 grid((sh.n + kThreads - 1) / kThreads, std::min(sh.rows, kMaxGridY));
  ifForwardKernel<<<grid, kThreads>>>(x, sh, nr, out);
  check(cudaGetLastError(), "ifForwardKernel launch");
}

void spikeLinearEventDevice(const int8_t* s, const SpikeShape& sh, const SpikeLinear& L, float* y) {
  const int M = sh.T * sh.rows;
  if (M == 0 || L.out == 0) return;
  const dim3 grid((L.out + kThreads - 1) / kThreads, std::min(M, kMaxGridY));
  spikeLinearEventKernel<<<grid, kThreads>>>(s, sh, L, y);
  check(cudaGetLastError(), "spikeLinearEventKernel launch");
}

void ifForward(const float* x, const SpikeShape& sh, const IfNeuron& nr, const IfOutputs& out) {
  const DeviceBuffer<float> dx(x, sh.size());
  const DeviceParam theta(nr.theta, sh.n), v0(nr.v0, sh.n);
  const DeviceBuffer<int8_t> spikes(out.spikes ? sh.size() : 0);
  const DeviceBuffer<float> mean(out.mean ? sh.rowElems() : 0);
  const DeviceBuffer<int32_t> counts(out.counts ? sh.rowElems() : 0);
  ifForwardDevice(dx.get(), sh, IfNeuron{theta.view, v0.view, nr.signedSpikes},
                  IfOutputs{spikes.get(), mean.get(), counts.get()});
  spikes.copyTo(out.spikes);  // cudaMemcpy waits for the kernel and reports its errors
  mean.copyTo(out.mean);
  counts.copyTo(out.counts);
}

void spikeLinearEvent(const int8_t* s, const SpikeShape& sh, const SpikeLinear& L, float* y) {
  const DeviceBuffer<int8_t> ds(s, sh.size());
  const DeviceBuffer<float> Wt(L.Wt.f32(), size_t(sh.n) * L.out);
  const DeviceBuffer<float> bias(L.bias, L.bias ? size_t(L.out) : 0);
  const DeviceParam theta(L.theta, sh.n);
  const DeviceBuffer<float> dy(size_t(sh.T) * sh.rows * L.out);
  spikeLinearEventDevice(ds.get(), sh, SpikeLinear{Wt.get(), bias.get(), L.out, theta.view}, dy.get());
  dy.copyTo(y);
}

}  // namespace fas::spiking::cuda
