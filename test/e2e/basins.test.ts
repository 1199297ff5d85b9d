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

  it('stores several sequences (| between them) as cycles of their own, certifies them, and counts spurious limits', () => {
    const out = join(dir, 'cycles');
    const r = engram('basins', '--points', '0.1,0.1;0.4,0.15;0.2,0.4|0.7,0.7;0.95,0.8;0.75,0.95', '--objective', 'cycle', '--grid', '30',
      '--width', '128', '--depth', '4', '--activation', 'cosid', '--recall-steps', '200', '--out', out, '--quiet');
    expect(errorLines(r.stderr)).toEqual([]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/basins: 6 points, .*certified \d\/\d .*spurious limits: \d+/);
    const events = readFileSync(join(out, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as EngramEvent);
    const b = events.find((e): e is BasinsEvent => e.kind === 'basins')!;
    expect(b.sequences).toEqual([3, 3]);
    expect(b.spurious!.cells).toBeLessThanOrEqual(b.labels.filter((l) => l === -1).length);
    const a = events.find((e) => e.kind === 'attractors') as { items: { what: string; period: number }[] };
    // a certified cycle is one sequence of 3, never both sequences as one cycle of 6
    for (const item of a.items.filter((i) => i.what.startsWith('sequence'))) expect(item.period).toBe(3);
    expect(JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')).config.sequences).toEqual([3, 3]);

    const ae = engram('basins', '--points', '0.1,0.1;0.4,0.15|0.7,0.7;0.95,0.8', '--out', join(dir, 'ae'));
    expect(ae.status).toBe(2);
    expect(ae.stderr).toMatch(/several sequences, which only --objective cycle stores/);
  });

  it('rejects malformed points with a usage error naming the piece', () => {
    const r = engram('basins', '--points', '0.2,0.2;oops', '--out', join(dir, 'bad'));
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--points: 'oops' is not a point x,y/);
    expect(existsSync(join(dir, 'bad'))).toBe(false);
  });
});
