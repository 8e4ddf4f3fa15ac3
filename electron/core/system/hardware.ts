import os from 'node:os';
import { loadNative } from '../../../native/index.js';
import type { HardwareInfo } from '../../api/contract.js';

/** This computer as the engine sees it: the addon's CPU/SIMD/CUDA report plus memory from the OS. */
export function detectHardware(): HardwareInfo {
  const hw = loadNative().hardware();
  return {
    platform: os.platform(),
    arch: hw.arch,
    cpuModel: hw.cpuModel,
    physicalCores: hw.physicalCores,
    logicalCores: hw.logicalCores,
    simd: hw.simd,
    totalMemoryBytes: os.totalmem(),
    freeMemoryBytes: os.freemem(),
    gpu: {
      cudaBuilt: hw.cuda.built,
      usable: hw.cuda.usable,
      deviceName: hw.cuda.deviceName || null,
      deviceCount: hw.cuda.deviceCount,
      runtimeVersion: hw.cuda.runtimeVersion || null,
      reason: hw.cuda.usable ? null : hw.cuda.reason,
    },
    backend: hw.cuda.usable ? 'cuda' : 'cpu',
  };
}
