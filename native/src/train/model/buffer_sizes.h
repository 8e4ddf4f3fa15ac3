// The size table of a training graph (transformer.h): what each buffer its forward keeps for
// backward, and each buffer its backward works in, holds per row (batch x T x seqLen rows run
// through the layers, T copies in a spiking forward) or per token (batch x seqLen through the head),
// in floats, from the model's config, tensors and FFN site. Transformer allocates from it and the
// addon's bufferSizes reports it, so electron/core/estimate/memory.ts is checked against the very
// numbers the trainer and the calibrator's joint pass allocate (test/native/memory-sizes.test.ts).
#pragma once
#include <cstdint>

#include "engine/model/config.h"
#include "train/model/params.h"
#include "train/model/qcfs_site.h"

namespace fas::train {

// One layer's kept tensors, per row (transformer.h's Layer).
struct LayerWidths {
  int64_t attnIn, q, k, v, ctx, attnSum, ffnIn, up, gate, site, act, ffnSum;
  int64_t attnInQ, qRaw, vRaw, ctxRaw, ffnInQ;  // scope all

  int64_t total() const {
    return attnIn + q + k + v + ctx + attnSum + ffnIn + up + gate + site + act + ffnSum + attnInQ + qRaw + vRaw +
           ctxRaw + ffnInQ;
  }
};

struct TrainWidths {
  int64_t layers;
  LayerWidths layer;
  // Kept, per row: the token embeddings before project_in, the residual stream (layers + 1 of it),
  // the final norm's output.
  int64_t words, stream, normed;
  // Kept, per token: the features averaged over T (spiking), scope all's quantised head input,
  // project_out's output; per token and layer, the align gradient of a spiking forward with an align
  // target (dMean).
  int64_t averaged, headInQ, projected, dMean;
  // Backward, per row.
  int64_t dx, dh, dq, dctx, dk, dv, dact, dup, dgate, dsite, dwide;
  int64_t dqRaw, dvRaw, dctxRaw, dquantised;  // scope all
  int64_t daveraged;                          // per token

  int64_t keptPerRow() const { return words + (layers + 1) * stream + normed + layers * layer.total(); }
  // The logits [tokens, vocab] aside (their gradient reuses them); dMean only with an align target.
  int64_t keptPerToken(bool align) const { return averaged + headInQ + projected + (align ? layers * dMean : 0); }
  int64_t backwardPerRow() const {
    return dx + dh + dq + dctx + dk + dv + dact + dup + dgate + dsite + dwide + dqRaw + dvRaw + dctxRaw + dquantised;
  }
  int64_t backwardPerToken() const { return daveraged; }
};

// spiking: T copies of every sequence run through the layers (forwardSpiking with T > 1).
inline TrainWidths trainWidths(const ModelConfig& c, const ModelOffsets& o, const QcfsSite& site, bool spiking) {
  const int64_t h = c.hiddenSize, f = c.ffnSize, q = c.qDim(), kv = c.kvDim(), e = c.wordEmbedDim;
  const bool gated = c.activation == Activation::SiluGated, all = site.everySite;
  const bool projected = o.projectIn >= 0 || o.projectOut >= 0;
  TrainWidths w{};
  w.layers = c.numLayers;
  LayerWidths& L = w.layer;
  L.attnIn = c.preNorm ? h : 0;  // post-norm reads the layer input itself
  L.q = L.ctx = q;
  L.k = L.v = kv;
  L.attnSum = L.ffnIn = h;
  L.up = L.act = f;
  L.gate = gated ? f : 0;
  L.site = gated && site.enabled ? f : 0;  // silu(gate) * up, the QCFS input
  L.ffnSum = c.preNorm ? 0 : h;
  L.attnInQ = L.ffnInQ = all ? h : 0;
  L.qRaw = L.ctxRaw = all ? q : 0;
  L.vRaw = all ? kv : 0;
  w.words = o.projectIn >= 0 ? e : 0;
  w.stream = h;
  w.normed = o.finalNormW >= 0 ? h : 0;
  w.averaged = spiking ? h : 0;
  w.headInQ = all ? h : 0;
  w.projected = o.projectOut >= 0 ? e : 0;
  w.dMean = f;  // allocated by a spiking forward with an align target only
  w.dx = w.dh = h;
  w.dq = w.dctx = q;
  w.dk = w.dv = kv;
  w.dact = w.dup = f;
  w.dgate = gated ? f : 0;
  w.dsite = gated && site.enabled ? f : 0;
  w.dwide = projected ? e : 0;
  w.dqRaw = w.dctxRaw = all ? q : 0;
  w.dvRaw = all ? kv : 0;
  w.dquantised = all ? h : 0;
  w.daveraged = w.averaged;
  return w;
}

}  // namespace fas::train
