/**
 * `engram basins`: a small FC net trained on a few 2-D points, then the plane coloured by the
 * point each grid cell's limit reaches (basins.png in the run directory, docs/math.md §6).
 */
import { join } from 'node:path';
import { EngramError } from '../errors.ts';
import type { AttractorEvent, BasinsEvent, RecallEvent } from '../events.ts';
import { basinsRun, parsePointSequences, type BasinsRunConfig } from '../pipelines/basins-run.ts';
import { checkFcOptions } from '../pipelines/config-checks.ts';
import { basinsEstimate, checkMemory } from '../pipelines/resources.ts';
import { checkRunDir, newRunId } from '../pipelines/run-dir.ts';
import { num, type Parsed } from './args.ts';
import { execute, presenterOf } from './execute.ts';
import type { StartBackend } from './main.ts';

const bad = (message: string) => new EngramError('E_BAD_ARGUMENT', message);

export async function basinsCommand(args: Parsed, argv: string[], startBackend: StartBackend): Promise<number> {
  const v = args.values;
  const objective = v.objective!;
  if (objective !== 'autoencode' && objective !== 'cycle') throw bad(`--objective for basins must be autoencode or cycle (got '${objective}')`);
  const { points, sequences } = parsePointSequences(v.points!);
  if (sequences.length > 1 && objective !== 'cycle') throw bad(`--points with | gives several sequences, which only --objective cycle stores (got --objective ${objective}); drop the | or add --objective cycle`);
  const model = {
    width: num('width', v.width, { int: true, min: 1 }), depth: num('depth', v.depth, { int: true, min: 1 }),
    activation: v.activation!, bias: !args.flags['no-bias'], init: v.init!, seed: num('seed', v.seed, { int: true, min: 0 }),
  };
  const optimizer = { name: v.optimizer as BasinsRunConfig['optimizer']['name'], lr: num('lr', v.lr, { min: 0 }) };
  checkFcOptions(2, model, optimizer);
  const id = newRunId('basins');
  const cfg: BasinsRunConfig = {
    runId: id, command: ['engram', ...argv].join(' '), outDir: v.out ?? join('runs', id), points, objective, ...(sequences.length > 1 ? { sequences } : {}), model, optimizer,
    lossTarget: num('loss-target', v['loss-target'], { min: 0 }),
    maxSteps: num('max-steps', v['max-steps'], { int: true, min: 1 }),
    grid: num('grid', v.grid, { int: true, min: 2 }), steps: num('recall-steps', v['recall-steps'], { int: true, min: 1 }),
    force: args.flags.force,
  };
  checkMemory(basinsEstimate({ grid: cfg.grid, width: model.width, depth: model.depth }));
  checkRunDir(cfg.outDir, args.flags.force);
  const backend = await startBackend(args);
  return execute({
    presenter: presenterOf(args),
    start: () => basinsRun(cfg, backend),
    commands: [],
    progress: { maxSteps: cfg.maxSteps, lossTarget: cfg.lossTarget },
    summary: (_view, events) => {
      const rec = events.find((e): e is RecallEvent => e.kind === 'recall');
      const b = events.find((e): e is BasinsEvent => e.kind === 'basins');
      const a = events.find((e): e is AttractorEvent => e.kind === 'attractors');
      if (!b) return null;
      const share = Object.entries(b.share).map(([k, f]) => `${/^\d+$/.test(k) ? `point ${k}` : k} ${(100 * f).toFixed(1)}%`).join(', ');
      return `basins: ${points.length} points, ${rec ? `${rec.framesStored}/${rec.framesTotal} stored as attractors` : ''}; grid ${cfg.grid}×${cfg.grid}: ${share} → ${join(cfg.outDir, 'basins.png')}` +
        (a && !a.skipped ? `; certified ${a.attractors}/${a.stored} (max ρ ${a.stored ? Math.max(...a.items.slice(0, a.stored).map((i) => i.rho)).toPrecision(3) : '–'})` : '') +
        (b.spurious ? `; spurious limits: ${b.spurious.limits.length} (${b.spurious.cells} cells)` : '');
    },
    stopped: () => `stopped; the run in ${cfg.outDir} is marked cancelled (start it again with engram basins)`,
  });
}
