#include "hardware.h"

#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <utility>

namespace fas {
namespace {

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t");
  const auto e = s.find_last_not_of(" \t\r\n");
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

// Linux: model name and (package, core) pairs from /proc/cpuinfo. Other systems fall back to
// the logical count for physical cores.
void readCpuInfo(HardwareInfo& hw) {
  std::ifstream in("/proc/cpuinfo");
  std::string line, physicalId = "0";
  std::set<std::pair<std::string, std::string>> cores;
  while (std::getline(in, line)) {
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    const std::string key = trim(line.substr(0, colon)), value = trim(line.substr(colon + 1));
    if ((key == "model name" || key == "Model" || key == "Hardware") && hw.cpuModel.empty()) hw.cpuModel = value;
    else if (key == "physical id") physicalId = value;
    else if (key == "core id") cores.insert({physicalId, value});
  }
  if (!cores.empty()) hw.physicalCores = static_cast<int>(cores.size());
}

}  // namespace

HardwareInfo detectHardware() {
  HardwareInfo hw;
#if defined(__x86_64__) || defined(_M_X64)
  hw.arch = "x86_64";
  __builtin_cpu_init();
  hw.avx2 = __builtin_cpu_supports("avx2");
  hw.fma = __builtin_cpu_supports("fma");
  hw.avx512 = __builtin_cpu_supports("avx512f");
#elif defined(__aarch64__)
  hw.arch = "aarch64";
  hw.neon = true;  // mandatory in AArch64
#else
  hw.arch = "other";
#endif
  hw.logicalCores = static_cast<int>(std::thread::hardware_concurrency());
  readCpuInfo(hw);
  if (hw.cpuModel.empty()) hw.cpuModel = "unknown " + hw.arch + " CPU";
  if (hw.physicalCores <= 0 || hw.physicalCores > hw.logicalCores) hw.physicalCores = hw.logicalCores;
  hw.cuda = probeCuda();
  return hw;
}

}  // namespace fas
