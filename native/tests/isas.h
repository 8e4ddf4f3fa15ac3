// Every ISA this CPU has, so each kernel width (4, 8, 16 floats) is checked on one machine.
#pragma once
#include <vector>

#include "engine/simd.h"

namespace fas::test {

inline std::vector<fas::simd::Isa> availableIsas() {
  std::vector<fas::simd::Isa> out;
  for (const auto isa : {fas::simd::Isa::Baseline, fas::simd::Isa::Avx2, fas::simd::Isa::Avx512}) {
    if (isa <= fas::simd::detectedIsa()) out.push_back(isa);
  }
  return out;
}

}  // namespace fas::test
