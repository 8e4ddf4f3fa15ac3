// FAS stage 1 (method section 2): the FFN activation (GPT-2 gelu_new, OPT ReLU, LLaMA's product
// silu(gate) * up) replaced by QCFS with `levels` levels and one learnable lambda per layer.
#pragma once
#include "spiking/qcfs.h"

namespace fas::train {

struct QcfsSite {
  bool enabled = false;
  int levels = 8;
  bool signedClip = false;  // two-sided clip, for LLaMA's signed product

  spiking::Qcfs at(float lambda) const { return spiking::Qcfs{lambda, levels, signedClip}; }
};

}  // namespace fas::train
