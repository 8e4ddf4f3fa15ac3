#!/usr/bin/env node
// `npm start`: runs the desktop app. npm install skips Electron's binary download (it is blocked on
// offline build machines), so fetch it here on first start, and explain what to do when that fails.
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

function electronBinary() {
  try {
    return require('electron'); // the path of the binary, or throws when it was never downloaded
  } catch {
    return null;
  }
}

let binary = electronBinary();
if (!binary) {
  console.log('Downloading the Electron runtime (first start only)...');
  const install = spawnSync(process.execPath, [require.resolve('electron/install.js')], { stdio: 'inherit' });
  binary = install.status === 0 ? electronBinary() : null;
}
if (!binary) {
  console.error(`
Could not download Electron's runtime: this network blocks it.
  - Point ELECTRON_MIRROR at a mirror you can reach, then run "npm start" again, or
  - copy an Electron ${require('electron/package.json').version} build into node_modules/electron/dist, or
  - use the same app in your browser: "npm run serve".`);
  process.exit(1);
}
const child = spawn(binary, ['.', ...process.argv.slice(2)], { stdio: 'inherit' });
child.on('exit', (code) => process.exit(code ?? 0));
