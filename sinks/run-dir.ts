/**
 * A run directory: runs/<id>/ with run.json (config, backend, status, summary) rewritten atomically
 * at each change of status. An existing directory with files in it is never reused unless asked.
 */
import { accessSync, constants, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { EngramError } from '../errors.ts';

export interface RunJson {
  id: string;
  command: string;
  status: 'running' | 'complete' | 'failed' | 'cancelled';
  created: string;
  updated: string;
  [key: string]: unknown;
}

export function newRunId(label: string, now = new Date()): string {
  const ts = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${ts}-${label}-${Math.random().toString(36).slice(2, 6)}`;
}

const unwritable = (dir: string, why: string) =>
  new EngramError('E_OUTPUT_UNWRITABLE', `cannot use ${dir} as the run directory (${why}); choose another --out`);

/** Whether `dir` may become the run directory (it is missing, empty, or `force`), creating nothing: the CLI asks before the backend starts. */
export function checkRunDir(dir: string, force = false): void {
  if (!existsSync(dir)) return;
  if (!statSync(dir).isDirectory()) throw unwritable(dir, 'it is a file');
  if (readdirSync(dir).length > 0 && !force) {
    throw new EngramError('E_OUTPUT_EXISTS', `output directory ${dir} already has files in it; choose another --out, or pass --force to write into it (files of the same name are replaced)`);
  }
}

/** Create `dir` (or accept an empty existing one); refuse a non-empty one unless `force`. */
export function prepareRunDir(dir: string, force = false): void {
  checkRunDir(dir, force);
  if (existsSync(dir)) return;
  try {
    // Only the missing tail is created: a recursive mkdir under /proc and the like can spin forever.
    const parent = dirname(resolve(dir));
    if (existsSync(parent)) mkdirSync(dir);
    else mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
  } catch (e) {
    throw unwritable(dir, (e as NodeJS.ErrnoException).code ?? (e as Error).message);
  }
}

export function writeJsonAtomic(path: string, value: unknown): void {
  const tmp = `${path}.partial`;
  writeFileSync(tmp, JSON.stringify(value, null, 2) + '\n');
  renameSync(tmp, path);
}

export function readRunJson(dir: string): RunJson {
  const p = join(dir, 'run.json');
  if (!existsSync(p)) {
    throw new EngramError('E_INPUT_MISSING', `${dir} is not an engram run directory (no run.json); pass a directory made by 'engram memorize' or 'engram demo'`);
  }
  try {
    return JSON.parse(readFileSync(p, 'utf8')) as RunJson;
  } catch (e) {
    throw new EngramError('E_INPUT_UNREADABLE', `${p} is not valid JSON (${(e as Error).message}); the run directory is damaged`);
  }
}

export function writeTextAtomic(path: string, text: string): void {
  const tmp = `${path}.partial`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

/** Remove a file this run owns (e.g. a metrics.csv a new run replaces); a missing one is fine. */
export function removeFile(path: string): void {
  rmSync(path, { force: true });
}
