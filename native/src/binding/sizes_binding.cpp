// bufferSizes: the engine's size tables (engine/runtime/forward_sizes.h, train/model/buffer_sizes.h)
// for a model spec, per token, so the memory estimate (electron/core/estimate/memory.ts) is checked
// against what the engine really allocates (test/native/memory-sizes.test.ts).
#include <set>
#include <stdexcept>
#include <string>

#include "binding/bindings.h"
#include "binding/js_values.h"
#include "binding/model_readers.h"
#include "calibrate/site_batch.h"
#include "engine/runtime/forward_sizes.h"
#include "train/model/buffer_sizes.h"
#include "train/model/params.h"

namespace fas::binding {
namespace {

// bufferSizes(spec, { qcfsSite, timesteps? }): without timesteps, an inference forward in ann mode
// and a training graph with or without the QCFS site; with timesteps T, a forward in snn mode and the
// calibrator's student (T copies of each token through the layers, with an align target), which
// runs on the QCFS site's graph, and the calibrator's captures.
Napi::Value bufferSizes(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  const ModelSpec spec = readModelSpec(info[0]);
  if (!info[1].IsObject()) throw typeError(env, "bufferSizes needs options { qcfsSite, timesteps? }");
  const Napi::Object o = info[1].As<Napi::Object>();
  const std::string w = "bufferSizes options";
  train::QcfsSite site;
  site.enabled = boolean(field(o, w, "qcfsSite"), w + ".qcfsSite");
  const Napi::Value steps = field(o, w, "timesteps", false);
  const bool spiking = !steps.IsUndefined();
  const int64_t T = spiking ? integer(steps, w + ".timesteps", 1, kMaxTimesteps) : 1;
  if (spiking && !site.enabled) throw typeError(env, "a spiking forward runs on the QCFS site's graph: set qcfsSite");

  std::set<std::string> names;
  for (const auto& entry : spec.tensors) names.insert(entry.first);
  const ModelConfig& c = spec.config;
  train::ModelOffsets offsets;
  try {
    offsets = train::ParamLayout(c, names, site).offsets();
  } catch (const std::invalid_argument& e) {
    throw Napi::Error::New(env, e.what());
  }

  RunMode mode;
  if (spiking) mode.ffn = FfnMode::Snn, mode.timesteps = static_cast<int>(T);
  const ForwardWidths fw = forwardWidths(c, offsets.projectIn >= 0 || offsets.projectOut >= 0, mode);
  const train::TrainWidths tw = train::trainWidths(c, offsets, site, T > 1);
  const double copies = static_cast<double>(mode.copies());
  Napi::Object out = Napi::Object::New(env);
  out.Set("inferencePerToken", copies * static_cast<double>(fw.floats()));
  out.Set("spikeBytesPerToken", copies * static_cast<double>(fw.spikes));
  out.Set("keptPerToken", static_cast<double>(T * tw.keptPerRow() + tw.keptPerToken(spiking)));
  out.Set("backwardPerToken", static_cast<double>(T * tw.backwardPerRow() + tw.backwardPerToken()));
  if (spiking) {
    const calibrate::CaptureWidths cw = calibrate::captureWidths(c, static_cast<int>(T));
    out.Set("capturedPerToken", static_cast<double>(cw.target + cw.input));
    out.Set("keyValuesPerToken", static_cast<double>(cw.keys + cw.values));
  }
  return out;
}

}  // namespace

void registerSizes(Napi::Env env, Napi::Object exports) {
  exports.Set("bufferSizes", Napi::Function::New(env, bufferSizes, "bufferSizes"));
}

}  // namespace fas::binding
