// One mini-batch of one layer's FFN site, captured from the teacher (the QCFS model) and the
// student (the spiking model at T) running the same token sequences (fas-method.md section 4).
#pragma once
#include <cstdint>
#include <vector>

#include "engine/aligned.h"
#include "engine/model/config.h"
#include "spiking/neuron_param.h"

namespace fas::calibrate {

// The size table of one capture (Calibrator::capture allocates from it, the addon's bufferSizes
// reports it): floats per token of the teacher's site output, the student's site input at every
// timestep, and the keys and values of one layer (every layer's forward reuses them) for T copies.
struct CaptureWidths {
  int64_t target, input, keys, values;
};

inline CaptureWidths captureWidths(const ModelConfig& c, int T) {
  return {c.ffnSize, T * c.ffnSize, T * c.kvDim(), T * c.kvDim()};
}

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
