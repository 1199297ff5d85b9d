/**
 * Where benchmarks find natural footage: the workspace's media folder next to the repository (two
 * 128×128 clips of real photographs), or the folder ENGRAM_MEDIA names. One place, so a clone
 * elsewhere needs one variable, and a missing clip is a clear error rather than an ffmpeg failure.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const MEDIA_DIR = process.env.ENGRAM_MEDIA ?? join(import.meta.dirname, '..', '..', 'shared', 'media');

export function footagePath(name: string): string {
  const path = join(MEDIA_DIR, name);
  if (!existsSync(path)) throw new Error(`${path} is absent: set ENGRAM_MEDIA to a folder holding ${name}`);
  return path;
}
