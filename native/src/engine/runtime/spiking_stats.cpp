#include "engine/runtime/spiking_stats.h"

namespace fas {

const char* const kOpCountScope =
    "MACs (4.6 pJ each): every linear layer (attention q, k, v and o; FFN up and gate; the down projection in "
    "ann and qcfs modes; project_in where the model has one) and the attention products q.k and softmax.v, "
    "each once per timestep in snn mode (T times); the vocabulary head (and project_out) once per scored "
    "position, in snn mode on the time-averaged features, which equals averaging the logits. ACs (0.9 pJ "
    "each): spikes x fan-out (hidden size) of the spike-driven down projection, whichever kernel ran it. "
    "Not counted: biases, norms, softmax, rotary embeddings, residual additions, activations and QCFS, "
    "embedding lookups, and the IF neuron updates (T per FFN neuron and position). Only the down projection "
    "is spike-driven: every other op stays dense and runs T times, so at T > 1 the spiking model costs more "
    "energy than the ANN unless that projection's saving outweighs the repetition.";

const char* const kAllSitesOpCountScope =
    "Scope all, snn mode (fas-method.md section 9): ACs (0.9 pJ each) = for every site, the sum over its values "
    "of |spike count| x fan-out: attn_in the q, k and v outputs; q the keys each query attends; v one accumulate "
    "into each attending query's context (times the heads sharing it); attn_out the hidden size; ffn_in the up "
    "(and gate) outputs; the FFN site the hidden size; head_in the vocabulary (or project_out's width). No linear "
    "layer or attention product counts as a MAC; MACs (4.6 pJ) remain only where real values meet weights: "
    "project_in, and the vocabulary head after project_out. Not counted, as in the ANN: biases, norms, softmax, "
    "rotary embeddings, SiLU and the SwiGLU product, residual additions, embedding lookups, the quantisers and "
    "the IF neuron updates. qcfs mode counts the ANN's MACs.";

namespace {

void addInto(std::vector<int64_t>& into, const std::vector<int64_t>& from) {
  if (into.empty()) into.assign(from.size(), 0);
  for (size_t i = 0; i < from.size(); ++i) into[i] += from[i];
}

}  // namespace

void RunStats::add(const RunStats& o) {
  mode = o.mode;
  tokens += o.tokens;
  ops += o.ops;
  annOps += o.annOps;
  addInto(spikes, o.spikes);
  if (neuronSpikes.empty()) neuronSpikes.resize(o.neuronSpikes.size());
  for (size_t l = 0; l < o.neuronSpikes.size(); ++l) addInto(neuronSpikes[l], o.neuronSpikes[l]);
  eventCalls += o.eventCalls;
  denseCalls += o.denseCalls;
  gpuCalls += o.gpuCalls;
  if (!o.gpuNote.empty()) gpuNote = o.gpuNote;
  if (sites.empty()) sites.resize(o.sites.size());
  for (size_t i = 0; i < o.sites.size(); ++i) sites[i] += o.sites[i];
  headIn += o.headIn;
  for (int s = 0; s < kSiteCount; ++s) siteAcs[s] += o.siteAcs[s];
  if (o.siteLevels) siteLevels = o.siteLevels;
}

double RunStats::siteFiringRate(Site site) const {
  spiking::SiteTally t = site == Site::HeadIn ? headIn : spiking::SiteTally{};
  for (size_t i = int(site); site != Site::HeadIn && i < sites.size(); i += kLayerSites) t += sites[i];
  return t.values > 0 ? t.absCount / (double(t.values) * siteLevels) : 0.0;
}

double RunStats::layerSiteFiringRate(int64_t layer) const {
  spiking::SiteTally t;
  for (int s = 0; s < kLayerSites && (layer + 1) * kLayerSites <= int64_t(sites.size()); ++s)
    t += sites[layer * kLayerSites + s];
  return t.values > 0 ? t.absCount / (double(t.values) * siteLevels) : 0.0;
}

double RunStats::firingRate(int64_t layer, int64_t ffnSize) const {
  const double slots = double(tokens) * mode.copies() * double(ffnSize);
  return slots > 0 && layer < int64_t(spikes.size()) ? double(spikes[layer]) / slots : 0.0;
}

double RunStats::neuronFiringRate(int64_t layer, int64_t neuron) const {
  const double slots = double(tokens) * mode.copies();
  return slots > 0 ? double(neuronSpikes[layer][neuron]) / slots : 0.0;
}

spiking::OpCounts forwardMacs(const ModelConfig& c, int64_t batch, int64_t seqLen, int64_t past, bool lastOnly,
                              int timesteps, bool spikingDown) {
  const double h = double(c.hiddenSize), f = double(c.ffnSize), q = double(c.qDim()), kv = double(c.kvDim());
  const double e = double(c.wordEmbedDim);
  const bool projected = c.wordEmbedDim != c.hiddenSize;
  // Per position, per timestep: the layers' linears, plus project_in.
  double linears = h * q + 2 * h * kv + q * h + (c.activation == Activation::SiluGated ? 2 : 1) * h * f;
  if (!spikingDown) linears += f * h;
  const double perPosition = double(c.numLayers) * linears + (projected ? e * h : 0.0);
  double total = perPosition * double(seqLen);
  // Attention at position p reads p + 1 keys: q.k and softmax.v, qDim MACs per key each.
  const double keys = double(seqLen) * double(past) + double(seqLen) * double(seqLen + 1) / 2;
  total += double(c.numLayers) * 2 * q * keys;
  total *= double(timesteps);
  const double scored = lastOnly ? 1.0 : double(seqLen);
  total += scored * ((projected ? h * e : 0.0) + e * double(c.vocabSize));
  return {total * double(batch), 0.0};
}

spiking::OpCounts spikeDrivenMacs(const ModelConfig& c, int64_t batch, int64_t seqLen, bool lastOnly) {
  if (c.wordEmbedDim == c.hiddenSize) return {};
  const double e = double(c.wordEmbedDim), h = double(c.hiddenSize);
  const double scored = lastOnly ? 1.0 : double(seqLen);
  return {(double(seqLen) * e * h + scored * e * double(c.vocabSize)) * double(batch), 0.0};
}

}  // namespace fas
