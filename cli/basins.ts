/**
 * `engram basins`: a small FC net trained on a few 2-D points, then the plane coloured by the
 * point each grid cell's limit reaches (basins.png in the run directory, SPEC §6).
 */
import { join } from 'node:path';
import { selectBackend, describeBackend, fallbackWarning } from '../engine/backend.ts';
import { parseInit } from '../engine/initializers.ts';
import { validateSpec } from '../engine/model.ts';
import { withDefaults } from '../engine/optimizers.ts';
import { EngramError, isEngramError } from '../errors.ts';
import type { BasinsEvent, EngramEvent, RecallEvent } from '../events.ts';
import { basinsRun, DEFAULT_POINTS, parsePoints, type BasinsRunConfig } from '../pipelines/basins-run.ts';
import { newRunId, prepareRunDir } from '../sinks/run-dir.ts';
import { num, type Parsed } from './args.ts';
import { Interrupted } from './interrupted.ts';
import { createProgressPrinter } from './progress.ts';

const bad = (message: string) => new EngramError('E_BAD_ARGUMENT', message);

/** `argv` tells which options were given, so the small-net defaults apply only to the others. */
export async function basinsCommand(args: Parsed, argv: string[]): Promise<number> {
  const v = args.values;
  const given = (flag: string) => argv.some((x) => x === `--${flag}` || x.startsWith(`--${flag}=`));
  const pick = (flag: keyof Parsed['values'], dflt: string) => (given(flag) ? (v[flag] as string) : dflt);
  const objective = pick('objective', 'autoencode');
  if (objective !== 'autoencode' && objective !== 'cycle') throw bad(`--objective for basins must be autoencode or cycle (got '${objective}')`);
  const points = v.points === undefined ? DEFAULT_POINTS : parsePoints(v.points);
  const model = {
    width: num('width', pick('width', '64'), { int: true, min: 1 }), depth: num('depth', v.depth, { int: true, min: 1 }),
    activation: v.activation, bias: !v['no-bias'], init: v.init, seed: num('seed', v.seed, { int: true, min: 0 }),
  };
  const optimizer = { name: v.optimizer as BasinsRunConfig['optimizer']['name'], lr: num('lr', pick('lr', '1e-3'), { min: 0 }) };
  try {
    validateSpec({ kind: 'fc', dim: 2, ...model });
    if (parseInit(model.init).kind === 'rank1' && model.depth !== 1) throw new Error('--init rank1 needs --depth 1 (a single hidden layer)');
    withDefaults(optimizer);
  } catch (e) {
    throw isEngramError(e) ? e : bad((e as Error).message);
  }
  const id = newRunId('basins');
  const cfg: BasinsRunConfig = {
    runId: id, command: ['engram', ...argv].join(' '), outDir: v.out ?? join('runs', id), points, objective, model, optimizer,
    lossTarget: num('loss-target', v['loss-target'], { min: 0 }),
    maxSteps: num('max-steps', pick('max-steps', '5000'), { int: true, min: 1 }),
    grid: num('grid', v.grid, { int: true, min: 2 }), steps: num('recall-steps', pick('recall-steps', '1000'), { int: true, min: 1 }),
  };
  prepareRunDir(cfg.outDir, v.force);
  const backend = await selectBackend(v.backend ?? (process.env.ENGRAM_BACKEND || undefined));
  const warn = fallbackWarning(backend);
  if (warn) console.error(warn);
  if (!v.quiet) console.log(describeBackend(backend));
  const printer = createProgressPrinter({ quiet: v.quiet, maxSteps: cfg.maxSteps, lossTarget: cfg.lossTarget });
  const events: EngramEvent[] = [];
  let onSignal: (signal: NodeJS.Signals) => void = () => {};
  await new Promise<void>((resolve, reject) => {
    const sub = basinsRun(cfg, backend).subscribe({ next: (e) => (events.push(e), printer(e)), error: reject, complete: resolve });
    onSignal = (signal) => {
      sub.unsubscribe(); // writes run-end (cancelled) and marks run.json
      reject(new Interrupted(cfg.outDir, signal, `${signal}: stopped; the run in ${cfg.outDir} is marked cancelled (start it again with engram basins)`));
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  }).finally(() => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  });
  const rec = events.find((e): e is RecallEvent => e.kind === 'recall');
  const b = events.find((e): e is BasinsEvent => e.kind === 'basins')!;
  const share = Object.entries(b.share).map(([k, f]) => `${/^\d+$/.test(k) ? `point ${k}` : k} ${(100 * f).toFixed(1)}%`).join(', ');
  console.log(`basins: ${points.length} points, ${rec ? `${rec.framesStored}/${rec.framesTotal} stored as attractors` : ''}; grid ${cfg.grid}×${cfg.grid}: ${share} → ${join(cfg.outDir, 'basins.png')}`);
  return 0;
}
