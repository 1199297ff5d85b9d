/**
 * A half-written output is never left behind: a process that exits (a signal mid-encode ends in
 * process.exit) removes the partial files it had not renamed yet; one renamed into place stays.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'engram-partials-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('partial files not yet renamed are removed when the process exits; a renamed one is kept', () => {
  const script = join(dir, 'script.ts');
  writeFileSync(script, `
    import { renameSync, writeFileSync } from 'node:fs';
    import { partialOutput } from ${JSON.stringify(join(root, 'sinks/partials.ts'))};
    const done = partialOutput(${JSON.stringify(join(dir, 'done.mp4'))});
    writeFileSync(done, 'whole');
    renameSync(done, ${JSON.stringify(join(dir, 'done.mp4'))});
    writeFileSync(partialOutput(${JSON.stringify(join(dir, 'cut.wav'))}), 'half');
    process.exit(130);
  `);
  const r = spawnSync(process.execPath, ['--import', 'tsx', script], { cwd: root, encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(130);
  expect(readdirSync(dir).sort()).toEqual(['done.mp4', 'script.ts']);
  expect(existsSync(join(dir, '.cut.partial.wav'))).toBe(false);
});
