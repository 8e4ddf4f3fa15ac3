// The spiking FFN site on the GPU; see spiking_ffn.h.
#include <memory>
#include <vector>

#include "cuda/spiking.h"
#include "cuda/spiking_buffer.h"
#include "cuda/spiking_ffn.h"
#include "engine/ops/widen.h"

namespace fas::spiking::cuda {

namespace {

// The kernels read F32 weights: a 16-bit Wt is widened on its way to the device.
DeviceBuffer<float> uploadAsF32(WeightView w, size_t n) {
  if (w.dtype == DType::F32) return DeviceBuffer<float>(w.f32(), n);
  std::vector<float> wide(n);
  ops::widen(w, 0, int64_t(n), wide.data());
  return DeviceBuffer<float>(wide.data(), n);
}

struct DeviceLayer {
  DeviceLayer(const FfnLayer& host, int n)
      : Wt(uploadAsF32(host.down.Wt, size_t(n) * host.down.out)),
        bias(host.down.bias, host.down.bias ? size_t(host.down.out) : 0), theta(host.neuron.theta, n),
        v0(host.neuron.v0, n), out(host.down.out), signedSpikes(host.neuron.signedSpikes) {}
  DeviceBuffer<float> Wt, bias;
  DeviceParam theta, v0;
  int out;
  bool signedSpikes;
};

}  // namespace

struct DeviceFfn::Impl {
  std::vector<std::unique_ptr<DeviceLayer>> layers;
};

DeviceFfn::DeviceFfn(const std::vector<FfnLayer>& layers, int n) : impl_(std::make_unique<Impl>()) {
  for (const FfnLayer& layer : layers) impl_->layers.push_back(std::make_unique<DeviceLayer>(layer, n));
}

DeviceFfn::~DeviceFfn() = default;

void DeviceFfn::run(int layer, const float* x, const SpikeShape& sh, int sequences, int8_t* spikes, float* y) const {
  const DeviceLayer& L = *impl_->layers.at(size_t(layer));
  const size_t inPerSequence = sh.size(), outPerSequence = size_t(sh.T) * sh.rows * L.out;
  const DeviceBuffer<float> dx(x, inPerSequence * sequences);
  const DeviceBuffer<int8_t> ds(inPerSequence * sequences);
  const DeviceBuffer<float> dy(outPerSequence * sequences);
  const IfNeuron neuron{L.theta.view, L.v0.view, L.signedSpikes};
  const SpikeLinear down{L.Wt.get(), L.bias.get(), L.out, L.theta.view};
  for (int b = 0; b < sequences; ++b) {
    ifForwardDevice(dx.get() + b * inPerSequence, sh, neuron, IfOutputs{ds.get() + b * inPerSequence});
    spikeLinearEventDevice(ds.get() + b * inPerSequence, sh, down, dy.get() + b * outPerSequence);
  }
  dy.copyTo(y);  // cudaMemcpy waits for the kernels and reports their errors
  ds.copyTo(spikes);
}

}  // namespace fas::spiking::cuda
