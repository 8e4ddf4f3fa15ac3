// Device memory owned by an object (plain buffers and neuron parameters), and CUDA errors turned
// into exceptions (for the .cu files).
#pragma once
#include <cuda_runtime.h>

#include <cstddef>
#include <stdexcept>
#include <string>

#include "spiking/neuron_param.h"

namespace fas::spiking::cuda {

inline void check(cudaError_t err, const char* what) {
  if (err != cudaSuccess)
    throw std::runtime_error(std::string(what) + " failed: " + cudaGetErrorName(err) + ": " + cudaGetErrorString(err));
}

// count elements of T on the current device; count 0 holds nothing (an absent optional buffer).
template <class T>
class DeviceBuffer {
 public:
  explicit DeviceBuffer(size_t count) : count_(count) {
    if (count_) check(cudaMalloc(reinterpret_cast<void**>(&ptr_), bytes()), "cudaMalloc");
  }
  // A copy of host[0, count); host may be null when count is 0.
  DeviceBuffer(const T* host, size_t count) : DeviceBuffer(count) {
    if (count_) check(cudaMemcpy(ptr_, host, bytes(), cudaMemcpyHostToDevice), "cudaMemcpy to the device");
  }
  ~DeviceBuffer() { cudaFree(ptr_); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  T* get() const { return ptr_; }
  void copyTo(T* host) const {
    if (count_) check(cudaMemcpy(host, ptr_, bytes(), cudaMemcpyDeviceToHost), "cudaMemcpy to the host");
  }

 private:
  size_t bytes() const { return count_ * sizeof(T); }
  T* ptr_ = nullptr;
  size_t count_;
};

// A neuron parameter's values copied to the device, and the view that points at them.
struct DeviceParam {
  DeviceParam(const NeuronParam& p, int n)
      : values(p.values, p.count(n)),
        fallback(p.fallback, p.granularity == Granularity::PositionNeuron && p.fallback ? size_t(n) : 0), view(p) {
    view.values = values.get();
    view.fallback = fallback.get();
  }
  DeviceBuffer<float> values, fallback;
  NeuronParam view;
};

}  // namespace fas::spiking::cuda
