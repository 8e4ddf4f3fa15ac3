// CUDA backend probe. The runtime is linked statically, so this loads without a driver and
// reports why no GPU can be used instead of failing to load.
#include <cuda_runtime.h>

#include <string>

#include "hardware.h"

namespace fas {

CudaStatus probeCuda() {
  CudaStatus s;
  s.built = true;
  int runtime = 0;
  cudaRuntimeGetVersion(&runtime);
  s.runtimeVersion = std::to_string(runtime / 1000) + "." + std::to_string((runtime % 1000) / 10);
  int count = 0;
  const cudaError_t err = cudaGetDeviceCount(&count);
  if (err == cudaErrorInsufficientDriver) {
    s.reason = "no NVIDIA driver is installed, or it is older than CUDA runtime " + s.runtimeVersion;
    cudaGetLastError();
    return s;
  }
  if (err != cudaSuccess) {
    s.reason = std::string(cudaGetErrorName(err)) + ": " + cudaGetErrorString(err);
    cudaGetLastError();  // clear the sticky error so later calls start clean
    return s;
  }
  if (count == 0) {
    s.reason = "no CUDA device found";
    return s;
  }
  cudaDeviceProp prop{};
  cudaGetDeviceProperties(&prop, 0);
  s.usable = true;
  s.deviceCount = count;
  s.deviceName = prop.name;
  return s;
}

}  // namespace fas
