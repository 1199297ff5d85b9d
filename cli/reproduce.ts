/**
 * `engram reproduce <experiment|all> [--quick|--full|--toy] [--out reports/]`: the research's
 * experiments, each through engram's own pipelines, each ending in a report (pipelines/reproduce.ts).
 * Progress lines while they run (a bar on a terminal); the verdicts at the end; exit 1 when an
 * experiment failed (its report says why), 0 otherwise — a measured result that disagrees with the
 * published one is a result, not a failure.
 */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { EngramError } from '../errors.ts';
import type { EngramEvent, ExperimentEvent } from '../events.ts';
import { checkReportsDir, defaultMediaDir, reproduce, selectExperiments, type ReproduceConfig } from '../pipelines/reproduce.ts';
import { newRunId } from '../pipelines/run-dir.ts';
import { describeProgress } from '../tui/units.ts';
import { describeExperiment } from '../tui/view-state.ts';
import { num, type Parsed } from './args.ts';
import { EXIT, execute, presenterOf } from './execute.ts';
import type { StartBackend } from './main.ts';

const bad = (message: string) => new EngramError('E_BAD_ARGUMENT', message);

/** A 20-cell bar of done/total ([########............]); blank cells when the total is unknown. */
export function progressBar(done: number, total: number | null, cells = 20): string {
  const filled = total && total > 0 ? Math.max(0, Math.min(cells, Math.round((cells * done) / total))) : 0;
  return `[${'#'.repeat(filled)}${'.'.repeat(cells - filled)}]`;
}

export async function reproduceCommand(args: Parsed, argv: string[], startBackend: StartBackend): Promise<number> {
  const f = args.flags, v = args.values;
  const sizes = (['quick', 'full', 'toy'] as const).filter((k) => f[k]);
  if (sizes.length > 1) throw bad(`${sizes.map((k) => `--${k}`).join(' and ')} exclude each other; pick one size`);
  const experiments = selectExperiments(args.positionals);
  let media: string | null = null;
  if (v.media !== undefined) {
    if (!existsSync(v.media) || !statSync(v.media).isDirectory()) throw new EngramError('E_INPUT_MISSING', `--media ${v.media} is not a directory; pass a directory of video clips`);
    media = resolve(v.media);
  } else media = defaultMediaDir();
  const cfg: ReproduceConfig = {
    runId: newRunId('reproduce'), command: ['engram', ...argv].join(' '), experiments, size: sizes[0] ?? 'quick',
    outDir: v.out!, force: f.force, seed: num('seed', v.seed, { int: true, min: 0 }), media,
  };
  checkReportsDir(cfg);
  const backend = await startBackend(args);
  const presenter = presenterOf(args, { dashboard: false });
  if (presenter === 'lines') console.log(`reproducing ${experiments.join(', ')} at the ${cfg.size} size into ${cfg.outDir}/`);
  const ends = (events: EngramEvent[]) => events.filter((e): e is ExperimentEvent => e.kind === 'experiment' && e.phase === 'end');
  return execute({
    presenter,
    start: () => reproduce(cfg, backend),
    commands: [],
    // the sub-runs' own lines would drown the verdicts: experiments, progress and warnings only
    line: (e) => (e.kind === 'experiment' ? describeExperiment(e) + (e.report ? ` → ${e.report}` : '')
      : e.kind === 'progress' ? `${progressBar(e.done, e.total)} ${describeProgress(e)}`
      : e.kind === 'log' || e.kind === 'artifact' ? undefined : null),
    summary: (_view, events) => {
      const done = ends(events);
      const count = (s: string) => done.filter((e) => e.status === s).length;
      return `\n${done.length} experiment(s): ${count('agrees')} agree, ${count('partly')} partly, ${count('disagrees')} disagree, ${count('failed')} failed, ${count('skipped')} skipped; ` +
        `the index is ${cfg.outDir}/index.md (index.html in a browser)`;
    },
    exitCode: (events) => (ends(events).some((e) => e.status === 'failed') ? EXIT.failed : EXIT.done),
    stopped: () => `stopped; the reports written so far are in ${cfg.outDir}/ (the experiment in progress wrote none; run it again with --force)`,
  });
}
