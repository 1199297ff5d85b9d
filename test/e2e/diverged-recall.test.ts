/**
 * Recall when the iteration diverges, through the real CLI (issue 10 item 1; was "internal error:
 * TypeError: Cannot read properties of undefined (reading 'length')"): a net that blows up after one
 * step of a uniform:5 start, and a trained run whose weights were scaled by 1e6, both end with a
 * result (outcome 'diverged', exit 0 for memorize, 4 for recall) or a coded error — never an internal one.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngramEvent, RecallEvent } from '../../events.ts';
import { scaleCheckpointWeights } from '../fixtures/scale-checkpoint.ts';

const root = join(import.meta.dirname, '../..');
const tmp = mkdtempSync(join(tmpdir(), 'engram-diverged-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const noise = join(tmp, 'noise.mkv');
const S = ['--size', '8x8', '--frames', '4', '--max-steps', '50', '--no-recovery', '--monitor-every', '0', '--width', '32'];
/** The documented exit codes (docs/cli.md). */
const DOCUMENTED = [0, 1, 2, 3, 4, 130];

const cli = (...args: string[]) =>
  spawnSync(process.execPath, [join(root, 'bin/engram.mjs'), ...args], { encoding: 'utf8', cwd: tmp, timeout: 120_000 });
const events = (dir: string) => readFileSync(join(dir, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as EngramEvent);
const recallOf = (evs: EngramEvent[]) => evs.find((e): e is RecallEvent => e.kind === 'recall');

/** Ends with a result or a coded error, with a documented exit code. */
function expectNoInternalError(r: ReturnType<typeof cli>, what: string): void {
  const said = `${what}\nexit ${r.status}\nstderr:\n${r.stderr}`;
  expect(r.stderr, said).not.toMatch(/internal error|TypeError|at .*\.ts:\d+/);
  expect(DOCUMENTED, said).toContain(r.status);
  if (r.status === 1) expect(r.stderr, said).toMatch(/^engram: E_[A-Z_]+: /m);
}

beforeAll(() => {
  // 8 frames of random noise, lossless
  const ff = spawnSync('ffmpeg', ['-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'nullsrc=s=8x8:d=1,geq=random(1)*255:128:128', '-frames:v', '8', '-c:v', 'ffv1', noise], { encoding: 'utf8' });
  expect(ff.status, ff.stderr).toBe(0);
});

describe('recall of an iteration that diverges', () => {
  it('memorize --fit gradient --init uniform:5 --max-steps 1: the recall outcome is diverged, exit 0; recall of it exits 4', () => {
    const run = join(tmp, 'blowup');
    const r = cli('memorize', noise, ...S, '--fit', 'gradient', '--init', 'uniform:5', '--max-steps', '1', '--quiet', '--out', run);
    expectNoInternalError(r, 'memorize');
    expect(r.status, r.stderr).toBe(0);
    expect(recallOf(events(run))?.outcome).toMatchObject({ kind: 'diverged', recalled: false });
    expect(r.stdout).toMatch(/recall outcome\s*: diverged: no stored memory came back/);

    const again = cli('recall', run, '--quiet', '--out', join(tmp, 'blowup.mp4'));
    expectNoInternalError(again, 'recall');
    expect(again.status, again.stderr).toBe(4);
    expect(again.stdout).toMatch(/diverged: no stored memory came back/);
    expect(existsSync(join(tmp, 'blowup.mp4'))).toBe(true);

    // inspect says what memorize said: the training cycle is no stored memory (was "1/1 cycles are attractors")
    expect(r.stdout).toMatch(/attractors\s*: no stored memory to certify/);
    const i = cli('inspect', run, '--quiet');
    expectNoInternalError(i, 'inspect');
    expect(i.stdout).toMatch(/: no stored memory to certify; 1\/1 training cycle is not a stored memory/);
  });

  it('engram recall on a run whose weights were multiplied by 1e6: diverged (exit 4) or a coded error', () => {
    const run = join(tmp, 'trained');
    const m = cli('memorize', noise, ...S, '--quiet', '--out', run);
    expect(m.status, m.stderr).toBe(0);
    expect(m.stdout).toMatch(/attractors\s*: 1\/1 stored memories certified/);
    expect(cli('inspect', run, '--quiet').stdout).toMatch(/: 1\/1 stored cycle is an attractor; ρ /);
    const altered = join(tmp, 'altered');
    cpSync(run, altered, { recursive: true });
    scaleCheckpointWeights(join(altered, 'model.ckpt'), 1e6);

    const r = cli('recall', altered, '--quiet', '--out', join(tmp, 'altered.mp4'));
    expectNoInternalError(r, 'recall of altered weights');
    expect([1, 4], r.stderr).toContain(r.status);
    if (r.status === 4) {
      expect(r.stdout).toMatch(/no stored memory came back/);
      expect(recallOf(events(altered).filter((e) => e.kind === 'recall').slice(-1))?.outcome?.recalled).toBe(false);
    }
    // inspect certifies the altered net without failing either
    const i = cli('inspect', altered, '--quiet');
    expectNoInternalError(i, 'inspect of altered weights');
  });
});
