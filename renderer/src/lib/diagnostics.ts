// "Copy diagnostics": what a person can paste into a bug report, with nothing to look up by hand.
import type { FasApi, HardwareInfo } from '../../../electron/api/contract';
import { formatBytes } from '../../../electron/shared/format';

export interface ProblemReport {
  message: string;
  /** What was being done, e.g. "Opening a model folder". */
  doing: string;
  /** Anything else that helps: a job id, the settings used. */
  details?: Record<string, unknown>;
}

function hardwareSummary(hw: HardwareInfo) {
  return {
    platform: `${hw.platform} ${hw.arch}`,
    cpu: hw.cpuModel,
    cores: `${hw.physicalCores} cores, ${hw.logicalCores} threads`,
    simd: Object.entries(hw.simd)
      .filter(([, on]) => on)
      .map(([name]) => name),
    memory: `${formatBytes(hw.totalMemoryBytes)} total, ${formatBytes(hw.freeMemoryBytes)} free`,
    backend: hw.backend,
    gpu: hw.gpu.usable ? `${hw.gpu.deviceName} (CUDA ${hw.gpu.runtimeVersion})` : `not used: ${hw.gpu.reason}`,
  };
}

const reason = (result: PromiseSettledResult<unknown>) =>
  result.status === 'rejected' ? { unavailable: result.reason instanceof Error ? result.reason.message : String(result.reason) } : null;

/** The report as pretty JSON, with the app version, a hardware summary and the time. */
export async function diagnosticsText(api: FasApi, report: ProblemReport): Promise<string> {
  const [app, hardware] = await Promise.allSettled([api.call('app.info', {}), api.call('system.hardware', {})]);
  return JSON.stringify(
    {
      message: report.message,
      doing: report.doing,
      ...(report.details ? { details: report.details } : {}),
      app: app.status === 'fulfilled' ? { name: app.value.name, version: app.value.version } : reason(app),
      hardware: hardware.status === 'fulfilled' ? hardwareSummary(hardware.value) : reason(hardware),
      userAgent: navigator.userAgent,
      time: new Date().toISOString(),
    },
    null,
    2,
  );
}
