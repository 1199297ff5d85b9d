/**
 * engram watch <run-dir>: the dashboard of a run rebuilt from its events.jsonl, following the file
 * while the run is still writing it (a run in the background, in another shell, or finished),
 * through the one executor like every command. Without a terminal: the summary so far and, while
 * the run goes on, plain progress lines until it ends; --json: the log so far, then followed, as
 * JSON lines.
 */
import { EMPTY, concat, from } from 'rxjs';
import { watchRun } from '../pipelines/watch.ts';
import { reduceEvents } from '../tui/view-state.ts';
import { execute, type PresenterName } from './execute.ts';
import { formatSummary } from './progress.ts';

export interface WatchOptions {
  presenter: PresenterName;
  /** Poll interval for new events, ms. */
  pollMs?: number;
}

export async function watchCommand(runDir: string, o: WatchOptions): Promise<number> {
  const watched = watchRun(runDir);
  const state = reduceEvents(watched.events);
  const live = state.status === 'running' || state.status === 'idle';
  const stopped = () => `stopped watching ${runDir}; the run goes on`;
  if (o.presenter === 'json') {
    return execute({
      presenter: 'json',
      start: () => concat(from(watched.events), live ? watched.follow({ pollMs: o.pollMs, untilEnd: true }) : EMPTY),
      stopped,
    });
  }
  if (o.presenter === 'dashboard') {
    return execute({
      presenter: 'dashboard', initial: state,
      watching: { live: (view) => view.status === 'running' || view.status === 'idle' },
      start: () => watched.follow({ pollMs: o.pollMs }),
      stopped,
    });
  }
  if (o.presenter === 'lines') {
    console.log(`${state.runId ?? runDir}: ${state.status} at step ${state.step}${live ? ' (following; Ctrl-C stops watching)' : ''}`);
    console.log(formatSummary(state, runDir));
  }
  if (!live) return o.presenter === 'quiet' ? (console.log(formatSummary(state, runDir)), 0) : 0;
  return execute({
    presenter: o.presenter, initial: state,
    progress: { maxSteps: state.maxSteps ?? 0, lossTarget: state.lossTarget ?? 0 },
    start: () => watched.follow({ pollMs: o.pollMs, untilEnd: true }),
    summary: (view) => formatSummary(view, runDir),
    stopped,
  });
}
