/**
 * A run directory: runs/<id>/ with run.json (config, backend, status, summary) rewritten atomically
 * at each change of status. An existing directory with files in it is never reused unless asked.
 */
import { accessSync, constants, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { EngramError } from '../errors.ts';
import { hasCheckpoint } from './checkpoints.ts';

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

/**
 * Why nothing can be written under `path` (an errno code, or what is in the way), or null when it
 * can: the nearest existing directory at or above it gets a probe directory made and removed. This
 * is the one check every output path gets before any work starts (a read-only mount, /proc, a file
 * where a directory should be, no permission).
 */
export function unwritableWhy(path: string): string | null {
  let base = resolve(path);
  while (!existsSync(base)) base = dirname(base);
  if (!statSync(base).isDirectory()) return `${base} is a file`;
  try {
    rmdirSync(mkdtempSync(join(base, '.engram-probe-')));
    return null;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code ?? (e as Error).message;
  }
}

/**
 * A failed or cancelled run that left no checkpoint and no recording: nothing in it is worth keeping,
 * so running again with the same --out may take its directory without --force. Its status, or null.
 */
export function replaceableRun(dir: string): RunJson['status'] | null {
  const path = join(dir, 'run.json');
  if (!existsSync(path) || hasCheckpoint(dir)) return null;
  try {
    const { status } = JSON.parse(readFileSync(path, 'utf8')) as RunJson;
    if (status !== 'failed' && status !== 'cancelled') return null;
    return readdirSync(dir).some((f) => /^recall(ed)?[-.]/.test(f)) ? null : status;
  } catch {
    return null;
  }
}

/**
 * Whether `dir` may become the run directory, creating nothing: the CLI asks before the backend
 * starts. It may if it is missing (its parents are created), empty, a failed or cancelled run that
 * left nothing worth keeping (`replaceableRun`), or with `force`; and only if it can be written.
 */
export function checkRunDir(dir: string, force = false): void {
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw unwritable(dir, 'it is a file');
  if (existsSync(dir) && readdirSync(dir).length > 0 && !force && !replaceableRun(dir)) {
    throw new EngramError('E_OUTPUT_EXISTS', `output directory ${dir} already has files in it; choose another --out, or pass --force to write into it (files of the same name are replaced)`);
  }
  const why = unwritableWhy(dir);
  if (why) throw unwritable(dir, why);
}

/**
 * Create `dir` (or accept an empty existing one, or a replaceable run's); refuse a non-empty one
 * unless `force`. Returns a note when it takes over a failed or cancelled run's directory.
 */
export function prepareRunDir(dir: string, force = false): string | null {
  checkRunDir(dir, force);
  if (existsSync(dir)) {
    const replaced = readdirSync(dir).length > 0 && !force ? replaceableRun(dir) : null;
    return replaced ? `${dir} held a ${replaced} run with no checkpoint; this run replaces it` : null;
  }
  try {
    // Only the missing tail is created: a recursive mkdir under /proc and the like can spin forever.
    const parent = dirname(resolve(dir));
    if (existsSync(parent)) mkdirSync(dir);
    else mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
  } catch (e) {
    throw unwritable(dir, (e as NodeJS.ErrnoException).code ?? (e as Error).message);
  }
  return null;
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

export function writeTextAtomic(path: string, text: string | Uint8Array): void {
  const tmp = `${path}.partial`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

/** Remove a file this run owns (e.g. a metrics.csv a new run replaces); a missing one is fine. */
export function removeFile(path: string): void {
  rmSync(path, { force: true });
}

/** A folder inside a run directory (created when missing), e.g. a live run's recordings/. */
export function runSubdir(runDir: string, name: string): string {
  const dir = join(runDir, name);
  mkdirSync(dir, { recursive: true });
  return dir;
}
