/**
 * engram watch <run-dir>: the dashboard of a run rebuilt from its events.jsonl, following the file
 * while the run is still writing it (a run in the background, in another shell, or finished),
 * through the one executor like every command. Without a terminal: the summary so far and, while
 * the run goes on, plain progress lines until it ends; --json: the log so far, then followed, as
 * JSON lines.
 *
 * run.json has the last word on whether the run goes on: one it says ended is not followed (an
 * empty log shows what run.json says), and one whose writer is gone (pipelines/watch.ts) ends the
 * watch with E_RUN_ABANDONED (exit 1) saying where it stopped and how to resume it.
 */
import { EMPTY, concat, from, throwError } from 'rxjs';
import type { RunJson } from '../pipelines/run-dir.ts';
import { abandoned, watchRun } from '../pipelines/watch.ts';
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
  const writer = watched.writer();
  const ended = writer.kind === 'ended' ? writer.run : null;
  const live = !ended && (state.status === 'running' || state.status === 'idle');
  const status = ended && (state.status === 'running' || state.status === 'idle') ? ended.status : state.status;
  const stopped = () => `stopped watching ${runDir}; the run goes on`;
  if (writer.kind === 'gone' && live) {
    const err = abandoned(runDir, writer);
    if (o.presenter === 'json') return execute({ presenter: 'json', start: () => concat(from(watched.events), throwError(() => err)), stopped });
    if (o.presenter === 'lines') console.log(`${state.runId ?? runDir}: ${state.status} at step ${state.step}, but its writer is gone`);
    throw err;
  }
  if (ended && !watched.events.length) {
    // nothing logged: what run.json says is all there is
    const say = describeRunJson(runDir, ended);
    if (o.presenter === 'json') console.error(`engram: ${say.replace(/\n/g, '; ')}`);
    else console.log(say);
    return 0;
  }
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
    console.log(`${state.runId ?? runDir}: ${status} at step ${state.step}${live ? ' (following; Ctrl-C stops watching)' : ''}`);
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

/** A run known only from its run.json: its status, and the summary or error it records. */
export function describeRunJson(runDir: string, run: RunJson): string {
  const s = run.summary as { steps?: number; finalLoss?: number | null; trainReason?: string } | undefined;
  const lines = [`${run.id ?? runDir}: ${run.status} (per run.json; events.jsonl has no events)`];
  if (s?.steps !== undefined) lines.push(`steps           : ${s.steps}${s.trainReason ? ` (${s.trainReason}` : ''}${typeof s.finalLoss === 'number' ? `, final loss ${s.finalLoss.toExponential(3)}` : ''}${s.trainReason ? ')' : ''}`);
  if (typeof run.error === 'string') lines.push(`error           : ${run.error}${typeof run.errorCode === 'string' ? ` (${run.errorCode})` : ''}`);
  lines.push(`updated         : ${run.updated ?? 'n/a'}`);
  lines.push(`run directory   : ${runDir}`);
  return lines.join('\n');
}
