// createCalibrator and NativeCalibrator: the JS face of calibrate/calibrator.h (typed in
// native/index.ts). The passes run on libuv's worker threads, one call at a time per calibrator (a
// second is rejected with "the calibrator is busy"); abort() stops the call in flight between
// batches or layers, and it rejects with "aborted".
#include <cmath>
#include <memory>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "binding/bindings.h"
#include "binding/factory.h"
#include "binding/js_results.h"
#include "binding/js_values.h"
#include "binding/model_readers.h"
#include "binding/promise_worker.h"
#include "calibrate/calibrator.h"
#include "engine/runtime/forward.h"

namespace fas::binding {
namespace {

using calibrate::Calibrator;

// { levels, lambdas, signed, timesteps }
struct CalibratorOptions {
  SpikingParams params;
  int timesteps = 8;
};

CalibratorOptions calibratorOptions(const Napi::Value& v) {
  if (!v.IsObject()) throw typeError(v.Env(), "createCalibrator needs an options object");
  const Napi::Object o = v.As<Napi::Object>();
  const std::string w = "options";
  CalibratorOptions out;
  out.params.levels = static_cast<int>(integer(field(o, w, "levels"), w + ".levels", 1, 1 << 16));
  out.params.lambdas = floats(field(o, w, "lambdas"), w + ".lambdas");
  out.params.signedSpikes = boolean(field(o, w, "signed"), w + ".signed");
  out.timesteps = static_cast<int>(integer(field(o, w, "timesteps"), w + ".timesteps", 1, kMaxTimesteps));
  out.params.timesteps = out.timesteps;
  return out;
}

Napi::Object neuronObject(Napi::Env env, const NeuronValues& v, int64_t ffn) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("threshold", toTypedArray(env, v.threshold));
  out.Set("v0", toTypedArray(env, v.v0));
  Napi::Array shape = Napi::Array::New(env);
  if (v.positions > 0) {
    shape.Set(0u, static_cast<double>(v.positions));
    shape.Set(1u, static_cast<double>(ffn));
  } else {
    shape.Set(0u, static_cast<double>(v.threshold.size()));
  }
  out.Set("shape", shape);
  return out;
}

class NativeCalibrator : public Napi::ObjectWrap<NativeCalibrator> {
 public:
  static Napi::Function define(Napi::Env env) {
    return DefineClass(
        env, "NativeCalibrator",
        {InstanceMethod<&NativeCalibrator::setData>("setData"),
         InstanceMethod<&NativeCalibrator::getNeurons>("getNeurons"),
         InstanceMethod<&NativeCalibrator::setNeurons>("setNeurons"),
         InstanceMethod<&NativeCalibrator::alignLoss>("alignLoss"), InstanceMethod<&NativeCalibrator::coarse>("coarse"),
         InstanceMethod<&NativeCalibrator::startFine>("startFine"),
         InstanceMethod<&NativeCalibrator::fineEpoch>("fineEpoch"),
         InstanceMethod<&NativeCalibrator::startJoint>("startJoint"),
         InstanceMethod<&NativeCalibrator::jointEpoch>("jointEpoch"),
         InstanceMethod<&NativeCalibrator::evaluate>("evaluate"), InstanceMethod<&NativeCalibrator::abort>("abort"),
         InstanceMethod<&NativeCalibrator::dispose>("dispose")});
  }

  explicit NativeCalibrator(const Napi::CallbackInfo& info)
      : Napi::ObjectWrap<NativeCalibrator>(info),
        calibrator_(external<Calibrator>(info, "NativeCalibrator is created by createCalibrator()"), "calibrator") {}

 private:
  Calibrator& idle(Napi::Env env) const { return calibrator_.idle(env); }

  // Runs work(calibrator) off the JS thread, the calibrator busy until the promise settles.
  template <typename Work, typename Result>
  Napi::Value start(Napi::Env env, Work work, Result result) {
    idle(env).abortFlag() = false;  // an abort() from now on stops this call
    return calibrator_.start(env, std::move(work), std::move(result));
  }

  int64_t layerArg(const Napi::CallbackInfo& info, Calibrator& c) const {
    return integer(info[0], "layer", 0, c.model().config.numLayers - 1);
  }

