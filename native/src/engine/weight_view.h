// A weight array as the engine keeps it: its dtype and where it starts. F32, or F16 / BF16 kept as
// the checkpoint stores them, which the matrix kernels widen to float as they read (simd.h's
// loadAs), so a 16-bit model takes half the memory and a decode step reads half the bytes.
// The model's tensors carry one with their shape (engine/model/model.h's Tensor); every kernel that
// reads a weight matrix takes one, so the dtype is decided in one place, the loader.
#pragma once
#include <cstdint>
#include <stdexcept>

#include "engine/model/dtype.h"

namespace fas {

struct WeightView {
  const void* data = nullptr;
  DType dtype = DType::F32;

  WeightView() = default;
  WeightView(const float* values) : data(values) {}  // an F32 array is a weight view (implicit on purpose)
  WeightView(const void* stored, DType type) : data(stored), dtype(type) {}

  explicit operator bool() const { return data != nullptr; }

  // The same array from element `first` on.
  WeightView from(int64_t first) const { return {static_cast<const uint8_t*>(data) + first * dtypeSize(dtype), dtype}; }

  // Element i as a float (plain references, one-off conversions).
  float at(int64_t i) const { return readElement(static_cast<const uint8_t*>(data), dtype, i); }

  // The values of a tensor the loader widened to F32 (biases, norms: every 1-D tensor); null stays null.
  const float* f32() const {
    if (dtype != DType::F32) throw std::logic_error("a 16-bit weight was read as F32");
    return static_cast<const float*>(data);
  }

  // Its elements stored as T (simd.h's Stored<T>), for a kernel specialised on the dtype.
  template <class Element>
  const Element* as() const {
    return static_cast<const Element*>(data);
  }
};

}  // namespace fas
