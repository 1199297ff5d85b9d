#!/usr/bin/env node
// Entry point for the `engram` bin: load the TypeScript CLI through tsx's loader.
// A signal while engram is still loading (before a command's executor owns the signals) ends it the
// documented way: exit 130, and it had not started anything yet. cli/execute.ts takes this handler off.
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'];
const early = (signal) => {
  process.stderr.write(`engram: ${signal}: stopped while starting; nothing was run or written\n`);
  process.exit(130);
};
for (const s of SIGNALS) process.on(s, early);
globalThis[Symbol.for('engram.earlySignalHandler')] = early;

const { register } = await import('tsx/esm/api'); // after the handlers: loading takes a moment
const { fileURLToPath } = await import('node:url');

// React (the dashboard) in production mode: the development build is several times slower
process.env.NODE_ENV ??= 'production';
// the repository's tsconfig whatever the working directory: tsx would otherwise look for one from
// the cwd, and without it compile the dashboard's JSX for a global React ("React is not defined")
register({ tsconfig: fileURLToPath(new URL('../tsconfig.json', import.meta.url)) });
const { run } = await import('../cli/main.ts');
// A command whose work waits on something that can no longer happen would end with Node's bare exit
// 13 (an unsettled top-level await) and no word: say so, as the internal error it is.
let settled = false;
process.on('beforeExit', () => {
  if (settled) return;
  const message = 'internal error: the command stopped waiting on work that could never finish (a bug: please report it with the command line); what it wrote may be incomplete';
  if (process.argv.includes('--json')) process.stdout.write(`${JSON.stringify({ kind: 'error', code: 'E_INTERNAL', message })}\n`);
  process.stderr.write(`engram: ${message}\n`);
  process.exit(1);
});
await run(process.argv.slice(2));
settled = true;