  // setData(ids, sequences, seqLen, batch)
  void setData(const Napi::CallbackInfo& info) {
    Calibrator& c = idle(info.Env());
    calibrate::CalibrationSet set;
    set.ids = copyOf(int32Array(info[0], "ids"));
    set.sequences = integer(info[1], "sequences", 1, kMaxInt);
    set.seqLen = integer(info[2], "seqLen", 1, kMaxInt);
    set.batch = integer(info[3], "batch", 1, kMaxInt);
    guarded(info.Env(), [&] { c.setData(std::move(set)); });
  }

  Napi::Value getNeurons(const Napi::CallbackInfo& info) {
    Calibrator& c = idle(info.Env());
    return neuronObject(info.Env(), c.neurons(layerArg(info, c)), c.model().config.ffnSize);
  }

  void setNeurons(const Napi::CallbackInfo& info) {
    Calibrator& c = idle(info.Env());
    const int64_t layer = layerArg(info, c);
    NeuronValues values = neuronValues(info[1], "values");
    guarded(info.Env(), [&] { c.setNeurons(layer, std::move(values)); });
  }

  Napi::Value alignLoss(const Napi::CallbackInfo& info) {
    return promiseOf(info.Env(), [&] {
      const int64_t layer = layerArg(info, idle(info.Env()));
      return start(
          info.Env(), [layer](Calibrator& c) { return c.alignLoss(layer); },
          [](Napi::Env env, double loss) { return Napi::Number::New(env, loss); });
    });
  }

  // coarse(layer, { choice }?): choice 'search' (the default) or 'reference'.
  Napi::Value coarse(const Napi::CallbackInfo& info) {
    return promiseOf(info.Env(), [&] {
      const int64_t layer = layerArg(info, idle(info.Env()));
      calibrate::CoarseChoice choice = calibrate::CoarseChoice::Search;
      if (info.Length() > 1 && !info[1].IsUndefined()) {
        if (!info[1].IsObject()) throw typeError(info.Env(), "coarse options must be an object { choice }");
        const Napi::Value c = field(info[1].As<Napi::Object>(), "options", "choice", false);
        if (!c.IsUndefined()) {
          choice = binding::choice<calibrate::CoarseChoice>(
              c, "options.choice",
              {{"search", calibrate::CoarseChoice::Search}, {"reference", calibrate::CoarseChoice::ReferenceStart}});
        }
      }
      return start(
          info.Env(), [layer, choice](Calibrator& c) { return c.coarse(layer, choice); },
          [](Napi::Env env, const calibrate::CoarseResult& r) -> Napi::Value {
            Napi::Object out = Napi::Object::New(env);
            out.Set("theta", r.best.theta);
            out.Set("v0", r.best.v0);
            out.Set("loss", r.loss);
            out.Set("startLoss", r.startLoss);
            out.Set("referenceLoss", r.referenceLoss);
            out.Set("candidates", r.candidates);
            return out;
          });
    });
  }

  // The { positions, lr } options of startFine and startJoint.
  static std::pair<int64_t, calibrate::AdamHyper> passOptions(const Napi::Value& v, const Calibrator& c,
                                                              const char* method) {
    if (!v.IsObject()) throw typeError(v.Env(), std::string(method) + " needs options { positions, lr }");
    const Napi::Object o = v.As<Napi::Object>();
    const int64_t positions =
        integer(field(o, "options", "positions"), "options.positions", 0, c.model().config.maxPositions);
    calibrate::AdamHyper hyper;
    hyper.lr = static_cast<float>(number(field(o, "options", "lr"), "options.lr"));
    if (!(hyper.lr > 0.0f)) throw typeError(v.Env(), "options.lr must be > 0");
    return {positions, hyper};
  }

  // startFine(layer, { positions, lr })
  Napi::Value startFine(const Napi::CallbackInfo& info) {
    return promiseOf(info.Env(), [&] {
      Calibrator& c = idle(info.Env());
      const int64_t layer = layerArg(info, c);
      const auto [positions, hyper] = passOptions(info[1], c, "startFine");
      return start(
          info.Env(), [layer, positions, hyper](Calibrator& cal) { cal.startFine(layer, positions, hyper); },
          [](Napi::Env env) { return env.Undefined(); });
    });
  }

