// Built instead of spiking.cu when there is no CUDA backend: the same API, which says why it cannot run.
#include <stdexcept>

#include "cuda/spiking.h"

namespace fas::spiking::cuda {

namespace {

[[noreturn]] void noCuda() {
  throw std::runtime_error("this build has no CUDA backend (built without nvcc or with FAS_CUDA=OFF)");
}

}  // namespace

void ifForwardDevice(const float*, const SpikeShape&, const IfNeuron&, const IfOutputs&) { noCuda(); }
void spikeLinearEventDevice(const int8_t*, const SpikeShape&, const SpikeLinear&, float*) { noCuda(); }
void ifForward(const float*, const SpikeShape&, const IfNeuron&, const IfOutputs&) { noCuda(); }
void spikeLinearEvent(const int8_t*, const SpikeShape&, const SpikeLinear&, float*) { noCuda(); }

}  // namespace fas::spiking::cuda
