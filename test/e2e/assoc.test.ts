/**
 * `engram assoc` end to end: the real CLI in its own process writes a complete run directory
 * (run.json, events.jsonl, metrics.csv, margins.png), the two-token correlated case reports loss
 * spikes, and bad options fail with a message naming the option before anything is created.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { EngramEvent, MarginsEvent } from '../../events.ts';
import { marginsPlot } from '../../sinks/plots/margins.ts';
import { main } from '../../cli/main.ts';

const root = join(import.meta.dirname, '../..');
const tmp = mkdtempSync(join(tmpdir(), 'engram-assoc-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function cli(args: string[]): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [join(root, 'bin/engram.mjs'), 'assoc', ...args], { encoding: 'utf8', cwd: tmp, timeout: 120_000 });
}
const readEvents = (dir: string) => readFileSync(join(dir, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as EngramEvent);

describe('engram assoc', () => {
  it('two correlated tokens with a large step: spikes, margin flips, a complete run directory and a plot', () => {
    const out = join(tmp, 'two');
    const r = cli(['--frequencies', 'two:0.9', '--embeddings', 'correlated:0.99', '--d', '4', '--lr', '30', '--steps', '200', '--margins-every', '10', '--out', out]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/loss spike at step/);
    expect(r.stdout).toMatch(/── assoc summary ──/);
    expect(r.stdout).toMatch(/margins > 0\s+: 100\.0% of 2 tokens/);
    const run = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'));
    expect(run.status).toBe('complete');
    expect(run.summary.spikes).toBeGreaterThan(0);
    expect(run.summary.loss01).toBe(0);
    expect(run.summary.minMargin).toBeGreaterThan(0);
    const events = readEvents(out);
    const kinds = new Set(events.map((e) => e.kind));
    for (const k of ['run-start', 'train-step', 'spike', 'margins', 'train-end', 'run-end']) expect(kinds.has(k as EngramEvent['kind'])).toBe(true);
    const ms = events.filter((e): e is MarginsEvent => e.kind === 'margins');
    expect(ms.reduce((a, e) => a + e.flips, 0)).toBeGreaterThan(4);
    // every step's loss and gradient norm are finite, the last (update-free) one included: no NaN alarm
    expect(events.filter((e) => e.kind === 'spike' && e.phase === 'nonfinite')).toEqual([]);
    expect(events.filter((e) => e.kind === 'train-step').every((e) => Number.isFinite(e.gradNorm))).toBe(true);
    expect(ms.at(-1)!.step).toBe(200);
    expect(ms.every((e) => e.tokens.length === 2 && e.stability !== null)).toBe(true);
    const csv = readFileSync(join(out, 'metrics.csv'), 'utf8').trim().split('\n');
    expect(csv.length).toBe(1 + 201); // header + steps 0..200
    const png = readFileSync(join(out, 'margins.png'));
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    expect(png.readUInt32BE(16)).toBeGreaterThan(400); // width from IHDR
    // the plot can be rebuilt from events.jsonl alone
    expect(marginsPlot(events)).not.toBeNull();
  });

  it('orthonormal Zipf tokens with SGD: every margin positive', () => {
    const out = join(tmp, 'zipf');
    const args = ['--n', '16', '--optimizer', 'sgd', '--batch-size', '8', '--lr', '20', '--steps', '300', '--lanczos', '0', '--quiet', '--out', out];
    const r = cli(args);
    expect(r.status, r.stderr).toBe(0);
    const run = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'));
    expect(run.config.optimizer).toBe('sgd');
    expect(run.summary.fractionPositive).toBe(1);
    expect(run.summary.lambdaMax).toBeNull();
  });

  it('refuses to overwrite a run directory without --force (checked before the backend loads)', async () => {
    const out = join(tmp, 'zipf');
    await expect(main(['assoc', '--steps', '5', '--out', out])).rejects.toMatchObject({ code: 'E_OUTPUT_EXISTS', message: expect.stringMatching(new RegExp(`${out}.*--force`)) });
  });

  it.each([
    [['--embeddings', 'correlated:2'], /--embeddings/],
    [['--steps', '0'], /--steps/],
    [['--frequencies', 'two:0.9', '--n', '3'], /--n 2/],
    [['--n', '100', '--m', '8', '--d', '10'], /N ≤ d.*--d/],
    [['--optimizer', 'rmsprop'], /--optimizer for assoc/],
    [['--w0', 'ones'], /--w0/],
  ])('rejects %j with a usage error naming the option, creating nothing', async (bad, msg) => {
    const out = join(tmp, `bad-${bad.join('')}`);
    await expect(main(['assoc', ...bad, '--out', out])).rejects.toMatchObject({ code: 'E_BAD_ARGUMENT', message: expect.stringMatching(msg) });
    expect(existsSync(out)).toBe(false);
  });

  it('exits 2 from the real CLI on a usage error', () => {
    const r = cli(['--embeddings', 'correlated:2', '--out', join(tmp, 'bad-cli')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--embeddings/);
    expect(r.stderr).not.toMatch(/internal error/);
  });
});
