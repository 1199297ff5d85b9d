/**
 * engram watch <run-dir>: the dashboard of a run rebuilt from its events.jsonl, following the file
 * while the run is still writing it (a run in the background, in another shell, or finished).
 * Without a terminal: the summary so far and, while the run goes on, plain progress lines until it ends.
 */
import { watchRun } from '../pipelines/watch.ts';
import { mountDashboard } from '../tui/mount.tsx';
import { reduceEvents, type ViewState } from '../tui/view-state.ts';
import { jsonLine } from './execute.ts';
import { createProgressPrinter, formatSummary } from './progress.ts';

export interface WatchOptions {
  tui: boolean;
  quiet: boolean;
  /** Every event as a JSON line (the log so far, then followed while the run is live). */
  json?: boolean;
  /** Poll interval for new events, ms. */
  pollMs?: number;
  out?: (line: string) => void;
}

export async function watchCommand(runDir: string, o: WatchOptions): Promise<number> {
  const watched = watchRun(runDir);
  const out = o.out ?? console.log;
  const { events } = watched;
  const state = reduceEvents(events);
  const live = state.status === 'running' || state.status === 'idle';
  if (o.json) {
    for (const e of events) out(jsonLine(e));
    if (!live) return 0;
    await new Promise<void>((resolve, reject) => {
      watched.follow({ pollMs: o.pollMs, untilEnd: true }).subscribe({
        next: (e) => out(jsonLine(e)),
        error: reject,
        complete: resolve,
      });
    });
    return 0;
  }
  if (!o.tui) {
    out(`${state.runId ?? runDir}: ${state.status} at step ${state.step}${live ? ' (following; Ctrl-C stops watching)' : ''}`);
    out(formatSummary(state, runDir));
    if (!live) return 0;
    const printer = createProgressPrinter({ quiet: o.quiet, maxSteps: state.maxSteps ?? 0, lossTarget: state.lossTarget ?? 0 }, out);
    let last: ViewState = state;
    await new Promise<void>((resolve, reject) => {
      watched.follow({ pollMs: o.pollMs, untilEnd: true }).subscribe({
        next: (e) => {
          printer(e);
          last = reduceEvents([e], last);
        },
        error: reject,
        complete: resolve,
      });
    });
    out(formatSummary(last, runDir));
    return 0;
  }
  return new Promise<number>((resolve, reject) => {
    let running = live;
    const dash = mountDashboard({
      mode: 'watch', state, clock: () => (running ? Date.now() : null),
      onQuit: () => {
        sub.unsubscribe();
        dash.stop();
        resolve(0);
      },
    });
    const sub = watched.follow({ pollMs: o.pollMs }).subscribe({
      next: (e) => {
        if (e.kind === 'run-start' || e.kind === 'run-end') running = e.kind === 'run-start';
        dash.push(e);
      },
      error: (err) => {
        dash.stop();
        reject(err);
      },
    });
  });
}
