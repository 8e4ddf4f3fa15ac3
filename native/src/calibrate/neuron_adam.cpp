#include "calibrate/neuron_adam.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace fas::calibrate {

NeuronAdam::NeuronAdam(NeuronValues start, AdamHyper hyper)
    : values_(std::move(start)), h_(hyper), mTheta_(values_.threshold.size(), 0.0f), vTheta_(mTheta_), mV0_(mTheta_),
      vV0_(mTheta_) {}

namespace {

void adam(std::vector<float>& p, const std::vector<float>& g, std::vector<float>& m, std::vector<float>& v,
          const AdamHyper& h, float correct1, float correct2, float floor) {
  for (size_t i = 0; i < p.size(); ++i) {
    m[i] = h.beta1 * m[i] + (1.0f - h.beta1) * g[i];
    v[i] = h.beta2 * v[i] + (1.0f - h.beta2) * g[i] * g[i];
    p[i] -= h.lr * (m[i] / correct1) / (std::sqrt(v[i] / correct2) + h.eps);
    p[i] = std::max(p[i], floor);
  }
}

}  // namespace

void NeuronAdam::step(const std::vector<float>& dTheta, const std::vector<float>& dV0) {
  if (dTheta.size() != values_.threshold.size() || dV0.size() != values_.v0.size()) {
    throw std::logic_error("Adam gradients differ in size from the parameters");
  }
  ++step_;
  const float c1 = 1.0f - std::pow(h_.beta1, float(step_)), c2 = 1.0f - std::pow(h_.beta2, float(step_));
  adam(values_.threshold, dTheta, mTheta_, vTheta_, h_, c1, c2, h_.minTheta);
  adam(values_.v0, dV0, mV0_, vV0_, h_, c1, c2, -INFINITY);
}

}  // namespace fas::calibrate
