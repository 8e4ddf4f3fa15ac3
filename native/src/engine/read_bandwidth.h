// The machine's memory read bandwidth on the engine's threads: the limit of a decode step, which
// reads every weight once (`fas bench` reports the decode's share of it).
#pragma once
#include "engine/threadpool.h"

namespace fas {

// Bytes per second: the best of five sweeps over a 256 MiB buffer (far past any L3), each thread
// summing its own slice as a decode step's matrix-vector products do.
double measureReadBandwidth(ThreadPool& pool);

}  // namespace fas
