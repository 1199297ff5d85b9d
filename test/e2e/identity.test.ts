/**
 * `engram identity` and `engram plot` through the real CLI: a small FC probe writes its table,
 * events and identity.png; `engram plot` redraws the heatmap from events.jsonl (also with a torn
 * last line); a directory that is not a run is an error with exit code 1.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { EngramEvent, IdentityEvent } from '../../events.ts';

const root = join(import.meta.dirname, '../..');
const tmp = mkdtempSync(join(tmpdir(), 'engram-identity-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function cli(args: string[]): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [join(root, 'bin/engram.mjs'), ...args], { encoding: 'utf8', cwd: tmp, timeout: 120_000 });
}

const events = (dir: string): EngramEvent[] =>
  readFileSync(join(dir, 'events.jsonl'), 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));

const isPng = (path: string, minBytes = 1000) => existsSync(path) && readFileSync(path).subarray(1, 4).toString() === 'PNG' && statSync(path).size > minBytes;

describe('engram identity', () => {
  const run = join(tmp, 'fc1');
  const SMALL = ['--size', '8x8', '--width', '64', '--max-steps', '400', '--rhos', '5', '--probes', '4'];

  it('--arch fc --depth 1: prints the table, writes events, identity.csv/.txt and identity.png', () => {
    const r = cli(['identity', '--arch', 'fc', '--depth', '1', ...SMALL, '--out', run]);
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/fc depth 1 \(\d+ params; (loss-target|step-cap) after \d+ steps/);
    expect(r.stdout).toMatch(/ρ │ corrI corrC/);
    expect(r.stdout).toMatch(/→ (IDENTITY|CONSTANT|NEITHER)/);
    const ev = events(run);
    expect(ev[0].kind).toBe('run-start');
    expect(ev[ev.length - 1]).toMatchObject({ kind: 'run-end', status: 'complete' });
    const probes = ev.filter((e): e is IdentityEvent => e.kind === 'identity');
    expect(probes).toHaveLength(1);
    const p = probes[0];
    expect(p).toMatchObject({ arch: 'fc', depth: 1, corr: 'cosine', probesPerRho: 4 });
    expect(p.rows.map((row) => row.rho)).toEqual([0, 0.25, 0.5, 0.75, 1]);
    for (const row of p.rows) {
      // the baselines are exact on every probe: identity (1, ρ), constant (ρ, 1)
      expect(row.identity.corrI).toBeCloseTo(1, 5);
      expect(row.identity.corrC).toBeCloseTo(row.rho, 5);
      expect(row.constant.corrI).toBeCloseTo(row.rho, 5);
      expect(row.constant.corrC).toBeCloseTo(1, 5);
    }
    expect(['identity', 'constant', 'neither']).toContain(p.label);
    // the trained net reproduces x̂ itself (ρ = 1) closely
    expect(p.rows[4].corrI).toBeGreaterThan(0.99);
    expect(readFileSync(join(run, 'identity.csv'), 'utf8').trim().split('\n')).toHaveLength(1 + 5);
    expect(readFileSync(join(run, 'identity.txt'), 'utf8')).toContain('identity probe summary');
    expect(JSON.parse(readFileSync(join(run, 'run.json'), 'utf8'))).toMatchObject({ status: 'complete', kind: 'identity' });
    expect(isPng(join(run, 'identity.png'))).toBe(true);
    expect(isPng(join(run, 'input.png'), 50)).toBe(true);
  });

  it('--arch fc,cnn --depth 1-2 sweeps both architectures into one heatmap', () => {
    const dir = join(tmp, 'both');
    const r = cli(['identity', '--arch', 'fc,cnn', '--depth', '1-2', '--size', '8x8', '--width', '32', '--channels', '4',
      '--max-steps', '60', '--rhos', '3', '--probes', '2', '--quiet', '--out', dir]);
    expect(r.status, r.stderr).toBe(0);
    const probes = events(dir).filter((e): e is IdentityEvent => e.kind === 'identity');
    expect(probes.map((p) => `${p.arch}${p.depth}`)).toEqual(['fc1', 'fc2', 'cnn1', 'cnn2']);
    expect(probes[2].params).toBeLessThan(probes[0].params);
    expect(r.stdout).toMatch(/cnn depth  2/);
    expect(isPng(join(dir, 'identity.png'))).toBe(true);
  });

  it('refuses to write into the same run directory again without --force', () => {
    const r = cli(['identity', '--arch', 'fc', '--depth', '1', ...SMALL, '--out', run]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/already has files in it.*--force/);
  });

  it('rejects a bad --arch, --depth or --input before creating anything', () => {
    const a = cli(['identity', '--arch', 'rnn', '--depth', '1']);
    expect(a.status).toBe(2);
    expect(a.stderr).toMatch(/--arch must be fc, cnn/);
    const d = cli(['identity', '--arch', 'cnn', '--depth', '1,x']);
    expect(d.status).toBe(2);
    expect(d.stderr).toMatch(/--depth must be/);
    const deep = cli(['identity', '--arch', 'cnn', '--depth', '9', '--size', '8x8']);
    expect(deep.status).toBe(2);
    expect(deep.stderr).toMatch(/at most 3/);
    const missing = cli(['identity', '--arch', 'fc', '--depth', '1', '--input', 'nope.png', '--out', join(tmp, 'never')]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/--input nope\.png does not exist/);
    expect(existsSync(join(tmp, 'never'))).toBe(false);
  });

  it('engram plot regenerates identity.png from events.jsonl, tolerating a torn last line', () => {
    rmSync(join(run, 'identity.png'));
    appendFileSync(join(run, 'events.jsonl'), '{"kind":"identity","runId":"x","st');
    const r = cli(['plot', run]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`identity: ${join(run, 'identity.png')}`);
    expect(r.stderr).toMatch(/cut short/);
    expect(isPng(join(run, 'identity.png'))).toBe(true);
  });

  it('engram plot on a directory that is not a run fails with exit code 1 and says why', () => {
    const notRun = join(tmp, 'not-a-run');
    mkdirSync(notRun);
    const r = cli(['plot', notRun]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(notRun);
    expect(r.stderr).toMatch(/not an engram run directory/);
    expect(r.stderr).not.toMatch(/internal error/);
    const missing = cli(['plot', join(tmp, 'nowhere')]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/does not exist/);
  });
});
