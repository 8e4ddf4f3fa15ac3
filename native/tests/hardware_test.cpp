#include "hardware.h"

#include "test.h"

TEST(hardware_reports_cores_and_model) {
  const fas::HardwareInfo hw = fas::detectHardware();
  CHECK(hw.logicalCores >= 1);
  CHECK(hw.physicalCores >= 1 && hw.physicalCores <= hw.logicalCores);
  CHECK(!hw.cpuModel.empty());
  CHECK(!hw.arch.empty());
}

TEST(hardware_cuda_status_explains_itself) {
  const fas::CudaStatus cuda = fas::detectHardware().cuda;
  // Either a usable device, or a reason why not: never a silent "no".
  CHECK(cuda.usable || !cuda.reason.empty());
  if (cuda.usable) CHECK(cuda.built && cuda.deviceCount > 0);
}