  Napi::Value fineEpoch(const Napi::CallbackInfo& info) {
    return promiseOf(info.Env(), [&] {
      const int64_t layer = layerArg(info, idle(info.Env()));
      return start(
          info.Env(), [layer](Calibrator& c) { return c.fineEpoch(layer); },
          [](Napi::Env env, const calibrate::FineEpoch& e) -> Napi::Value {
            Napi::Object out = Napi::Object::New(env);
            out.Set("trainLoss", e.trainLoss);
            out.Set("loss", e.loss);
            return out;
          });
    });
  }

  // startJoint({ positions, lr, alignWeight, klReduction? })
  Napi::Value startJoint(const Napi::CallbackInfo& info) {
    return promiseOf(info.Env(), [&] {
      Calibrator& c = idle(info.Env());
      calibrate::JointHyper hyper;
      std::tie(hyper.positions, hyper.adam) = passOptions(info[0], c, "startJoint");
      const Napi::Object o = info[0].As<Napi::Object>();
      hyper.alignWeight = static_cast<float>(number(field(o, "options", "alignWeight"), "options.alignWeight"));
      if (!(hyper.alignWeight >= 0.0f)) throw typeError(info.Env(), "options.alignWeight must be >= 0");
      const Napi::Value reduction = field(o, "options", "klReduction", false);
      if (!reduction.IsUndefined()) {
        hyper.klReduction = choice<calibrate::KlReduction>(
            reduction, "options.klReduction",
            {{"position", calibrate::KlReduction::PerPosition}, {"batchmean", calibrate::KlReduction::BatchMean}});
      }
      return start(
          info.Env(), [hyper](Calibrator& cal) { cal.startJoint(hyper); },
          [](Napi::Env env) { return env.Undefined(); });
    });
  }

  Napi::Value jointEpoch(const Napi::CallbackInfo& info) {
    return promiseOf(info.Env(), [&] {
      idle(info.Env());
      return start(
          info.Env(), [](Calibrator& c) { return c.jointEpoch(); },
          [](Napi::Env env, const calibrate::JointEpoch& e) -> Napi::Value {
            Napi::Object out = Napi::Object::New(env);
            out.Set("kl", e.kl);
            out.Set("align", e.align);
            return out;
          });
    });
  }

  // evaluate(inputs, targets, batch, seqLen)
  Napi::Value evaluate(const Napi::CallbackInfo& info) {
    return promiseOf(info.Env(), [&] {
      idle(info.Env());
      std::vector<int32_t> inputs = copyOf(int32Array(info[0], "inputs"));
      std::vector<int32_t> targets = copyOf(int32Array(info[1], "targets"));
      const int64_t batch = integer(info[2], "batch", 1, kMaxInt), seqLen = integer(info[3], "seqLen", 1, kMaxInt);
      if (static_cast<int64_t>(inputs.size()) != batch * seqLen || targets.size() != inputs.size()) {
        throw typeError(info.Env(),
                        "inputs and targets need batch * seqLen = " + std::to_string(batch * seqLen) + " entries");
      }
      return start(
          info.Env(),
          [inputs = std::move(inputs), targets = std::move(targets), batch, seqLen](Calibrator& c) {
            return c.evaluate(inputs.data(), targets.data(), batch, seqLen);
          },
          [](Napi::Env env, const calibrate::LogitsComparison& r) -> Napi::Value {
            Napi::Object out = Napi::Object::New(env);
            out.Set("teacherNll", r.teacherNll);
            out.Set("studentNll", r.studentNll);
            out.Set("kl", r.kl);
            out.Set("tokens", static_cast<double>(r.tokens));
            return out;
          });
    });
  }

  void abort(const Napi::CallbackInfo&) {
    if (Calibrator* c = calibrator_.get()) c->abortFlag() = true;
  }

  void dispose(const Napi::CallbackInfo& info) { calibrator_.dispose(info.Env()); }

  ExclusiveObject<Calibrator> calibrator_;
};

Napi::Value createCalibrator(const Napi::CallbackInfo& info) {
  return createFromSpec<Calibrator>(info, calibratorOptions, [](const ModelSpec& spec, CalibratorOptions& options) {
    return std::make_unique<Calibrator>(loadModel(spec), std::move(options.params), options.timesteps, enginePool());
  });
}

}  // namespace

void registerCalibrate(Napi::Env env, Napi::Object exports) {
  exportFactory(env, exports, "createCalibrator", NativeCalibrator::define(env), createCalibrator);
}

}  // namespace fas::binding
