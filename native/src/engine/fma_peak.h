// The machine's arithmetic peak on the engine's threads: the limit of the products that bind a
// prefill and a training step (`fas bench` reports their share of it, as it reports the decode's
// share of the read bandwidth).
#pragma once
#include "engine/threadpool.h"

namespace fas {

// Floating-point operations per second (a fused multiply-add counts two) of every thread running
// independent multiply-adds on the widest vectors of the ISA the kernels use: the best of 20 runs.
double measureFmaPeak(ThreadPool& pool);

}  // namespace fas
