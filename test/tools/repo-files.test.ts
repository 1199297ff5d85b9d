/**
 * The repository stays small and holds no run output: every tracked file is under 256 KiB and none
 * is a checkpoint or a run's log (a run directory committed by accident, as `-x/` once was).
 */
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const root = join(fileURLToPath(import.meta.url), '../../..');
let tracked: string[] = [];
try {
  tracked = execFileSync('git', ['ls-files', '-z'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\0').filter(Boolean);
} catch {
  // not a git checkout (an unpacked tarball): nothing to check
}

it.skipIf(!tracked.length)('no tracked file is over 256 KiB, a checkpoint or a run log', () => {
  const big = tracked.filter((f) => {
    try {
      return statSync(join(root, f)).size > 256 * 1024;
    } catch {
      return false; // deleted in the working tree
    }
  });
  expect(big).toEqual([]);
  expect(tracked.filter((f) => /\.ckpt$|(^|\/)(events\.jsonl|run\.json|metrics\.csv)$/.test(f) && !f.startsWith('test/fixtures/'))).toEqual([]);
});
