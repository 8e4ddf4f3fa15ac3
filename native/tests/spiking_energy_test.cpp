#include "spiking/energy.h"
#include "test.h"

using namespace fas::spiking;

TEST(spiking_energy_counts_hand_computed) {
  const OpCounts ann = denseLinearOps(2, 3, 4);  // 2 rows, 3 -> 4: 24 MACs
  CHECK(ann.macs == 24 && ann.acs == 0);
  CHECK_NEAR(ann.picojoules(), 24 * 4.6, 1e-9);
  CHECK(denseLinearOps(2, 3, 4, 8).macs == 192);  // a dense op repeated at T = 8

  // 2 timesteps x 1 row x 3 inputs, 3 nonzero spikes (one of them -1), fan-out 4: 12 ACs.
  const int8_t spikes[6] = {1, 0, -1, 0, 1, 0};
  CHECK(countSpikes(spikes, 6) == 3);
  CHECK(firingRate(spikes, 6) == 0.5);
  CHECK(firingRate(spikes, 0) == 0.0);
  const OpCounts spiking = spikeLinearOps(spikes, 6, 4);
  CHECK(spiking.macs == 0 && spiking.acs == 12);
  CHECK_NEAR(spiking.picojoules(), 12 * 0.9, 1e-9);

  OpCounts snn = denseLinearOps(1, 2, 2, 2);  // 8 MACs that stayed dense, at T = 2
  snn += spiking;
  CHECK_NEAR(snn.picojoules(), 8 * 4.6 + 12 * 0.9, 1e-9);  // 47.6 pJ against the ANN's 110.4
  CHECK_NEAR(energySaving(ann, snn), 1.0 - 47.6 / 110.4, 1e-12);
  CHECK(energySaving(ann, denseLinearOps(2, 3, 4, 2)) == -1.0);  // dense at T = 2 costs twice the ANN
}
