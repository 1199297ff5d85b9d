/**
 * The checkpoints of a run directory: `checkpoints/step-<n>.ckpt` every interval (the newest
 * `keep` are kept) and `model.ckpt` when training ends. Each file is written atomically by
 * engine/checkpoint, so the newest one on disk is always complete; `newest()` still verifies by
 * loading, and falls back to an older one if a file cannot be read.
 */
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { loadCheckpoint, saveCheckpoint, type CheckpointContents } from '../engine/checkpoint.ts';

export interface CheckpointStore {
  /** Save an interval checkpoint; returns its path. */
  save(c: CheckpointContents): string;
  /** Save the final checkpoint (model.ckpt). */
  saveFinal(c: CheckpointContents): string;
  /** The loadable checkpoint with the most steps, or null when there is none. */
  newest(): { path: string; contents: CheckpointContents } | null;
}

const STEP_FILE = /^step-(\d+)\.ckpt$/;

export function checkpointStore(runDir: string, keep = 3): CheckpointStore {
  const dir = join(runDir, 'checkpoints');
  const intervalFiles = () =>
    existsSync(dir)
      ? readdirSync(dir).flatMap((f) => {
          const m = STEP_FILE.exec(f);
          return m ? [{ path: join(dir, f), step: Number(m[1]) }] : [];
        }).sort((a, b) => b.step - a.step)
      : [];
  return {
    save(c) {
      mkdirSync(dir, { recursive: true });
      const path = join(dir, `step-${String(c.step).padStart(9, '0')}.ckpt`);
      saveCheckpoint(path, c);
      for (const old of intervalFiles().slice(keep)) rmSync(old.path, { force: true });
      // temp files of writes that a crash (kill -9) interrupted: never complete, safe to drop
      for (const f of readdirSync(dir)) if (f.endsWith('.partial')) rmSync(join(dir, f), { force: true });
      return path;
    },
    saveFinal(c) {
      const path = join(runDir, 'model.ckpt');
      saveCheckpoint(path, c);
      return path;
    },
    newest() {
      const candidates: { path: string; step: number }[] = [...intervalFiles()];
      const final = join(runDir, 'model.ckpt');
      const loaded: { path: string; contents: CheckpointContents }[] = [];
      if (existsSync(final)) {
        try {
          const contents = loadCheckpoint(final);
          loaded.push({ path: final, contents });
          candidates.push({ path: final, step: contents.step });
        } catch {
          // an unreadable final checkpoint: fall back to the interval ones
        }
      }
      candidates.sort((a, b) => b.step - a.step);
      for (const c of candidates) {
        const hit = loaded.find((l) => l.path === c.path);
        if (hit) return hit;
        try {
          return { path: c.path, contents: loadCheckpoint(c.path) };
        } catch {
          continue;
        }
      }
      return null;
    },
  };
}
