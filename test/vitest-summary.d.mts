export interface VitestJsonReport {
  numPassedTests: number;
  numFailedTests: number;
  testResults: { name: string; status: string; message?: string; assertionResults: { status: string }[] }[];
}
export function summarise(results: VitestJsonReport): { passed: number; failed: number; brokenFiles: { name: string; message: string }[] };
