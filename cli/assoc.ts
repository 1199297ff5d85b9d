/**
 * `engram assoc`: the associative memory of SPEC §8 with its margins monitor. Options are checked
 * before anything is created; progress is one line per second (and every loss spike); the summary
 * gives the final L, L01, minimum margin and the fraction of positive margins.
 */
import { join } from 'node:path';
import { selectBackend, describeBackend, fallbackWarning } from '../engine/backend.ts';
import { ASSOC_OPTIMIZERS, parseEmbeddings, validateEmbeddings, type AssocOptimizerName } from '../engine/assoc.ts';
import { EngramError } from '../errors.ts';
import type { EngramEvent, MarginsEvent } from '../events.ts';
import { assoc, type AssocConfig, type AssocSummary } from '../pipelines/assoc.ts';
import { newRunId, prepareRunDir, readRunJson } from '../sinks/run-dir.ts';
import { parseFrequencies } from '../sources/tokens.ts';
import { num, type Parsed } from './args.ts';
import { Interrupted } from './interrupted.ts';
import { dashboardWanted, runWithDashboard } from './live.ts';
import { createProgressPrinter } from './progress.ts';

const bad = (message: string) => new EngramError('E_BAD_ARGUMENT', message);

/** Whether the user typed --flag (the shared option table's defaults belong to memorize). */
const given = (argv: string[], flag: string) => argv.some((x) => x === `--${flag}` || x.startsWith(`--${flag}=`));

export function buildAssocConfig(args: Parsed, argv: string[], id: string): AssocConfig {
  const v = args.values;
  const frequencies = parseFrequencies(v.frequencies ?? 'zipf:1');
  const n = num('n', v.n ?? (frequencies.kind === 'two' ? '2' : '64'), { int: true, min: 1 });
  if (frequencies.kind === 'two' && n !== 2) throw bad(`--frequencies two:P1 is for two tokens; use --n 2 (got --n ${n}) or zipf:ALPHA`);
  const embeddings = parseEmbeddings(v.embeddings ?? 'orthonormal');
  const m = num('m', v.m ?? String(Math.max(n, 2)), { int: true, min: 2 });
  const d = num('d', v.d ?? String(Math.max(n + (embeddings.kind === 'correlated' && n > 2 ? 1 : 0), m)), { int: true, min: 1 });
  validateEmbeddings({ n, m, d, embeddings });
  const optimizer = (given(argv, 'optimizer') ? v.optimizer : 'gd') as AssocOptimizerName;
  if (!ASSOC_OPTIMIZERS.includes(optimizer)) throw bad(`--optimizer for assoc must be one of ${ASSOC_OPTIMIZERS.join(', ')} (got '${optimizer}')`);
  const lr = given(argv, 'lr') ? num('lr', v.lr, { min: 0 }) : optimizer === 'adam' ? 0.01 : 10;
  if (!(lr > 0)) throw bad(`--lr must be > 0 (got '${v.lr}')`);
  const batch = v['batch-size'] === undefined ? (optimizer === 'sgd' ? 16 : undefined) : num('batch-size', v['batch-size'], { int: true, min: 1 });
  const init = v.w0 ?? 'zero';
  if (init !== 'zero' && init !== 'randn') throw bad(`--w0 must be zero or randn (got '${init}')`);
  return {
    runId: id, command: ['engram', ...argv].join(' '), outDir: v.out ?? join('runs', id),
    n, m, d, embeddings, frequencies, init, optimizer, lr, batch,
    steps: num('steps', v.steps ?? '1000', { int: true, min: 1 }),
    seed: num('seed', v.seed, { int: true, min: 0 }),
    marginsEvery: num('margins-every', v['margins-every'] ?? '100', { int: true, min: 1 }),
    lanczos: num('lanczos', v.lanczos ?? '30', { int: true, min: 0 }),
    plot: true,
  };
}

function describeMargins(e: MarginsEvent, steps: number): string {
  const pos = `${Math.round(e.fractionPositive * e.n)}/${e.n}`;
  return `step ${String(e.step).padStart(6)}/${steps}  L ${e.loss.toExponential(3)}  L01 ${e.loss01.toFixed(4)}  ` +
    `margin min ${e.min.toPrecision(4)} median ${e.median.toPrecision(4)}  m>0 ${pos}` +
    (e.stability !== null ? `  η·λmax/2 ${e.stability.toPrecision(3)}` : e.lambdaMax !== null ? `  λmax ${e.lambdaMax.toPrecision(3)}` : '') +
    (e.flips ? `  sign flips ${e.flips}` : '');
}

export function formatAssocSummary(s: AssocSummary, cfg: AssocConfig): string {
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
    ...(s.plot ? [`plot            : ${s.plot}`] : []),
  ].join('\n');
}

export async function assocCommand(args: Parsed, argv: string[]): Promise<number> {
  if (args.positionals.length > 1) throw bad('assoc takes no input; it makes its own tokens (see --n, --frequencies)');
  const cfg = buildAssocConfig(args, argv, newRunId('assoc'));
  prepareRunDir(cfg.outDir, args.values.force);
  const backend = await selectBackend(args.values.backend ?? (process.env.ENGRAM_BACKEND || undefined));
  const warn = fallbackWarning(backend);
  if (warn) console.error(warn);
  const quiet = args.values.quiet;
  if (!quiet) console.log(describeBackend(backend));
  if (dashboardWanted({ noTui: args.values['no-tui'], quiet })) {
    return runWithDashboard(() => assoc(cfg, backend), {
      commands: [], // assoc runs straight through: q quits, the other keys say they do not apply
      stopped: (step) => `stopped at step ${step}; the run in ${cfg.outDir} is marked cancelled (start it again with engram assoc)`,
      summary: () => {
        const run = readRunJson(cfg.outDir);
        return run.summary ? formatAssocSummary(run.summary as AssocSummary, cfg) : `run directory: ${cfg.outDir}`;
      },
      interrupted: (signal) => new Interrupted(cfg.outDir, signal, `${signal}: stopped; the run in ${cfg.outDir} is marked cancelled (start it again with engram assoc)`),
    });
  }
  const others = createProgressPrinter({ quiet, maxSteps: cfg.steps, lossTarget: 0 });
  let lastPrint = 0;
  let stop: (signal: NodeJS.Signals) => void = () => {};
  const stopped = await new Promise<NodeJS.Signals | null>((resolve, reject) => {
    const sub = assoc(cfg, backend).subscribe({
      next: (e: EngramEvent) => {
        if (quiet) return;
        if (e.kind === 'margins') {
          const now = Date.now();
          if (now - lastPrint >= 1000 || e.step === cfg.steps || e.step <= 1) {
            lastPrint = now;
            console.log(describeMargins(e, cfg.steps));
          }
        } else if (e.kind === 'spike' || e.kind === 'log') others(e);
      },
      error: reject,
      complete: () => resolve(null),
    });
    stop = (signal: NodeJS.Signals) => {
      sub.unsubscribe(); // writes run-end (cancelled) and marks run.json
      resolve(signal);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  }).finally(() => {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  });
  if (stopped) {
    console.error(`engram: ${stopped}: stopped; the run in ${cfg.outDir} is marked cancelled (start it again with engram assoc)`);
    return 130;
  }
  console.log(formatAssocSummary(readRunJson(cfg.outDir).summary as AssocSummary, cfg));
  return 0;
}
