/**
 * memorize/demo with the dashboard: the pipeline's events go to the Ink dashboard (throttled to
 * ≈30 fps), the keys come back as the pipeline's control stream. Only used on a terminal; pipes,
 * CI and --no-tui get the plain progress lines of cli/progress.ts.
 */
import { Subject, type Observable } from 'rxjs';
import type { BackendInfo } from '../engine/backend.ts';
import type { ControlCommand, EngramEvent } from '../events.ts';
import { memorize, type MemorizeConfig, type ResumeFrom } from '../pipelines/memorize.ts';
import { mountDashboard } from '../tui/mount.tsx';
import type { ViewState } from '../tui/view-state.ts';
import { formatSummary } from './progress.ts';

/** The dashboard needs a terminal: not with --no-tui or --quiet, a non-TTY stdout, CI=true (any CI value but false/0) or TERM=dumb. */
export function dashboardWanted(o: { noTui: boolean; quiet: boolean }, stdout: { isTTY?: boolean } = process.stdout, env: NodeJS.ProcessEnv = process.env): boolean {
  if (o.noTui || o.quiet || !stdout.isTTY) return false;
  if (env.CI && env.CI !== 'false' && env.CI !== '0') return false;
  return env.TERM !== 'dumb';
}

/**
 * Runs the pipeline under the dashboard. q (or Ctrl-C) stops it the graceful way: unsubscribing
 * makes the trainer save a checkpoint and the sinks write run-end and close; then exit 0. A second
 * Ctrl-C exits at once (130). SIGINT/SIGTERM from elsewhere reject with `interrupted(signal)`.
 */
export function memorizeWithDashboard(
  cfg: MemorizeConfig, backend: BackendInfo, resume: ResumeFrom | undefined, interrupted: (signal: NodeJS.Signals) => Error,
): Promise<number> {
  return runWithDashboard((control) => memorize(cfg, backend, resume, control), {
    stopped: (step) => `stopped at step ${step}; the newest checkpoint is kept (continue with engram memorize --resume ${cfg.outDir})`,
    summary: (state) => formatSummary(state, cfg.outDir),
    interrupted,
  });
}

/**
 * Any pipeline under the dashboard: `start` gets the control stream of the keys (pipelines without
 * pause or checkpoints simply ignore it); q/Ctrl-C unsubscribe (the pipeline's sinks write run-end and
 * close) and resolve 0; a second Ctrl-C exits 130 at once; SIGINT/SIGTERM from elsewhere reject.
 */
export function runWithDashboard(
  start: (control: Subject<ControlCommand>) => Observable<EngramEvent>,
  o: {
    stopped: (step: number) => string; summary: (state: ViewState) => string; interrupted: (signal: NodeJS.Signals) => Error;
    /** Control commands the pipeline acts on (default all). */
    commands?: readonly ControlCommand[];
  },
): Promise<number> {
  const control = new Subject<ControlCommand>();
  return new Promise<number>((resolve, reject) => {
    let settled = false;
    const settle = (f: () => void) => {
      if (settled) return;
      settled = true;
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      dash.stop();
      f();
    };
    const quit = (force: boolean) => {
      if (force) {
        dash.stop();
        process.exit(130);
      }
      settle(() => {
        sub.unsubscribe();
        console.log(o.stopped(dash.state.step));
        console.log(o.summary(dash.state));
        resolve(0);
      });
    };
    const dash = mountDashboard({ mode: 'live', onCommand: (c) => control.next(c), onQuit: quit, commands: o.commands });
    const onSignal = (signal: NodeJS.Signals) => settle(() => {
      sub.unsubscribe();
      reject(o.interrupted(signal));
    });
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    const sub = start(control).subscribe({
      next: (e) => dash.push(e),
      error: (err) => settle(() => reject(err)),
      complete: () => settle(() => {
        console.log(o.summary(dash.state));
        resolve(0);
      }),
    });
  });
}
