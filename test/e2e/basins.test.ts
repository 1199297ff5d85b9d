import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { BasinsEvent, EngramEvent } from '../../events.ts';
import { cellOf } from '../../operators/basins.ts';
import { errorLines } from '../stderr.ts';

const root = join(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'engram-basins-e2e-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const engram = (...args: string[]) =>
  spawnSync(process.execPath, [join(root, 'bin/engram.mjs'), ...args], { encoding: 'utf8', cwd: dir, timeout: 120_000 });

describe('engram basins', () => {
  it('trains on the given points, writes basins.png and the basins event, and refuses to overwrite', () => {
    const out = join(dir, 'run');
    const r = engram('basins', '--points', '0.2,0.2;0.8,0.3;0.5,0.8', '--objective', 'cycle', '--grid', '60', '--out', out, '--quiet');
    expect(errorLines(r.stderr)).toEqual([]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/basins: 3 points, 3\/3 stored as attractors; grid 60×60: .*basins\.png/);
    const png = readFileSync(join(out, 'basins.png'));
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    const events = readFileSync(join(out, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as EngramEvent);
    const b = events.find((e): e is BasinsEvent => e.kind === 'basins')!;
    expect(b.objective).toBe('cycle');
    expect(b.labels).toHaveLength(3600);
    b.points.forEach(([x, y], i) => expect(b.labels[cellOf(b.grid, x, y)]).toBe(i));
    expect(events.at(-1)).toMatchObject({ kind: 'run-end', status: 'complete' });
    expect(JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'))).toMatchObject({ status: 'complete' });

    const again = engram('basins', '--out', out, '--quiet');
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/already has files in it.*--force/);
  });

  it('rejects malformed points with a usage error naming the piece', () => {
    const r = engram('basins', '--points', '0.2,0.2;oops', '--out', join(dir, 'bad'));
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--points: 'oops' is not a point x,y/);
    expect(existsSync(join(dir, 'bad'))).toBe(false);
  });
});
