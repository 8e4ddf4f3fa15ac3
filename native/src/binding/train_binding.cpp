// createTrainer and NativeTrainer: the JS face of train/trainer.h (typed in native/index.ts).
// Loading, forwardBackward, optimizerStep and evaluate run on libuv's worker threads; one call at a
// time per trainer (a second one is rejected with "the trainer is busy", so gradients are always
// accumulated in the order the caller chose). Tensors cross into JS as copies in JS-owned memory.
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "binding/bindings.h"
#include "binding/factory.h"
#include "binding/js_results.h"
#include "binding/js_values.h"
#include "binding/model_readers.h"
#include "binding/promise_worker.h"
#include "engine/model/loader.h"
#include "hardware.h"
#include "train/trainer.h"

namespace fas::binding {
namespace {

using train::Trainer;

// ---- Reading JS values --------------------------------------------------------------------------

// { qcfs?: { levels, initialLambda, signed, everySite?, perNeuronFfn? } | null, threads?: number }
train::TrainerOptions trainerOptions(const Napi::Value& v) {
  train::TrainerOptions options;
  options.threads = std::max(1, detectHardware().physicalCores);
  if (v.IsUndefined() || v.IsNull()) return options;
  if (!v.IsObject()) throw typeError(v.Env(), "createTrainer options must be an object");
  const Napi::Object o = v.As<Napi::Object>();
  const Napi::Value qcfs = field(o, "options", "qcfs", false);
  if (!qcfs.IsUndefined() && !qcfs.IsNull()) {
    if (!qcfs.IsObject()) throw typeError(v.Env(), "options.qcfs must be an object or null");
    const Napi::Object q = qcfs.As<Napi::Object>();
    const std::string w = "options.qcfs";
    options.qcfs = train::QcfsOptions{static_cast<int>(integer(field(q, w, "levels"), w + ".levels", 1, 1 << 16)),
                                      static_cast<float>(number(field(q, w, "initialLambda"), w + ".initialLambda")),
                                      boolean(field(q, w, "signed"), w + ".signed")};
    const auto flag = [&](const char* key) {
      const Napi::Value f = field(q, w, key, false);
      return !f.IsUndefined() && boolean(f, w + "." + key);
    };
    options.qcfs->everySite = flag("everySite");
    options.qcfs->perNeuronFfn = flag("perNeuronFfn");
    if (options.qcfs->perNeuronFfn && !options.qcfs->everySite) {
      throw typeError(v.Env(), "options.qcfs.perNeuronFfn needs everySite: the FFN scope has one lambda per layer");
    }
  }
  const Napi::Value threads = field(o, "options", "threads", false);
  if (!threads.IsUndefined()) options.threads = static_cast<int>(integer(threads, "options.threads", 1, 1024));
  return options;
}

// The token batch of forwardBackward/evaluate, copied: JS may touch its arrays while the work runs.
struct BatchCopy {
  std::vector<int32_t> inputs, targets;
  std::vector<uint8_t> mask;  // empty: every target counts
  int64_t batch = 0, seqLen = 0;

