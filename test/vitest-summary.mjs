// The counts of the closing line of `npm test`, from vitest's JSON report: its passed and failed
// tests, plus each test file that failed without a failing test (it could not be loaded, or a hook
// failed), each named so the line never disagrees with vitest's own summary without saying why.

/**
 * @param {{numPassedTests: number, numFailedTests: number, testResults: {name: string, status: string, message?: string, assertionResults: {status: string}[]}[]}} results
 * @returns {{passed: number, failed: number, brokenFiles: {name: string, message: string}[]}}
 */
export function summarise(results) {
  const brokenFiles = results.testResults
    .filter((file) => file.status === 'failed' && !file.assertionResults.some((test) => test.status === 'failed'))
    .map((file) => ({ name: file.name, message: (file.message ?? '').split('\n')[0] }));
  return { passed: results.numPassedTests, failed: results.numFailedTests + brokenFiles.length, brokenFiles };
}
