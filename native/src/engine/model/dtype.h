// Storage types of safetensors tensors the engine reads, and their conversion to float.
#pragma once
#include <cstdint>
#include <cstring>

namespace fas {

enum class DType { F32, F16, BF16 };

inline int64_t dtypeSize(DType t) { return t == DType::F32 ? 4 : 2; }

// IEEE half: 1 sign, 5 exponent, 10 mantissa bits. Subnormals, infinities and NaN included.
inline float halfToFloat(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  const uint32_t exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff;
  uint32_t bits;
  if (exponent == 0x1f) {
    bits = sign | 0x7f800000 | (mantissa << 13);  // inf / NaN
  } else if (exponent != 0) {
    bits = sign | ((exponent + 112) << 23) | (mantissa << 13);  // rebias 15 -> 127
  } else {
    // Zero or subnormal: mantissa * 2^-24, exact in float.
    const float magnitude = static_cast<float>(mantissa) * 0x1.0p-24f;
    std::memcpy(&bits, &magnitude, 4);
    bits |= sign;
  }
  float out;
  std::memcpy(&out, &bits, 4);
  return out;
}

// bfloat16 is the top half of a float.
inline float bfloat16ToFloat(uint16_t b) {
  const uint32_t bits = static_cast<uint32_t>(b) << 16;
  float out;
  std::memcpy(&out, &bits, 4);
  return out;
}

// Element i of a little-endian array of `type` at p (any alignment), as float.
inline float readElement(const uint8_t* p, DType type, int64_t i) {
  if (type == DType::F32) {
    float v;
    std::memcpy(&v, p + i * 4, 4);
    return v;
  }
  uint16_t v;
  std::memcpy(&v, p + i * 2, 2);
  return type == DType::F16 ? halfToFloat(v) : bfloat16ToFloat(v);
}

}  // namespace fas
