import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { AppCore } from '../core/app-core.js';
import { builtInModels } from '../core/demo/demo-model.js';
import { startServer, type RunningServer } from './http-server.js';

/** The built UI, from dist/electron/server or electron/server (tests). */
export function builtUiDir(): string {
  for (const rel of ['../../dist/renderer', '../../renderer']) {
    const dir = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(`${dir}/index.html`)) return dir;
  }
  throw new Error('The UI is not built. Run "npm run build:ui".');
}

/** Starts the API plus the built UI, as `npm run serve` and `fas serve` do. */
export function startUiServer(options: { port?: number; workspaceDir?: string }): Promise<RunningServer> {
  return startServer({ core: new AppCore({ workspaceDir: options.workspaceDir, builtInModels: builtInModels() }), uiDir: builtUiDir(), port: options.port });
}
