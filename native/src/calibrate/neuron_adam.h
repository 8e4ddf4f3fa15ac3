// Adam on one layer's thresholds and initial potentials for the fine pass (fas-method.md section 4).
// Thresholds are clamped to stay positive after every step.
#pragma once
#include <cstdint>
#include <vector>

#include "engine/runtime/spiking_site.h"

namespace fas::calibrate {

struct AdamHyper {
  float lr = 3e-3f;
  float beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f;
  float minTheta = 1e-3f;
};

class NeuronAdam {
 public:
  NeuronAdam(NeuronValues start, AdamHyper hyper);

  const NeuronValues& values() const { return values_; }
  int64_t steps() const { return step_; }
  // One step along the gradients (sized like the values).
  void step(const std::vector<float>& dTheta, const std::vector<float>& dV0);

 private:
  NeuronValues values_;
  AdamHyper h_;
  int64_t step_ = 0;
  std::vector<float> mTheta_, vTheta_, mV0_, vV0_;
};

}  // namespace fas::calibrate
