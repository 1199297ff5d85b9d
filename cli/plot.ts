/** `engram plot <run-dir>`: redraw the run's plots (pipelines/plot.ts) and print `name: path` per plot. */
import { EngramError } from '../errors.ts';
import { plotJob } from '../pipelines/plot.ts';
import type { Parsed } from './args.ts';
import { execute, presenterOf } from './execute.ts';

export async function plotCommand(args: Parsed): Promise<number> {
  if (args.positionals.length !== 1) throw new EngramError('E_BAD_ARGUMENT', 'plot takes one run directory: engram plot <run-dir>');
  const runDir = args.positionals[0];
  return execute({
    presenter: presenterOf(args, { dashboard: false }),
    start: () => plotJob(runDir),
    line: (e) => (e.kind === 'artifact' ? `${e.path.split('/').pop()!.replace(/\.png$/, '')}: ${e.path}` : e.kind === 'log' ? (e.level === 'info' ? e.message : `note: ${e.message}`) : null),
    stopped: () => `plot of ${runDir} stopped`,
  });
}
