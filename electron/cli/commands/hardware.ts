import type { Command } from 'commander';
import type { HardwareInfo } from '../../api/contract.js';
import type { AppCore } from '../../core/app-core.js';
import { formatBytes } from '../../shared/format.js';

export function registerHardwareCommand(program: Command, core: () => AppCore): void {
  program
    .command('hardware')
    .description('Show this computer: CPU, SIMD features, memory, and whether a CUDA GPU can be used')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const hw = await core().call('system.hardware', {});
      console.log(opts.json ? JSON.stringify(hw, null, 2) : describeHardware(hw));
    });
}

export function describeHardware(hw: HardwareInfo): string {
  const simd = Object.entries(hw.simd)
    .filter(([, on]) => on)
    .map(([name]) => name.toUpperCase());
  const gpu = hw.gpu.usable ? `${hw.gpu.deviceName} (CUDA ${hw.gpu.runtimeVersion})` : `not used: ${hw.gpu.reason}`;
  return [
    `CPU      ${hw.cpuModel} (${hw.arch}, ${hw.physicalCores} cores, ${hw.logicalCores} threads)`,
    `SIMD     ${simd.length ? simd.join(', ') : 'none detected'}`,
    `Memory   ${formatBytes(hw.totalMemoryBytes)} total, ${formatBytes(hw.freeMemoryBytes)} free`,
    `GPU      ${gpu}`,
    `Backend  ${hw.backend.toUpperCase()}`,
  ].join('\n');
}
