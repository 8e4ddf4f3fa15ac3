import { defineConfig } from 'vitest/config';
import { svelte } from '@sveltejs/vite-plugin-svelte';

// Unit, native and model tests run in Node; renderer component tests opt into jsdom per file.
export default defineConfig({
  plugins: [svelte()],
  resolve: process.env.VITEST ? { conditions: ['browser'] } : undefined,
  test: {
    include: ['test/**/*.test.ts'],
    // The browser first: its packaged copy unpacks once into the system's temporary directory, kept between runs.
    globalSetup: ['test/e2e/browser-setup.ts', 'test/scratch-tmpdir-setup.ts'],
    // Timeouts only catch a hang. Tests take seconds on an idle 2-core machine, but ten runs in a row
    // beside four parallel C++ builds (load 16 to 22) took a few of them past 30 s: a slow machine is
    // not a failure.
    testTimeout: 120_000,
    hookTimeout: 180_000,
    fileParallelism: true,
    maxWorkers: 2,
  },
});
