// CPU-GPU parity of the spiking kernels. They run only where a GPU answers; elsewhere the cases say
// so and check that the CUDA API fails with a clear exception instead of crashing.
#include <cstdio>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "cuda/spiking.h"
#include "hardware.h"
#include "spiking/if_neuron.h"
#include "spiking/spike_linear.h"
#include "test.h"

using namespace fas::spiking;

namespace {

// True when a GPU is usable; otherwise prints why the case is skipped and checks that a call
// throws a runtime_error with a message (the stub's, or CUDA's error string).
bool gpuOrSkip() {
  const fas::CudaStatus status = fas::probeCuda();
  if (status.usable) return true;
  std::printf("     skipped: no usable GPU (%s)\n", status.reason.c_str());
  const float x = 1.0f, theta = 1.0f, v0 = 0.5f;
  int32_t count = 0;
  std::string message;
  try {
    cuda::ifForward(&x, SpikeShape{1, 1, 1, 0}, IfNeuron{layerParam(&theta), layerParam(&v0), false},
                    {nullptr, nullptr, &count});
  } catch (const std::runtime_error& e) {
    message = e.what();
  }
  CHECK(!message.empty());
  std::printf("     the CUDA API throws: %s\n", message.c_str());
  return false;
}

}  // namespace

TEST(spiking_cuda_if_neuron_matches_cpu) {
  if (!gpuOrSkip()) return;
  std::mt19937 rng(17);
  std::uniform_real_distribution<float> U(-1.0f, 2.0f), Th(0.3f, 1.5f);
  const SpikeShape sh{8, 37, 1000, 5};
  const int P = 20;  // positions 5..41: per-position values below 20, the fallback beyond
  std::vector<float> x(sh.size()), thN(sh.n), v0N(sh.n), thP(P * sh.n);
  for (auto& v : x) v = U(rng);
  for (auto* vec : {&thN, &thP})
    for (auto& v : *vec) v = Th(rng);
  for (auto& v : v0N) v = U(rng) * 0.5f;
  for (bool sgn : {false, true}) {
    const IfNeuron nr{positionParam(thP.data(), P, thN.data()), neuronParam(v0N.data()), sgn};
    std::vector<int8_t> sCpu(sh.size()), sGpu(sh.size());
    std::vector<int32_t> cCpu(sh.rowElems()), cGpu(sh.rowElems());
    std::vector<float> mCpu(sh.rowElems()), mGpu(sh.rowElems());
    ifForward(x.data(), sh, nr, {sCpu.data(), mCpu.data(), cCpu.data()});
    cuda::ifForward(x.data(), sh, nr, {sGpu.data(), mGpu.data(), cGpu.data()});
    CHECK(sGpu == sCpu);
    CHECK(cGpu == cCpu);
    for (size_t e = 0; e < mCpu.size(); ++e) CHECK_NEAR(mGpu[e], mCpu[e], 1e-6);
  }
}

TEST(spiking_cuda_spike_linear_matches_cpu) {
  if (!gpuOrSkip()) return;
  std::mt19937 rng(19);
  std::uniform_real_distribution<float> U(-1.0f, 1.0f), R(0.0f, 1.0f);
  const SpikeShape sh{4, 9, 700, 0};  // 700 inputs: two full chunks of 256 and a partial one
  const int out = 300;
  std::vector<float> Wt(size_t(sh.n) * out), bias(out), th(sh.n);
  for (auto* v : {&Wt, &bias})
    for (auto& w : *v) w = U(rng);
  for (auto& v : th) v = 0.5f + R(rng);
  for (double rate : {0.0, 0.1, 0.5, 1.0}) {
    std::vector<int8_t> s(sh.size());
    for (auto& v : s) v = R(rng) < rate ? (R(rng) < 0.3f ? -1 : 1) : 0;
    const SpikeLinear L{Wt.data(), bias.data(), out, neuronParam(th.data())};
    std::vector<float> ref(size_t(sh.T) * sh.rows * out), y(ref.size());
    spikeLinearRef(s.data(), sh, L, ref.data());
    cuda::spikeLinearEvent(s.data(), sh, L, y.data());
    for (size_t k = 0; k < ref.size(); ++k) CHECK_NEAR(y[k], ref[k], 1e-4 * (1 + std::fabs(ref[k])));
  }
}
