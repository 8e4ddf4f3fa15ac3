// Built instead of the CUDA backend when nvcc is absent or FAS_CUDA=OFF: same API, CPU only.
#include "hardware.h"

namespace fas {

CudaStatus probeCuda() {
  CudaStatus s;
  s.reason = "this build has no CUDA backend (built without nvcc or with FAS_CUDA=OFF)";
  return s;
}

}  // namespace fas
