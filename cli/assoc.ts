/**
 * `engram assoc`: the associative memory of docs/math.md §8 with its margins monitor. Options are checked
 * before anything is created; progress is one line per second (and every loss spike); the summary
 * gives the final L, L01, minimum margin and the fraction of positive margins.
 */
import { join } from 'node:path';
import { EngramError } from '../errors.ts';
import type { EngramEvent, MarginsEvent } from '../events.ts';
import {
  ASSOC_OPTIMIZERS, assoc, parseEmbeddings, parseFrequencies, validateEmbeddings, type AssocConfig, type AssocOptimizerName, type AssocSummary,
} from '../pipelines/assoc.ts';
import { assocEstimate, checkMemory } from '../pipelines/resources.ts';
import { checkRunDir, newRunId, readRunJson } from '../pipelines/run-dir.ts';
import { num, type Parsed } from './args.ts';
import { execute, presenterOf } from './execute.ts';
import type { StartBackend } from './main.ts';

const bad = (message: string) => new EngramError('E_BAD_ARGUMENT', message);

export function buildAssocConfig(args: Parsed, argv: string[], id: string): AssocConfig {
  const v = args.values;
  const frequencies = parseFrequencies(v.frequencies!);
  const n = num('n', v.n ?? (frequencies.kind === 'two' ? '2' : '64'), { int: true, min: 1 });
  if (frequencies.kind === 'two' && n !== 2) throw bad(`--frequencies two:P1 is for two tokens; use --n 2 (got --n ${n}) or zipf:ALPHA`);
  const embeddings = parseEmbeddings(v.embeddings!);
  const m = num('m', v.m ?? String(Math.max(n, 2)), { int: true, min: 2 });
  const d = num('d', v.d ?? String(Math.max(n + (embeddings.kind === 'correlated' && n > 2 ? 1 : 0), m)), { int: true, min: 1 });
  validateEmbeddings({ n, m, d, embeddings });
  const optimizer = v.optimizer as AssocOptimizerName;
  if (!ASSOC_OPTIMIZERS.includes(optimizer)) throw bad(`--optimizer for assoc must be one of ${ASSOC_OPTIMIZERS.join(', ')} (got '${optimizer}')`);
  const lr = v.lr !== undefined ? num('lr', v.lr, { min: 0 }) : optimizer === 'adam' ? 0.01 : 10;
  if (!(lr > 0)) throw bad(`--lr must be > 0 (got '${v.lr}')`);
  const batch = v['batch-size'] === undefined ? (optimizer === 'sgd' ? 16 : undefined) : num('batch-size', v['batch-size'], { int: true, min: 1 });
  const init = v.w0!;
  if (init !== 'zero' && init !== 'randn') throw bad(`--w0 must be zero or randn (got '${init}')`);
  return {
    runId: id, command: ['engram', ...argv].join(' '), outDir: v.out ?? join('runs', id),
    n, m, d, embeddings, frequencies, init, optimizer, lr, batch,
    steps: num('steps', v.steps, { int: true, min: 1 }),
    seed: num('seed', v.seed, { int: true, min: 0 }),
    marginsEvery: num('margins-every', v['margins-every'], { int: true, min: 1 }),
    lanczos: num('lanczos', v.lanczos, { int: true, min: 0 }),
    plot: true, force: args.flags.force,
  };
}

function describeMargins(e: MarginsEvent, steps: number): string {
  const pos = `${Math.round(e.fractionPositive * e.n)}/${e.n}`;
  return `step ${String(e.step).padStart(6)}/${steps}  L ${e.loss.toExponential(3)}  L01 ${e.loss01.toFixed(4)}  ` +
    `margin min ${e.min.toPrecision(4)} median ${e.median.toPrecision(4)}  m>0 ${pos}` +
    (e.stability !== null ? `  η·λmax/2 ${e.stability.toPrecision(3)}` : e.lambdaMax !== null ? `  λmax ${e.lambdaMax.toPrecision(3)}` : '') +
    (e.flips ? `  sign flips ${e.flips}` : '');
}

export function formatAssocSummary(s: AssocSummary, cfg: AssocConfig, plots: string[] = []): string {
  return [
    '── assoc summary ──',
    `steps           : ${s.steps} (${cfg.optimizer}, lr ${cfg.lr}${cfg.batch ? `, batch ${cfg.batch}` : ''})`,
    `loss L          : ${s.loss.toExponential(4)}`,
    `0-1 loss L01    : ${s.loss01.toFixed(4)}`,
    `min margin      : ${s.minMargin.toPrecision(5)} (median ${s.medianMargin.toPrecision(5)})`,
    `margins > 0     : ${(s.fractionPositive * 100).toFixed(1)}% of ${cfg.n} tokens`,
    `η·λ_max/2       : ${s.stability !== null ? `${s.stability.toPrecision(4)} (λ_max ${s.lambdaMax!.toPrecision(4)})` : s.lambdaMax !== null ? `n/a for ${cfg.optimizer} (λ_max ${s.lambdaMax.toPrecision(4)})` : 'not computed'}`,
    `loss spikes     : ${s.spikes}`,
    `wall time       : ${(s.wallMs / 1000).toFixed(1)} s`,
    `backend         : ${s.backend}`,
    `run directory   : ${s.outDir}`,
    ...plots.map((p) => `plot            : ${p}`),
  ].join('\n');
}

export async function assocCommand(args: Parsed, argv: string[], startBackend: StartBackend): Promise<number> {
  if (args.positionals.length) throw bad('assoc takes no input; it makes its own tokens (see --n, --frequencies)');
  const cfg = buildAssocConfig(args, argv, newRunId('assoc'));
  checkMemory(assocEstimate(cfg), { backend: args.values.backend ?? (process.env.ENGRAM_BACKEND || undefined) });
  checkRunDir(cfg.outDir, args.flags.force);
  const backend = await startBackend(args);
  let lastPrint = 0;
  return execute({
    presenter: presenterOf(args),
    start: () => assoc(cfg, backend),
    commands: [], // assoc runs straight through: q quits, the other keys say they do not apply
    line: (e: EngramEvent) => {
      if (e.kind === 'margins') {
        const now = Date.now();
        if (now - lastPrint < 1000 && e.step !== cfg.steps && e.step > 1) return null;
        lastPrint = now;
        return describeMargins(e, cfg.steps);
      }
      return e.kind === 'spike' || e.kind === 'log' ? undefined : null;
    },
    summary: () => {
      const run = readRunJson(cfg.outDir);
      return run.summary ? formatAssocSummary(run.summary as AssocSummary, cfg, (run.plots as string[] | undefined) ?? []) : `run directory: ${cfg.outDir}`;
    },
    stopped: () => `stopped; the run in ${cfg.outDir} is marked cancelled (start it again with engram assoc)`,
  });
}
