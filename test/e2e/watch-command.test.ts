import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fixtureRun, liveRun } from '../tui/fixtures.ts';

const root = join(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'engram-watchcmd-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const engram = (args: string[]) => {
  const child = spawn(process.execPath, [join(root, 'bin/engram.mjs'), ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CI: '' } });
  let stdout = '', stderr = '';
  const waiting: { text: string; resolve: () => void }[] = [];
  const check = () => {
    for (const w of [...waiting]) if (stdout.includes(w.text) || child.exitCode !== null) waiting.splice(waiting.indexOf(w), 1), w.resolve();
  };
  child.stdout.on('data', (b) => ((stdout += b), check()));
  child.stderr.on('data', (b) => (stderr += b));
  const code = new Promise<number | null>((r) => child.on('exit', (c) => (r(c), check())));
  /** Resolves once stdout contains `text`, or the process has exited (then the caller's expect says what is missing). */
  const printed = (text: string) => new Promise<void>((resolve) => (waiting.push({ text, resolve }), check()));
  return { code, out: () => stdout, err: () => stderr, printed };
};
const lines = (events: unknown[]) => events.map((e) => JSON.stringify(e) + '\n').join('');

describe('engram watch (no terminal)', () => {
  it('prints the final state of a finished run, ignoring a torn last line', async () => {
    const run = join(dir, 'done');
    mkdirSync(run);
    writeFileSync(join(run, 'events.jsonl'), lines(fixtureRun({ steps: 300 })) + '{"kind":"log","mess');
    const r = engram(['watch', run]);
    expect(await r.code).toBe(0);
    const out = r.out();
    expect(out).not.toMatch(/\x1b\[/);
    expect(out).toContain('demo-fixture: complete at step 300');
    expect(out).toMatch(/frames recalled : 47\/48/);
    expect(out).toMatch(/attractors {6}: 2\/3 stored memories certified/);
    expect(out).toMatch(/steps {11}: 300 \(step-cap/);
    expect(out).toMatch(/loss spikes {5}: 1/);
  });

  it('follows a run that is still writing, with plain lines, until it ends', async () => {
    const run = join(dir, 'live');
    mkdirSync(run);
    const all = fixtureRun({ steps: 300 });
    const cut = all.findIndex((e) => e.kind === 'train-end');
    writeFileSync(join(run, 'events.jsonl'), lines(all.slice(0, cut)));
    const r = engram(['watch', run]);
    await r.printed('following');
    expect(r.out()).toContain('demo-fixture: running at step 300 (following');
    appendFileSync(join(run, 'events.jsonl'), lines(all.slice(cut)));
    expect(await r.code).toBe(0);
    const out = r.out();
    expect(out).toMatch(/^training stopped \(step-cap\) at step 300/m);
    expect(out).toMatch(/^recall from gaussian: cycle/m);
    expect(out.trimEnd()).toMatch(/run directory +: .*live$/);
  });

  it('follows a live run (memorize --live): its stream and recallable-now lines, and both in the summary', async () => {
    const run = join(dir, 'live-stream');
    mkdirSync(run);
    const all = liveRun({ seconds: 40 });
    const cut = all.findIndex((e) => e.kind === 'live' && e.streamSeconds === 20);
    writeFileSync(join(run, 'events.jsonl'), lines(all.slice(0, cut)));
    const r = engram(['watch', run]);
    await r.printed('run directory');
    // the summary so far: the probe at 15 s, half of 37 frames back
    expect(r.out()).toContain('recallable now  : no: 18/37 out of order, 24.5 dB, NOT certified ρ 1.4');
    appendFileSync(join(run, 'events.jsonl'), lines([...all.slice(cut), { ...all.at(-1)!, kind: 'run-end', status: 'complete', wallMs: 40_500 }]));
    expect(await r.code).toBe(0);
    const out = r.out();
    expect(out).toMatch(/^live: 0\.0 fps in, 0\.0 admitted, 0% dropped · 48 stored \(frames 242–289\) · reconnecting \(gap 1\)$/m);
    expect(out).toMatch(/^recallable now: 48\/48 in order, 131\.2 dB, certified ρ 0\.09 \(frames 342–389\)$/m);
    expect(out).toContain('recallable now  : yes: 48/48 in order, 131.2 dB, certified ρ 0.09 (frames 342–389); 3/8 probes recallable');
  });

  it('names the directory when there is no run in it', async () => {
    const r = engram(['watch', join(dir, 'nope')]);
    expect(await r.code).toBe(1);
    expect(r.err()).toMatch(/run directory .*nope does not exist/);
  });
});

describe('engram watch and run.json (issue 10)', () => {
  const runJson = (run: string, o: Record<string, unknown>) =>
    writeFileSync(join(run, 'run.json'), JSON.stringify({ id: 'r10', command: 'engram memorize x', created: '2026-01-01T00:00:00.000Z', updated: '2026-01-01T00:00:05.000Z', ...o }));
  const unfinished = () => {
    const all = fixtureRun({ steps: 300 });
    return all.slice(0, all.findIndex((e) => e.kind === 'train-end'));
  };
  /** A pid that was alive a moment ago and is not now. */
  const deadPid = () => spawnSync(process.execPath, ['-e', '']).pid!;

  it('a finished run with an empty log: says what run.json says and exits 0', async () => {
    const run = join(dir, 'empty-done');
    mkdirSync(run);
    writeFileSync(join(run, 'events.jsonl'), '');
    runJson(run, { status: 'complete', summary: { steps: 50, finalLoss: 1.5e-9, trainReason: 'loss-target' } });
    const r = engram(['watch', run]);
    expect(await r.code).toBe(0);
    expect(r.out()).toContain('r10: complete (per run.json; events.jsonl has no events)');
    expect(r.out()).toMatch(/steps {11}: 50 \(loss-target, final loss 1\.500e-9\)/);
    const failed = join(dir, 'empty-failed');
    mkdirSync(failed);
    writeFileSync(join(failed, 'events.jsonl'), '');
    runJson(failed, { status: 'failed', error: 'ffmpeg said no', errorCode: 'E_FFMPEG' });
    const f = engram(['watch', failed, '--json']);
    expect(await f.code).toBe(0);
    expect(f.err()).toContain('r10: failed (per run.json');
  });

  it('a run that run.json says ended, whose log lacks its run-end, is not followed', async () => {
    const run = join(dir, 'no-run-end');
    mkdirSync(run);
    writeFileSync(join(run, 'events.jsonl'), lines(unfinished()));
    runJson(run, { status: 'cancelled' });
    const r = engram(['watch', run]);
    expect(await r.code).toBe(0);
    expect(r.out()).toContain('demo-fixture: cancelled at step 300\n');
  });

  it('a running run whose writer died: says so, where it stopped and how to resume; exit 1', async () => {
    const run = join(dir, 'dead');
    mkdirSync(join(run, 'checkpoints'), { recursive: true });
    writeFileSync(join(run, 'checkpoints', 'step-000000200.ckpt'), 'x');
    writeFileSync(join(run, 'events.jsonl'), lines(unfinished()));
    const pid = deadPid();
    runJson(run, { status: 'running', writer: { pid, host: hostname() }, heartbeat: new Date().toISOString() });
    const r = engram(['watch', run]);
    expect(await r.code).toBe(1);
    expect(r.err()).toContain(`the process writing ${run} (pid ${pid}) is gone; the run stopped at step 300 without finishing; resume with engram memorize --resume ${run}`);
    // --json: the log so far, then the error line
    const j = engram(['watch', run, '--json']);
    expect(await j.code).toBe(1);
    expect(JSON.parse(j.out().trim().split('\n').at(-1)!)).toMatchObject({ kind: 'error', code: 'E_RUN_ABANDONED' });
  });

  it('a writer on another host whose heartbeat stopped is gone; no checkpoint: no resume offered', async () => {
    const run = join(dir, 'stale');
    mkdirSync(run);
    writeFileSync(join(run, 'events.jsonl'), lines(unfinished()));
    runJson(run, { status: 'running', writer: { pid: 1, host: 'elsewhere.invalid' }, heartbeat: new Date(Date.now() - 60_000).toISOString() });
    const r = engram(['watch', run]);
    expect(await r.code).toBe(1);
    expect(r.err()).toMatch(/the process writing .*stale \(pid 1 on elsewhere\.invalid\) has not been heard from for 6\d s; the run stopped at step 300 without finishing; it saved no checkpoint/);
    expect(r.err()).not.toContain('--resume');
  });

  it('following a run whose writer dies while watched: stops within seconds with E_RUN_ABANDONED', async () => {
    const run = join(dir, 'dies');
    mkdirSync(run);
    writeFileSync(join(run, 'events.jsonl'), lines(unfinished()));
    const writer = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    try {
      runJson(run, { status: 'running', writer: { pid: writer.pid, host: hostname() }, heartbeat: new Date().toISOString() });
      const r = engram(['watch', run]);
      await r.printed('following');
      writer.kill('SIGKILL');
      const t0 = Date.now();
      expect(await r.code).toBe(1);
      expect(Date.now() - t0).toBeLessThan(10_000);
      expect(r.err()).toContain(`(pid ${writer.pid}) is gone; the run stopped at step 300 without finishing`);
    } finally {
      writer.kill('SIGKILL');
    }
  });
});
