import { describe, expect, it } from 'vitest';
import { loadNative } from '../../native/index.js';

describe('native addon', () => {
  it('loads and reports the hardware', () => {
    const hw = loadNative().hardware();
    expect(hw.logicalCores).toBeGreaterThan(0);
    expect(hw.physicalCores).toBeLessThanOrEqual(hw.logicalCores);
    expect(typeof hw.simd.avx2).toBe('boolean');
    if (hw.arch === 'aarch64') expect(hw.simd.neon).toBe(true);
    // A GPU is either usable or comes with a reason, never silently absent.
    expect(hw.cuda.usable || hw.cuda.reason.length > 0).toBe(true);
  });
});
