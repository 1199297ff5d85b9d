/**
 * The checkpoints of a run directory: `checkpoints/step-<n>.ckpt` every interval (the newest
 * `keep` are kept) and `model.ckpt` when training ends. Each file is written atomically (a
 * temporary name, flushed, renamed; the directory flushed too), so the newest one on disk is always complete; `newest()` still verifies by
 * loading, and falls back to an older one if a file cannot be read. With --stop-on-nonfinite,
 * `checkpoints/last-finite.ckpt` holds the state before a NaN/Inf loss and counts as a candidate
 * too. No file of NaN/Inf weights is ever written: every save checks the weights first.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { assertFiniteWeights, CorruptCheckpoint, encodeCheckpoint, loadCheckpoint, type CheckpointContents } from '../engine/checkpoint.ts';
import { EngramError, isEngramError, type ErrorCode } from '../errors.ts';

export interface CheckpointStore {
  /** Save an interval checkpoint; returns its path. */
  save(c: CheckpointContents): string;
  /** Save the final checkpoint (model.ckpt). */
  saveFinal(c: CheckpointContents): string;
  /**
   * Save the last finite state before a non-finite loss (checkpoints/last-finite.ckpt) and drop the
   * interval checkpoints after it: their states led to the NaN/Inf, so a resume must not pick them.
   */
  saveLastFinite(c: CheckpointContents): string;
  /** The loadable checkpoint with the most steps, or null when there is none. */
  newest(): { path: string; contents: CheckpointContents } | null;
  /** `newest()`, and the checkpoint files passed over because they would not load, each with why ("… is corrupt (truncated: …)"). */
  scan(): { newest: { path: string; contents: CheckpointContents } | null; damaged: { path: string; why: string; code: ErrorCode }[] };
}

const STEP_FILE = /^step-(\d+)\.ckpt$/;
export const LAST_FINITE_FILE = 'last-finite.ckpt';

/** Write one checkpoint file (engine/checkpoint's encoding) to a temporary name, flush, rename. */
export function saveCheckpoint(path: string, c: CheckpointContents): void {
  const parts = encodeCheckpoint(c);
  const tmp = join(dirname(path), `.${basename(path)}.partial`);
  let fd: number;
  try {
    fd = openSync(tmp, 'w');
  } catch (e) {
    throw new EngramError('E_CHECKPOINT', `cannot write checkpoint ${path}: ${(e as Error).message}; check that its directory exists and is writable`);
  }
  try {
    for (const part of parts) writeSync(fd, part);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw new EngramError('E_CHECKPOINT', `could not write checkpoint ${path}: ${(e as Error).message}`);
  }
  closeSync(fd);
  renameSync(tmp, path);
  // make the rename itself durable, so a crash right after cannot bring the old name back
  try {
    const dfd = openSync(dirname(path), 'r');
    fsyncSync(dfd);
    closeSync(dfd);
  } catch {
    // some file systems do not allow fsync on a directory; the rename is still atomic
  }
}

/** Refuse to write NaN/Inf weights (E_CHECKPOINT naming the file), then write atomically. */
function saveFinite(path: string, c: CheckpointContents): void {
  assertFiniteWeights(path, c);
  saveCheckpoint(path, c);
}

/** Whether `runDir` holds any checkpoint file (final, interval or last finite); a cheap look, nothing is loaded. */
export function hasCheckpoint(runDir: string): boolean {
  const dir = join(runDir, 'checkpoints');
  return existsSync(join(runDir, 'model.ckpt')) ||
    (existsSync(dir) && readdirSync(dir).some((f) => STEP_FILE.test(f) || f === LAST_FINITE_FILE));
}

export function checkpointStore(runDir: string, keep = 3): CheckpointStore {
  const dir = join(runDir, 'checkpoints');
  const intervalFiles = () =>
    existsSync(dir)
      ? readdirSync(dir).flatMap((f) => {
          const m = STEP_FILE.exec(f);
          return m ? [{ path: join(dir, f), step: Number(m[1]) }] : [];
        }).sort((a, b) => b.step - a.step)
      : [];
  const scan: CheckpointStore['scan'] = () => {
    const candidates: { path: string; step: number }[] = [...intervalFiles()];
    const loaded: { path: string; contents: CheckpointContents }[] = [];
    const damaged: { path: string; why: string; code: ErrorCode }[] = [];
    const why = (e: unknown) => (e instanceof CorruptCheckpoint ? e.problem : (e as Error).message);
    const code = (e: unknown): ErrorCode => (isEngramError(e) ? e.code : 'E_CHECKPOINT');
    for (const named of [join(runDir, 'model.ckpt'), join(dir, LAST_FINITE_FILE)]) {
      if (!existsSync(named)) continue;
      try {
        const contents = loadCheckpoint(named);
        loaded.push({ path: named, contents });
        candidates.push({ path: named, step: contents.step });
      } catch (e) {
        damaged.push({ path: named, why: why(e), code: code(e) }); // an unreadable final checkpoint: fall back to the interval ones
      }
    }
    candidates.sort((a, b) => b.step - a.step);
    for (const c of candidates) {
      const hit = loaded.find((l) => l.path === c.path);
      if (hit) return { newest: hit, damaged };
      try {
        return { newest: { path: c.path, contents: loadCheckpoint(c.path) }, damaged };
      } catch (e) {
        damaged.push({ path: c.path, why: why(e), code: code(e) });
      }
    }
    return { newest: null, damaged };
  };
  return {
    save(c) {
      mkdirSync(dir, { recursive: true });
      const path = join(dir, `step-${String(c.step).padStart(9, '0')}.ckpt`);
      saveFinite(path, c);
      for (const old of intervalFiles().slice(keep)) rmSync(old.path, { force: true });
      // temp files of writes that a crash (kill -9) interrupted: never complete, safe to drop
      for (const f of readdirSync(dir)) if (f.endsWith('.partial')) rmSync(join(dir, f), { force: true });
      return path;
    },
    saveFinal(c) {
      const path = join(runDir, 'model.ckpt');
      saveFinite(path, c);
      return path;
    },
    saveLastFinite(c) {
      mkdirSync(dir, { recursive: true });
      const path = join(dir, LAST_FINITE_FILE);
      saveFinite(path, c);
      for (const later of intervalFiles().filter((f) => f.step > c.step)) rmSync(later.path, { force: true });
      return path;
    },
    newest() {
      return scan().newest;
    },
    scan,
  };
}
