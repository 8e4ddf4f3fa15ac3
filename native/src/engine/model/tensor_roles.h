// A model's tensors by role, resolved once from their canonical names (config.h's tensorSlots):
// as pointers to the weights in the engine (Model), as offsets into the flat parameter array in
// training (train::ParamLayout). `get` answers for a name, with its "absent" handle (nullptr, -1)
// for an optional tensor the model does not have.
#pragma once
#include <cstdint>
#include <string>

#include "engine/model/config.h"

namespace fas {

template <class H>
struct LayerTensors {
  H attnNormW, attnNormB;
  H q, qB, k, kB, v, vB, o, oB;
  H ffnNormW, ffnNormB;
  H up, upB, gate, gateB, down, downB;
};

template <class H>
struct ModelTensors {
  H tokens, positions, projectIn, projectOut, finalNormW, finalNormB;
  H head;  // embed.tokens when the head is tied
};

template <class H, class Get>
ModelTensors<H> modelTensors(const ModelConfig& config, Get get) {
  const H tokens = get("embed.tokens");
  return {tokens,
          get("embed.positions"),
          get("embed.project_in"),
          get("head.project_out"),
          get("final_norm.weight"),
          get("final_norm.bias"),
          config.tiedHead ? tokens : get("head.weight")};
}

template <class H, class Get>
LayerTensors<H> layerTensors(int64_t layer, Get get) {
  const std::string p = "layers." + std::to_string(layer) + ".";
  return {get(p + "attn_norm.weight"), get(p + "attn_norm.bias"), get(p + "attn.q.weight"),   get(p + "attn.q.bias"),
          get(p + "attn.k.weight"),    get(p + "attn.k.bias"),    get(p + "attn.v.weight"),   get(p + "attn.v.bias"),
          get(p + "attn.o.weight"),    get(p + "attn.o.bias"),    get(p + "ffn_norm.weight"), get(p + "ffn_norm.bias"),
          get(p + "ffn.up.weight"),    get(p + "ffn.up.bias"),    get(p + "ffn.gate.weight"), get(p + "ffn.gate.bias"),
          get(p + "ffn.down.weight"),  get(p + "ffn.down.bias")};
}

}  // namespace fas
