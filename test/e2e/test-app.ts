// The served app for browser tests: a real AppCore behind the real HTTP server and the built UI,
// with Chromium to drive it (serveApp), or on a temporary workspace with the 'count' job kind from
// test/fixtures (startTestApp).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { z } from 'zod';
import { countKind, countParams, countResume, type CountParams } from '../helpers/count-job.js';
import type { JobRecord } from '../../electron/api/contract.js';
import { AppCore } from '../../electron/core/app-core.js';
import type { JobKind } from '../../electron/core/jobs/job-manager.js';
import { startServer, type RunningServer } from '../../electron/server/http-server.js';
import { builtUiDir } from '../../electron/server/ui-server.js';
import { launchBrowser } from './browser.js';

/**
 * The 'count' job registered under a real kind's name (e.g. finetune), so that kind's pages show it:
 * its params carry the model and output folders those pages read, and it pauses and resumes as
 * training does.
 */
export function countAs(title: string): JobKind {
  return { ...countKind(() => title, countResume), params: countParams.extend({ modelDir: z.string(), outDir: z.string() }) };
}

export interface TestApp {
  core: AppCore;
  server: RunningServer;
  workspaceDir: string;
  /** Starts a 'count' job through the API. */
  count(params: Partial<CountParams> & Pick<CountParams, 'steps'>): Promise<JobRecord>;
  /** Cancels what is still running, then stops the server. */
  close(): Promise<void>;
}

export async function startTestApp(options: { workspaceDir?: string; uiDir?: string } = {}): Promise<TestApp> {
  const workspaceDir = options.workspaceDir ?? mkdtempSync(join(tmpdir(), 'fas-e2e-'));
  const core = new AppCore({
    workspaceDir,
    jobKinds: { count: countKind() },
  });
  const server = await startServer({ core, uiDir: options.uiDir ?? builtUiDir() });
  return {
    core,
    server,
    workspaceDir,
    count: (params) => core.call('jobs.start', { kind: 'count', params }),
    async close() {
      await stopJobs(core);
      await server.close();
    },
  };
}

/** Cancels the jobs still queued or running, and waits until they have stopped. */
async function stopJobs(core: AppCore): Promise<void> {
  const active = (await core.call('jobs.list', {})).filter((j) => j.state === 'queued' || j.state === 'running');
  for (const job of active) await core.call('jobs.cancel', { id: job.id });
  await Promise.all(active.map((job) => core.jobs.waitFor(job.id)));
}

export interface ServedApp {
  server: RunningServer;
  browser: Browser;
  /** Closes the browser, cancels what still runs, then stops the server. */
  close(): Promise<void>;
}

export async function serveApp(core: AppCore): Promise<ServedApp> {
  const [server, browser] = await Promise.all([startServer({ core, uiDir: builtUiDir() }), launchBrowser()]);
  return {
    server,
    browser,
    async close() {
      await browser.close();
      await stopJobs(core);
      await server.close();
    },
  };
}

/** Collects page errors and console errors, which every test expects to stay empty. */
export function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  return errors;
}
