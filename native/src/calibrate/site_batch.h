// One mini-batch of one layer's FFN site, captured from the teacher (the QCFS model) and the
// student (the spiking model at T) running the same token sequences (fas-method.md section 4).
#pragma once
#include <cstdint>
#include <vector>

#include "engine/aligned.h"
#include "spiking/neuron_param.h"

namespace fas::calibrate {

struct SiteBatch {
  int64_t sequences = 0, seqLen = 0, n = 0;
  int T = 1;
  FloatVector target;  // [sequences, seqLen, n]: the teacher's QCFS output, what the neurons must match
  FloatVector input;   // [sequences, T, seqLen, n]: the student's site input at every timestep

  // One sequence's block of `input`: its positions start at 0.
  spiking::SpikeShape shape() const { return {T, static_cast<int>(seqLen), static_cast<int>(n), 0}; }
  size_t tokens() const { return static_cast<size_t>(sequences * seqLen); }
};

}  // namespace fas::calibrate
