// FAS stage 1 (method section 2): the FFN activation (GPT-2 gelu_new, OPT ReLU, LLaMA's product
// silu(gate) * up) replaced by QCFS with `levels` levels and one learnable lambda per layer.
// With everySite (scope "all", method section 9) every input of a matrix product is quantised too:
// attn_in, q (after its bias and RoPE), v, attn_out, ffn_in and head_in, signed, with a lambda per
// channel; the FFN site then has a lambda per neuron (perNeuronFfn) or one per layer.
#pragma once
#include "spiking/qcfs.h"

namespace fas::train {

struct QcfsSite {
  bool enabled = false;
  int levels = 8;
  bool signedClip = false;  // two-sided clip, for LLaMA's signed product
  bool everySite = false;
  bool perNeuronFfn = false;  // everySite only

  spiking::Qcfs at(float lambda) const { return spiking::Qcfs{lambda, levels, signedClip}; }
};

// One site's quantiser in scope all: lambda per channel of a [rows, width] input, or one for all.
struct SiteQuant {
  int levels = 8;
  bool signedSite = true;
  bool perChannel = true;

  spiking::Qcfs at(float lambda) const { return spiking::Qcfs{lambda, levels, signedSite}; }
};

}  // namespace fas::train
