/**
 * engram reproduce at the toy size, through the CLI: every experiment runs through the same code
 * path as --quick and --full (only the sizes differ) and writes its report, plots and result.json;
 * the index lists them; bad requests fail before anything is written.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { EngramEvent, ExperimentEvent } from '../../events.ts';
import { experimentNames } from '../../pipelines/reproduce.ts';
import { errorLines } from '../stderr.ts';

const root = join(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'engram-reproduce-e2e-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const engram = (...args: string[]) =>
  spawnSync(process.execPath, [join(root, 'bin/engram.mjs'), ...args], { encoding: 'utf8', cwd: dir, timeout: 600_000 });

const lines = (s: string) => s.trim().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as EngramEvent);
const ends = (events: EngramEvent[]) => events.filter((e): e is ExperimentEvent => e.kind === 'experiment' && e.phase === 'end');
const json = (p: string) => JSON.parse(readFileSync(p, 'utf8')) as Record<string, unknown>;

describe('engram reproduce --toy', () => {
  const out = join(dir, 'reports');
  let events: EngramEvent[] = [];
  let status: number | null = null;

  it('runs every experiment, each ending in a report with its verdict, table, plots and provenance', () => {
    const r = engram('reproduce', 'all', '--toy', '--out', out, '--json');
    events = lines(r.stdout);
    status = r.status;
    expect(errorLines(r.stderr)).toEqual([]);
    const done = ends(events);
    expect(done.map((e) => e.name)).toEqual(experimentNames());
    for (const e of done) {
      expect(e.status, `${e.name}: ${e.summary}`).not.toBe('failed');
      expect(e.summary!.length).toBeGreaterThan(10);
      const md = readFileSync(join(out, e.name, 'report.md'), 'utf8');
      expect(md).toMatch(/^# /);
      expect(md).toContain('**As published:**');
      expect(md).toMatch(/commit: [0-9a-f]{40}/);
      expect(readFileSync(join(out, e.name, 'report.html'), 'utf8')).toContain('<table>');
      const result = json(join(out, e.name, 'result.json'));
      expect(result).toMatchObject({ name: e.name, status: e.status, size: 'toy' });
      if (e.status === 'skipped') continue;
      expect(md).toContain('| | as published | measured | agrees? |'.replace('| |', '|  |'));
      // every picture the report shows is there, as a PNG
      for (const [, file] of md.matchAll(/!\[[^\]]*\]\(([^)]+)\)/g)) {
        expect(readFileSync(join(out, e.name, file)).subarray(1, 4).toString(), file).toBe('PNG');
      }
      expect((result.rows as unknown[]).length).toBeGreaterThan(0);
    }
    expect(status).toBe(0);
    // each report is dated when its experiment started
    const dates = done.map((e) => (json(join(out, e.name, 'result.json')).provenance as { date: string }).date);
    expect([...dates].sort()).toEqual(dates);
    expect(dates.at(-1)).not.toBe(dates[0]);
    const index = json(join(out, 'index.json')).experiments as { name: string; status: string }[];
    expect(index.map((x) => x.name)).toEqual(experimentNames());
    expect(readFileSync(join(out, 'index.md'), 'utf8')).toContain('[assoc-margins](assoc-margins/report.html)');
  }, 600_000); // eleven experiments in one process: 49 s here on plain wasm, 124 s on a slower CI host

  it('measures what the theory fixes exactly, even at the toy size', () => {
    // margins under orthonormal embeddings follow log(M·p·η·t) where it applies (the analysis is exact)
    const margins = json(join(out, 'assoc-margins', 'result.json'));
    expect(margins.status).toBe('agrees');
    expect((margins.measured as { errFlow: number }).errFlow).toBeLessThan(0.05);
    // one example from the rank-one start: the certificate is the closed form's ρ, and ρ > 1 is no attractor
    const single = json(join(out, 'single-example', 'result.json'));
    expect(single.status).toBe('agrees');
    const cases = (single.measured as { cases: { closed: { rho: number }; rhoAtX: number; attractor: boolean }[] }).cases;
    for (const k of cases) {
      expect(Math.abs(k.rhoAtX - k.closed.rho)).toBeLessThan(0.02 * k.closed.rho);
      expect(k.attractor).toBe(k.closed.rho < 1);
    }
    expect(cases.some((k) => k.closed.rho > 1)).toBe(true);
    // a learning rate past the edge ends the memorize run with E_DIVERGED: the catapult experiment counts it, it does not fail
    const runs = (json(join(out, 'catapult', 'result.json')).measured as { runs: { phase: string; diverged: string | null }[] }).runs;
    expect(runs.some((x) => x.phase === 'divergent' && /E_DIVERGED|diverged/.test(x.diverged ?? ''))).toBe(true);
    expect(runs.some((x) => x.phase === 'lazy')).toBe(true);
  });

  it('the digit experiments run through memorize --sequences and report what each noise start and each net did', () => {
    const cycles = json(join(out, 'digit-cycles', 'result.json'));
    const m = cycles.measured as { rho: ({ rho: number } | null)[]; reached: number[]; total: number; starts: { from: string; counts: Record<string, number> }[] };
    expect(m.rho).toHaveLength(2);
    expect(m.starts.map((s) => s.from)).toEqual(['gaussian', 'uniform']);
    expect(m.starts.reduce((a, s) => a + Object.values(s.counts).reduce((x, y) => x + y, 0), 0)).toBe(m.total);
    expect((cycles.commands as string[])[0]).toMatch(/^engram memorize \S+digit-cycles\/input --size 14x14 --gray --objective cycle --sequences 2 /);
    expect(readFileSync(join(out, 'digit-cycles', 'input', 'digit-019.png')).subarray(1, 4).toString()).toBe('PNG');
    const capacity = json(join(out, 'digit-capacity', 'result.json'));
    const cells = (capacity.measured as { cells: { encoding: string; stored: number | null; recovered: number }[] }).cells;
    expect(cells.map((c) => c.encoding)).toEqual(['10×1 (autoencode)', '2×5', '1×10']);
    for (const c of cells) expect(c.recovered).toBeLessThanOrEqual(10);
  });

  it('refuses to replace a report without --force, and unknown experiments, before running anything', () => {
    const again = engram('reproduce', 'assoc-margins', '--toy', '--out', out);
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/E_OUTPUT_EXISTS: .*assoc-margins already holds a report; add --force/);
    const bad = engram('reproduce', 'digit-cyles', '--toy', '--out', join(dir, 'none'));
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/unknown experiment 'digit-cyles'; the experiments are/);
    expect(existsSync(join(dir, 'none'))).toBe(false);
    const two = engram('reproduce', 'all', '--toy', '--full', '--out', join(dir, 'none'));
    expect(two.status).toBe(2);
    expect(two.stderr).toMatch(/--full and --toy exclude each other|--toy and --full exclude each other|exclude each other/);
  });

  it('reports a failed experiment with its error code, goes on with the next, and exits 1', () => {
    // a directory of footage whose one clip is damaged: footage fails, assoc-margins still runs
    const media = join(dir, 'bad-media');
    mkdirSync(media, { recursive: true });
    writeFileSync(join(media, 'broken.mp4'), Buffer.from('not a video at all, just bytes'));
    const failing = join(dir, 'failing');
    const r = engram('reproduce', 'footage,assoc-margins', '--toy', '--media', media, '--out', failing, '--json');
    expect(r.status).toBe(1);
    const done = ends(lines(r.stdout));
    expect(done.map((e) => [e.name, e.status])).toEqual([['footage', 'failed'], ['assoc-margins', 'agrees']]);
    expect(done[0].errorCode).toMatch(/^E_/);
    expect(done[0].errorCode).not.toBe('E_INTERNAL');
    const report = readFileSync(join(failing, 'footage', 'report.md'), 'utf8');
    expect(report).toContain('**Failed: no result.**');
    expect(report).toContain(done[0].errorCode!);
    expect(json(join(failing, 'footage', 'result.json'))).toMatchObject({ status: 'failed', errorCode: done[0].errorCode });
    expect((json(join(failing, 'index.json')).experiments as { name: string; status: string }[]).map((x) => x.status)).toEqual(['failed', 'agrees']);
  });

  it('with --force reruns one experiment, removes its earlier sub-runs and keeps the others in the index', () => {
    // an earlier run at another size left a sub-run this one does not write; a directory engram did not write stays
    const runs = join(out, 'assoc-margins', 'runs');
    mkdirSync(join(runs, 'earlier-size'), { recursive: true });
    writeFileSync(join(runs, 'earlier-size', 'run.json'), '{}');
    mkdirSync(join(runs, 'my-notes'), { recursive: true });
    writeFileSync(join(runs, 'my-notes', 'notes.txt'), 'mine');
    const r = engram('reproduce', 'assoc-margins', '--toy', '--out', out, '--force', '--quiet');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/1 experiment\(s\): 1 agree/);
    expect(existsSync(join(runs, 'earlier-size'))).toBe(false);
    expect(readFileSync(join(runs, 'my-notes', 'notes.txt'), 'utf8')).toBe('mine');
    const index = json(join(out, 'index.json')).experiments as { name: string }[];
    expect(index.map((x) => x.name)).toEqual(experimentNames());
  });
});
