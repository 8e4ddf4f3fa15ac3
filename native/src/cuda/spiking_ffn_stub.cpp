// Built instead of spiking_ffn.cu when there is no CUDA backend: the same API, which says why it cannot run.
#include <stdexcept>

#include "cuda/spiking_ffn.h"

namespace fas::spiking::cuda {

struct DeviceFfn::Impl {};

DeviceFfn::DeviceFfn(const std::vector<FfnLayer>&, int) {
  throw std::runtime_error("this build has no CUDA backend (built without nvcc or with FAS_CUDA=OFF)");
}

DeviceFfn::~DeviceFfn() = default;

void DeviceFfn::run(int, const float*, const SpikeShape&, int, int8_t*, float*) const {
  throw std::runtime_error("this build has no CUDA backend (built without nvcc or with FAS_CUDA=OFF)");
}

}  // namespace fas::spiking::cuda