  train::TokenBatch view() const {
    return train::TokenBatch{inputs.data(), targets.data(), mask.empty() ? nullptr : mask.data(), batch, seqLen};
  }
};

// (inputs, targets, batch, seqLen) at info[0..3], the mask at info[maskAt] when given.
BatchCopy batchCopy(const Napi::CallbackInfo& info, size_t maskAt) {
  const Napi::Env env = info.Env();
  BatchCopy b;
  b.inputs = copyOf(int32Array(info[0], "inputs"));
  b.targets = copyOf(int32Array(info[1], "targets"));
  b.batch = integer(info[2], "batch", 1, kMaxInt);
  b.seqLen = integer(info[3], "seqLen", 1, kMaxInt);
  const size_t n = static_cast<size_t>(b.batch * b.seqLen);
  if (b.inputs.size() != n || b.targets.size() != n) {
    throw typeError(env, "inputs and targets need batch * seqLen = " + std::to_string(n) + " entries, got " +
                             std::to_string(b.inputs.size()) + " and " + std::to_string(b.targets.size()));
  }
  if (info.Length() > maskAt && !info[maskAt].IsUndefined()) {
    const Napi::Uint8Array m = uint8Array(info[maskAt], "mask");
    if (m.ElementLength() != n) throw typeError(env, "mask needs batch * seqLen = " + std::to_string(n) + " entries");
    b.mask.assign(m.Data(), m.Data() + n);
  }
  return b;
}

train::StepHyper stepHyper(const Napi::Value& v) {
  if (!v.IsObject()) throw typeError(v.Env(), "optimizerStep needs a hyper-parameter object");
  const Napi::Object o = v.As<Napi::Object>();
  const std::string w = "hyper";
  const Napi::Object l = object(field(o, w, "lr"), "hyper.lr");
  const auto num = [&](const Napi::Object& from, const std::string& where, const char* key) {
    return number(field(from, where, key), where + "." + key);
  };
  return train::StepHyper{num(l, "hyper.lr", "decay"),
                          num(l, "hyper.lr", "noDecay"),
                          num(l, "hyper.lr", "threshold"),
                          num(o, w, "weightDecay"),
                          num(o, w, "beta1"),
                          num(o, w, "beta2"),
                          num(o, w, "eps"),
                          num(o, w, "clipNorm")};
}

class NativeTrainer : public Napi::ObjectWrap<NativeTrainer> {
 public:
  static Napi::Function define(Napi::Env env) {
    return DefineClass(
        env, "NativeTrainer",
        {InstanceMethod<&NativeTrainer::forwardBackward>("forwardBackward"),
         InstanceMethod<&NativeTrainer::optimizerStep>("optimizerStep"),
         InstanceMethod<&NativeTrainer::evaluate>("evaluate"), InstanceMethod<&NativeTrainer::parameters>("parameters"),
         InstanceMethod<&NativeTrainer::getTensor>("getTensor"), InstanceMethod<&NativeTrainer::setTensor>("setTensor"),
         InstanceMethod<&NativeTrainer::getOptimizerState>("getOptimizerState"),
         InstanceMethod<&NativeTrainer::setOptimizerState>("setOptimizerState"),
         InstanceMethod<&NativeTrainer::abort>("abort"), InstanceMethod<&NativeTrainer::dispose>("dispose")});
  }

  explicit NativeTrainer(const Napi::CallbackInfo& info)
      : Napi::ObjectWrap<NativeTrainer>(info),
        trainer_(external<Trainer>(info, "NativeTrainer is created by createTrainer()"), "trainer") {}

 private:
  Trainer& idle(Napi::Env env) const { return trainer_.idle(env); }

  // Read by the worker thread between the passes of forwardBackward: safe while a call is in flight.
  void abort(const Napi::CallbackInfo&) {
    if (Trainer* t = trainer_.get()) t->abortFlag() = true;
  }

  Napi::Value forwardBackward(const Napi::CallbackInfo& info) {
    return promiseOf(info.Env(), [&] {
      return trainer_.start(
          info.Env(), [batch = batchCopy(info, 4)](Trainer& t) { return t.forwardBackward(batch.view()); },
          [](Napi::Env env, const train::LossSum& loss) {
            Napi::Object out = Napi::Object::New(env);
            out.Set("loss", loss.tokens > 0 ? loss.sum / static_cast<double>(loss.tokens) : 0.0);
            out.Set("tokens", static_cast<double>(loss.tokens));
            return out;
          });
    });
  }

  Napi::Value evaluate(const Napi::CallbackInfo& info) {
    return promiseOf(info.Env(), [&] {
      const auto mode =
          choice<train::EvalMode>(info[4], "mode", {{"ann", train::EvalMode::Ann}, {"qcfs", train::EvalMode::Qcfs}});
      return trainer_.start(
          info.Env(), [batch = batchCopy(info, 5), mode](Trainer& t) { return t.evaluate(batch.view(), mode); },
          [](Napi::Env env, const train::LossSum& loss) {
            Napi::Object out = Napi::Object::New(env);
            out.Set("lossSum", loss.sum);
            out.Set("tokens", static_cast<double>(loss.tokens));
            return out;
          });
    });
  }

