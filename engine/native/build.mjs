#!/usr/bin/env node
// Builds the optional OpenBLAS addon at install time. Never fails the install: without a compiler
// or libopenblas-dev the engine falls back to plain wasm and says how to get the fast path.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
if (process.env.ENGRAM_SKIP_NATIVE === '1') {
  console.log('engram: ENGRAM_SKIP_NATIVE=1, not building the OpenBLAS addon');
  process.exit(0);
}
const candidates = [
  process.env.npm_config_node_gyp,
  join(dirname(process.execPath), '../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js'),
  '/usr/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js',
].filter(Boolean);
const gyp = candidates.find((p) => existsSync(p));
// Build against the headers of the running Node when they are installed next to it (offline).
const prefix = join(dirname(process.execPath), '..');
const nodedir = process.env.npm_config_nodedir ||
  (existsSync(join(prefix, 'include/node/node_api.h')) ? prefix : undefined);
const args = gyp
  ? [gyp, 'rebuild', '--directory', here, ...(nodedir ? [`--nodedir=${nodedir}`] : [])]
  : null;
const res = args
  ? spawnSync(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' })
  : { status: 1, stderr: 'node-gyp not found next to npm' };
if (res.status === 0) {
  console.log('engram: built the OpenBLAS addon (engine/native/build/Release/engram_blas.node)');
} else {
  const tail = String(res.stderr || '').trim().split('\n').slice(-4).join('\n  ');
  console.warn(
    'engram: could not build the OpenBLAS addon; the engine will use plain wasm (10-40x slower).\n' +
      '  To get the fast path: `npm run setup` (Debian/Ubuntu: installs build-essential and libopenblas-dev, then builds it);\n' +
      '  elsewhere install a C compiler and OpenBLAS, then run `npm run build:native`. `npx engram doctor` says what is missing.\n  ' + tail,
  );
}
process.exit(0);
