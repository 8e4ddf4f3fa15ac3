// What this computer offers the engine: CPU, SIMD features and the CUDA backend's state.
#pragma once
#include <string>

namespace fas {

struct CudaStatus {
  bool built = false;   // compiled with the CUDA backend
  bool usable = false;  // a device answered
  int deviceCount = 0;
  std::string deviceName;  // first device, when usable
  std::string runtimeVersion;
  std::string reason;  // why not usable (no driver, no device, not built)
};

struct HardwareInfo {
  std::string arch;  // x86_64, aarch64, ...
  std::string cpuModel;
  int physicalCores = 0;
  int logicalCores = 0;
  bool avx2 = false, avx512 = false, fma = false, neon = false;
  CudaStatus cuda;
};

HardwareInfo detectHardware();

// Implemented by cuda/backend.cu, or by cuda/cuda_stub.cpp when built without CUDA.
CudaStatus probeCuda();

}  // namespace fas
