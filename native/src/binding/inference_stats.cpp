#include "binding/inference_stats.h"

namespace fas::binding {
namespace {

const char* modeName(FfnMode mode) {
  switch (mode) {
    case FfnMode::Qcfs: return "qcfs";
    case FfnMode::Snn: return "snn";
    case FfnMode::Ann: break;
  }
  return "ann";
}

}  // namespace

// InferenceStats in native/index.ts.
Napi::Object statsObject(Napi::Env env, const RunStats& s, const ModelConfig& c) {
  const double tokens = s.tokens > 0 ? double(s.tokens) : 1.0;  // per-token values of no tokens are 0
  const bool snn = s.mode.ffn == FfnMode::Snn;
  Napi::Object out = Napi::Object::New(env);
  out.Set("mode", modeName(s.mode.ffn));
  out.Set("timesteps", snn ? s.mode.timesteps : 1);
  out.Set("scope", s.mode.layerEncoding ? "all" : "ffn");
  out.Set("tokens", double(s.tokens));
  out.Set("macsPerToken", s.ops.macs / tokens);
  out.Set("acsPerToken", s.ops.acs / tokens);
  out.Set("annMacsPerToken", s.annOps.macs / tokens);
  Napi::Object energy = Napi::Object::New(env);
  energy.Set("picojoules", s.ops.picojoules() / tokens);
  energy.Set("annPicojoules", s.annOps.picojoules() / tokens);
  energy.Set("saving", s.tokens > 0 ? spiking::energySaving(s.annOps, s.ops) : 0.0);
  out.Set("energyPerToken", energy);
  Napi::Array rates = Napi::Array::New(env), spikes = Napi::Array::New(env);
  for (uint32_t l = 0; snn && l < s.spikes.size(); ++l) {
    rates.Set(l, s.firingRate(l, c.ffnSize));
    spikes.Set(l, double(s.spikes[l]));
  }
  Napi::Array sites = Napi::Array::New(env);
  if (snn && s.mode.layerEncoding) {
    for (uint32_t l = 0; l < c.numLayers; ++l) {
      rates.Set(l, s.layerSiteFiringRate(l));
      double count = 0;
      for (int k = 0; k < kLayerSites; ++k) count += s.sites[l * kLayerSites + k].absCount;
      spikes.Set(l, count);
    }
    for (int k = 0; k < kSiteCount; ++k) {
      Napi::Object site = Napi::Object::New(env);
      site.Set("site", siteName(Site(k)));
      site.Set("firingRate", s.siteFiringRate(Site(k)));
      Napi::Array perLayer = Napi::Array::New(env);
      for (uint32_t l = 0; Site(k) != Site::HeadIn && l < c.numLayers; ++l) {
        const spiking::SiteTally& t = s.sites[l * kLayerSites + k];
        perLayer.Set(l, t.values > 0 ? t.absCount / (double(t.values) * s.siteLevels) : 0.0);
      }
      site.Set("layerFiringRates", perLayer);
      site.Set("acsPerToken", s.siteAcs[k] / tokens);
      site.Set("picojoulesPerToken", s.siteAcs[k] * spiking::kAcPicojoules / tokens);
      sites.Set(uint32_t(k), site);
    }
  }
  out.Set("sites", sites);
  out.Set("firingRates", rates);
  out.Set("spikes", spikes);
  if (snn && !s.neuronSpikes.empty()) {
    Napi::Array layers = Napi::Array::New(env, s.neuronSpikes.size());
    for (uint32_t l = 0; l < s.neuronSpikes.size(); ++l) {
      Napi::Float32Array r = Napi::Float32Array::New(env, c.ffnSize);
      float* data = r.Data();
      for (int64_t i = 0; i < c.ffnSize; ++i) data[i] = static_cast<float>(s.neuronFiringRate(l, i));
      layers.Set(l, r);
    }
    out.Set("neuronFiringRates", layers);
  } else {
    out.Set("neuronFiringRates", env.Null());
  }
  Napi::Object down = Napi::Object::New(env);
  down.Set("event", double(s.eventCalls));
  down.Set("dense", double(s.denseCalls));
  down.Set("gpu", double(s.gpuCalls));
  out.Set("downProjection", down);
  out.Set("backend", s.gpuCalls > 0 ? "cuda" : "cpu");
  out.Set("backendNote", s.gpuNote);
  out.Set("counted", s.mode.layerEncoding && snn ? kAllSitesOpCountScope : kOpCountScope);
  return out;
}

}  // namespace fas::binding