  Napi::Value optimizerStep(const Napi::CallbackInfo& info) {
    return promiseOf(info.Env(), [&] {
      return trainer_.start(
          info.Env(), [hyper = stepHyper(info[0])](Trainer& t) { return t.optimizerStep(hyper); },
          [](Napi::Env env, const train::StepResult& r) {
            Napi::Object out = Napi::Object::New(env);
            out.Set("gradNorm", r.gradNorm);
            out.Set("applied", r.applied);
            return out;
          });
    });
  }

  Napi::Value parameters(const Napi::CallbackInfo& info) {
    const Napi::Env env = info.Env();
    const auto& params = idle(env).parameters();
    Napi::Array out = Napi::Array::New(env, params.size());
    for (size_t i = 0; i < params.size(); ++i) {
      Napi::Object p = Napi::Object::New(env);
      p.Set("name", params[i].name);
      Napi::Array shape = Napi::Array::New(env, params[i].shape.size());
      for (size_t d = 0; d < params[i].shape.size(); ++d) shape.Set(d, static_cast<double>(params[i].shape[d]));
      p.Set("shape", shape);
      p.Set("group", train::groupName(params[i].group));
      out.Set(i, p);
    }
    return out;
  }

  Napi::Value getTensor(const Napi::CallbackInfo& info) {
    Trainer& t = idle(info.Env());
    const std::string name = string(info[0], "name");
    return toTypedArray(info.Env(), guarded(info.Env(), [&] { return t.tensor(name); }));
  }

  void setTensor(const Napi::CallbackInfo& info) {
    Trainer& t = idle(info.Env());
    const std::string name = string(info[0], "name");
    const Napi::Float32Array data = float32Array(info[1], "data");
    guarded(info.Env(), [&] { t.setTensor(name, data.Data(), static_cast<int64_t>(data.ElementLength())); });
  }

  Napi::Value getOptimizerState(const Napi::CallbackInfo& info) {
    const Napi::Env env = info.Env();
    const train::OptimizerState s = guarded(env, [&] { return idle(env).optimizerState(); });
    const auto moments = [&](const std::map<std::string, std::vector<float>>& values) {
      Napi::Object out = Napi::Object::New(env);
      for (const auto& [name, v] : values) out.Set(name, toTypedArray(env, v));
      return out;
    };
    Napi::Object out = Napi::Object::New(env);
    out.Set("step", static_cast<double>(s.step));
    out.Set("m", moments(s.m));
    out.Set("v", moments(s.v));
    return out;
  }

  void setOptimizerState(const Napi::CallbackInfo& info) {
    const Napi::Env env = info.Env();
    Trainer& t = idle(env);
    if (!info[0].IsObject()) throw typeError(env, "setOptimizerState needs { step, m, v }");
    const Napi::Object o = info[0].As<Napi::Object>();
    train::OptimizerState s;
    s.step = integer(field(o, "state", "step"), "state.step", 0, kMaxSafe);
    const auto moments = [&](const char* key, std::map<std::string, std::vector<float>>& out) {
      const std::string where = std::string("state.") + key;
      const Napi::Object values = object(field(o, "state", key), where);
      for (const std::string& name : keys(values)) {
        out[name] = copyOf(float32Array(values.Get(name), where + "['" + name + "']"));
      }
    };
    moments("m", s.m);
    moments("v", s.v);
    guarded(env, [&] { t.setOptimizerState(s); });
  }

  // Frees the parameters, gradients and optimizer state now; later calls throw.
  void dispose(const Napi::CallbackInfo& info) { trainer_.dispose(info.Env()); }

  ExclusiveObject<Trainer> trainer_;
};

Napi::Value createTrainer(const Napi::CallbackInfo& info) {
  // The model is only read while its weights are copied; its file mappings go with it.
  return createFromSpec<Trainer>(info, trainerOptions, [](const ModelSpec& spec, const train::TrainerOptions& options) {
    return std::make_unique<Trainer>(*loadModel(spec), options);
  });
}

}  // namespace

void registerTrain(Napi::Env env, Napi::Object exports) {
  exportFactory(env, exports, "createTrainer", NativeTrainer::define(env), createTrainer);
}

}  // namespace fas::binding
