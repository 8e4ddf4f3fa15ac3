// Which Chromium the end-to-end tests drive, found once per run (test/e2e/browser-setup.ts):
// CHROMIUM_PATH when set; else a system Chromium or Chrome; else the headless Chromium that the
// pinned devDependency @sparticuz/chromium carries inside its npm tarball (Linux x64 only), so that
// `npm install` + `npm test` need no system browser.
import { accessSync, constants } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, join } from 'node:path';
import { tmpdir } from 'node:os';

export interface FoundBrowser {
  executablePath: string;
  /** Where it came from, for the test output. */
  source: string;
  /** Extra environment for the browser process (the package's own copies of libnss3 and friends). */
  env?: Record<string, string>;
}

const SYSTEM_NAMES = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable', 'chrome'];
const SYSTEM_PATHS = ['/usr/bin/chromium', '/usr/lib/chromium/chromium', '/snap/bin/chromium', '/opt/google/chrome/chrome'];

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function systemBrowser(): string | undefined {
  const onPath = (process.env.PATH ?? '')
    .split(delimiter)
    .filter(Boolean)
    .flatMap((dir) => SYSTEM_NAMES.map((name) => join(dir, name)));
  return [...onPath, ...SYSTEM_PATHS].find(executable);
}

async function packagedBrowser(): Promise<FoundBrowser> {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(
      `No Chromium found: install Chromium or Chrome, or set CHROMIUM_PATH (the bundled test browser exists for Linux x64 only, not ${process.platform} ${process.arch}).`,
    );
  }
  const { default: chromium, inflate } = await import('@sparticuz/chromium');
  const executablePath = await chromium.executablePath();
  // The package's libnss3, libnspr4 and libexpat, for machines without them (they are not part of a
  // minimal system); its own loader only adds them on Amazon Linux.
  const binDir = join(dirname(createRequire(import.meta.url).resolve('@sparticuz/chromium')), '..', 'bin');
  const libs = await inflate(join(binDir, 'al2023.tar.br'));
  const libDir = join(libs, 'lib');
  const fonts = join(tmpdir(), 'fonts');
  return {
    executablePath,
    source: '@sparticuz/chromium (npm package)',
    env: { LD_LIBRARY_PATH: [libDir, process.env.LD_LIBRARY_PATH].filter(Boolean).join(delimiter), FONTCONFIG_PATH: fonts },
  };
}

export async function findBrowser(): Promise<FoundBrowser> {
  const chosen = process.env.CHROMIUM_PATH;
  if (chosen) {
    if (!executable(chosen)) throw new Error(`CHROMIUM_PATH is ${chosen}, which is not an executable file.`);
    return { executablePath: chosen, source: 'CHROMIUM_PATH' };
  }
  const system = systemBrowser();
  if (system) return { executablePath: system, source: 'system' };
  return packagedBrowser();
}
