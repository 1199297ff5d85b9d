/**
 * `npm run fuzz`: the long form of the CLI fuzz (the CI form is cli.fuzz.test.ts, same generators and
 * contract). Draws N cases from a seed (random unless given, printed first), runs them two at a time,
 * prints a line per case and, at the end, a summary: cases by command, by exit code, by error code,
 * and every contract violation, deduplicated by command + kind + the stderr line that says most,
 * each with a replay command. Exits 1 if any case broke the contract.
 *
 *   npm run fuzz -- --runs 300                     # a random seed
 *   npm run fuzz -- --seed 42 --runs 300 --json /tmp/fuzz.json
 *   npm run fuzz -- --seed 42 --only 17            # replay case 17 of seed 42 (and keep its directory)
 *   FUZZ_SEED=42 FUZZ_RUNS=300 npm run fuzz
 *
 * Options: --runs N (default 200), --seed N, --jobs J (parallel cases, default 2), --timeout S (per
 * case, default 60), --only I[,I…], --json FILE (the summary as JSON), --keep (keep every case's
 * directory; those of violating cases are always kept).
 */
import { rmSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import fc from 'fast-check';
import { cliCaseArb, type CliCase } from './cli-cases.ts';
import { commandLine, describe, errorCodeOf, keyLine, runAndCheck, sessionRoot, signature, type Outcome, type Violation } from './cli-contract.ts';
import { buildFixtures } from './fixtures.ts';

const { values } = parseArgs({
  options: {
    runs: { type: 'string' }, seed: { type: 'string' }, jobs: { type: 'string', default: '2' }, timeout: { type: 'string', default: '60' },
    only: { type: 'string' }, json: { type: 'string' }, keep: { type: 'boolean', default: false },
  },
});
const int = (name: string, v: string | undefined): number | undefined => {
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new Error(`--${name} must be an integer (got '${v}')`);
  return n;
};
const seed = int('seed', values.seed ?? process.env.FUZZ_SEED) ?? (Math.random() * 2 ** 31) | 0;
const only = values.only?.split(',').map((s) => int('only', s)!);
const runs = Math.max(int('runs', values.runs ?? process.env.FUZZ_RUNS) ?? 200, only ? Math.max(...only) + 1 : 0);
const jobs = Math.max(1, int('jobs', values.jobs) ?? 2);
const timeoutMs = (int('timeout', values.timeout) ?? 60) * 1000;

interface Done { index: number; c: CliCase; outcome: Outcome; violations: Violation[] }

async function main(): Promise<number> {
  console.log(`engram CLI fuzz: seed ${seed}, ${only ? `cases ${only.join(',')} of ${runs}` : `${runs} cases`}, ${jobs} at a time, ${timeoutMs / 1000} s per case`);
  console.log(`replay: npm run fuzz -- --seed ${seed} --runs ${runs}   (one case: --only I)`);
  const t0 = Date.now();
  const fx = await buildFixtures();
  const root = sessionRoot();
  console.log(`fixtures in ${fx.dir} (${((Date.now() - t0) / 1000).toFixed(1)} s); case directories under ${root}`);
  const cases = fc.sample(cliCaseArb, { seed, numRuns: runs });
  const todo = only ?? cases.map((_, i) => i);
  const done: Done[] = [];
  let next = 0;
  const worker = async () => {
    while (next < todo.length) {
      const index = todo[next++];
      const c = cases[index];
      const { outcome, violations } = await runAndCheck(c, fx, root, { timeoutMs, keep: values.keep || only !== undefined });
      done.push({ index, c, outcome, violations });
      const code = errorCodeOf(outcome);
      console.log(`[${String(done.length).padStart(String(todo.length).length)}/${todo.length}] #${index} ${(c.command || '(none)').padEnd(9)} exit ${String(outcome.exit ?? outcome.signal).padEnd(3)} ${(code ?? '').padEnd(19)} ${(outcome.ms / 1000).toFixed(1).padStart(5)} s  ` +
        (violations.length ? `VIOLATION ${violations.map((v) => v.kind).join(', ')}` : 'ok'));
      if (violations.length || only) console.log(describe(c, outcome, violations));
    }
  };
  await Promise.all(Array.from({ length: Math.min(jobs, todo.length) }, worker));
  rmSync(fx.dir, { recursive: true, force: true });
  const wallMs = Date.now() - t0;

  // the summary
  const count = (key: (d: Done) => string) => {
    const m: Record<string, number> = {};
    for (const d of done) m[key(d)] = (m[key(d)] ?? 0) + 1;
    return Object.fromEntries(Object.entries(m).sort((a, b) => b[1] - a[1]));
  };
  const byCommand = count((d) => d.c.command || '(none)');
  const byExit = count((d) => String(d.outcome.timedOut ? 'hang' : d.outcome.exit ?? d.outcome.signal));
  const byErrorCode = count((d) => errorCodeOf(d.outcome) ?? (d.outcome.exit === 0 ? '(none: exit 0)' : '(none)'));
  const groups = new Map<string, { kind: string; cases: number[]; example: Done; message: string }>();
  for (const d of done.sort((a, b) => a.index - b.index)) {
    if (!d.violations.length) continue;
    const sig = signature(d.c, d.outcome, d.violations);
    const g = groups.get(sig);
    if (g) g.cases.push(d.index);
    else groups.set(sig, { kind: [...new Set(d.violations.map((v) => v.kind))].join('+'), cases: [d.index], example: d, message: d.violations.map((v) => v.message).join('; ') });
  }
  const violations = [...groups.entries()].map(([sig, g]) => ({
    signature: sig, kind: g.kind, count: g.cases.length, cases: g.cases, message: g.message,
    example: {
      index: g.example.index, command: g.example.c.command, argv: g.example.outcome.argv, dir: g.example.outcome.dir,
      commandLine: commandLine(g.example.outcome), exit: g.example.outcome.exit, signal: g.example.outcome.signal,
      keyLine: keyLine(g.example.outcome), stderrHead: g.example.outcome.stderr.split('\n').slice(0, 8).join('\n'),
      replay: `npm run fuzz -- --seed ${seed} --runs ${runs} --only ${g.example.index}`, case: g.example.c,
    },
  }));
  const violating = done.filter((d) => d.violations.length).length;

  console.log(`\n── engram CLI fuzz summary ──`);
  console.log(`seed ${seed}: ${done.length} cases in ${(wallMs / 1000).toFixed(0)} s (${jobs} at a time); ${violating} broke the contract, ${groups.size} distinct violation(s)`);
  console.log(`by command   : ${fmt(byCommand)}`);
  console.log(`by exit code : ${fmt(byExit)}`);
  console.log(`by error code: ${fmt(byErrorCode)}`);
  for (const [i, v] of violations.entries()) {
    console.log(`\n${i + 1}. ${v.signature}  (${v.count} case(s): #${v.cases.slice(0, 12).join(', #')}${v.cases.length > 12 ? ', …' : ''})`);
    console.log(describe(v.example.case, groups.get(v.signature)!.example.outcome, groups.get(v.signature)!.example.violations));
    console.log(`  replay: ${v.example.replay}`);
  }
  if (values.json) {
    const cases = done.map((d) => ({
      index: d.index, command: d.c.command, argv: d.outcome.argv, exit: d.outcome.exit, signal: d.outcome.signal, sentSignal: d.outcome.sentSignal,
      timedOut: d.outcome.timedOut, ms: d.outcome.ms, errorCode: errorCodeOf(d.outcome), keyLine: keyLine(d.outcome), violations: d.violations.map((v) => v.kind),
    }));
    writeFileSync(values.json, JSON.stringify({ seed, runs, jobs, timeoutMs, wallMs, total: done.length, violating, byCommand, byExit, byErrorCode, violations, cases }, null, 2) + '\n');
    console.log(`\nsummary written to ${values.json}`);
  }
  if (!values.keep && !only && violating === 0) rmSync(root, { recursive: true, force: true });
  else console.log(`case directories kept under ${root}`);
  return violating ? 1 : 0;
}

const fmt = (m: Record<string, number>) => Object.entries(m).map(([k, n]) => `${k} ${n}`).join(', ');

main().then((code) => process.exit(code), (e) => {
  console.error(e);
  process.exit(2);
});
