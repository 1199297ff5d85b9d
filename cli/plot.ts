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
    line: (e) => {
      if (e.kind === 'artifact') return `${e.path.split('/').pop()!.replace(/\.png$/, '')}: ${e.path}`;
      if (e.kind !== 'log') return null;
      if (e.level === 'info') return e.message;
      console.error(`note: ${e.message}`); // about the log, not a result: stdout stays the list of plots
      return null;
    },
    stopped: () => `plot of ${runDir} stopped`,
  });
}
