import { spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fixtureRun } from '../tui/fixtures.ts';

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

  it('names the directory when there is no run in it', async () => {
    const r = engram(['watch', join(dir, 'nope')]);
    expect(await r.code).toBe(1);
    expect(r.err()).toMatch(/run directory .*nope does not exist/);
  });
});
