// The size table of one inference forward (forward.cpp's Scratch, SpikingFfn's spikes): what each
// work buffer holds per row, from the model's config. The forward allocates from it and the addon's
// bufferSizes reports it, so electron/core/estimate/memory.ts is checked against the very numbers
// the engine allocates (test/native/memory-sizes.test.ts), as llm.c counts memory from its tables.
#pragma once
#include <cstdint>

#include "engine/model/config.h"
#include "engine/runtime/spiking_mode.h"

namespace fas {

// Per row, in elements: floats, but int8 spikes.
struct ForwardWidths {
  int64_t x, xn, out;  // residual stream, normalised input, a block's output
  int64_t q, k, v, ctx;
  int64_t f1, f2;  // up (the site, then the activation), gate
  int64_t sited;   // scope all: a site's input, quantised off the residual stream
  int64_t words;   // project_in's input while embedding; project_out's output (fewer rows) in the head
  int64_t spikes;  // int8: snn mode of the FFN scope, the site's spikes (SpikingFfn)

  // The floats every row holds at once: the work buffers and the embedding's words, which live
  // while the others do.
  int64_t floats() const { return x + xn + out + q + k + v + ctx + f1 + f2 + sited + words; }
};

// `mode` as modeFor gives it; projected: the model has project_in / project_out.
inline ForwardWidths forwardWidths(const ModelConfig& c, bool projected, const RunMode& mode) {
  const int64_t h = c.hiddenSize, f = c.ffnSize;
  ForwardWidths w{};
  w.x = w.xn = w.out = h;
  w.q = w.ctx = c.qDim();
  w.k = w.v = c.kvDim();
  w.f1 = f;
  w.f2 = c.activation == Activation::SiluGated ? f : 0;
  w.sited = mode.layerEncoding ? h : 0;
  w.words = projected ? c.wordEmbedDim : 0;
  w.spikes = mode.ffn == FfnMode::Snn && !mode.layerEncoding ? f : 0;
  return w;
}

}  // namespace fas
