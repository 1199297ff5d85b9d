/**
 * The one executor every command runs through: it subscribes to the command's event stream, shows
 * it with the chosen presenter, owns the signals, and turns the way the run ended into the exit code
 * (the same for every command):
 *
 *   0 done · 1 failed with a coded error (E_RESOURCE too) · 2 bad arguments · 3 stopped at a non-finite loss ·
 *   4 completed, but no stored memory came back (engram recall) · 130 interrupted
 *
 * Presenters: `dashboard` (Ink, on a terminal), `lines` (progress lines, at most one training line a
 * second), `quiet` (the summary only), `json` (every event as one JSON line on stdout; a failure
 * adds a last line {"kind":"error","code","message"}). SIGINT, SIGTERM and SIGHUP stop the run the
 * graceful way: unsubscribing makes the job save its checkpoint, write run-end and close its files.
 */
import { Subject, type Observable } from 'rxjs';
import { isEngramError } from '../errors.ts';
import { serializeEvent } from '../event-codec.ts';
import type { ControlCommand, EngramEvent } from '../events.ts';
import { mountDashboard, type MountedDashboard } from '../tui/mount.tsx';
import { initialViewState, reduceEvent, type ViewState } from '../tui/view-state.ts';
import type { Parsed } from './args.ts';
import { exitCodeOfCode } from './options.ts';
import { createProgressPrinter } from './progress.ts';

export type PresenterName = 'dashboard' | 'lines' | 'quiet' | 'json';

export interface Execution {
  presenter: PresenterName;
  /** The command's events; `control` carries the dashboard's keys (pause, checkpoint, recall now). */
  start(control: Observable<ControlCommand>): Observable<EngramEvent>;
  /** Progress-line context (the step cap and loss target shown with each training line). */
  progress?: { maxSteps: number; lossTarget: number };
  /** The command's own line for an event: a string is printed, null prints nothing, undefined leaves it to the shared printer. */
  line?: (e: EngramEvent) => string | null | undefined;
  /** The summary printed when the run ends (not in json mode); `events` are all but train-step events. */
  summary?: (view: ViewState, events: EngramEvent[]) => string | null;
  /** The exit code of a run that completed (default 0), from its events (all but train-step events). */
  exitCode?: (events: EngramEvent[]) => number;
  /** Said when the run is stopped (signal or q): what is kept and how to go on. */
  stopped: (view: ViewState) => string;
  /** Dashboard keys the pipeline acts on (default all). */
  commands?: readonly ControlCommand[];
  /**
   * A stop (q, or the first SIGINT/SIGTERM/SIGHUP) asks the pipeline to finish (control 'stop': a
   * live run ends its stream, then saves, recalls and records as at the stream's end) instead of
   * cancelling it; the run's own end gives the exit code. A second stop cancels as usual.
   */
  finishOnStop?: boolean;
  /** Which events `summary`, `exitCode` and `stopCompletes` get (default: all but train-step); a live run keeps few, as it never ends by itself. */
  keep?: (e: EngramEvent) => boolean;
  /** A stop while this holds ends the run as complete (exit 0), e.g. a watched directory between memories. */
  stopCompletes?: (view: ViewState, events: EngramEvent[]) => boolean;
  /** The view before the first event (engram watch: the run as logged so far). */
  initial?: ViewState;
  /** The dashboard follows a run someone else is writing (engram watch): no keys for it; its clock runs while `live` says the run does. */
  watching?: { live: (view: ViewState) => boolean };
}

export const EXIT = { done: 0, failed: 1, usage: 2, nonfinite: 3, notRecalled: 4, interrupted: 130 } as const;

/** The exit code of an error: usage errors 2, the non-finite stop 3, every other coded or internal error 1. */
export function exitCodeOf(e: unknown): number {
  if (isEngramError(e)) return exitCodeOfCode(e.code);
  return EXIT.failed;
}

/**
 * How an error is said on stderr — `engram: E_CODE: message` for a coded error, `engram: internal
 * error: …` otherwise — and, in json mode, as the stream's last line {"kind":"error","code","message"}.
 */
export function reportError(e: unknown, json: boolean, err: (s: string) => void = console.error, out: (s: string) => void = console.log): void {
  const message = isEngramError(e) ? e.message : `internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`;
  err(isEngramError(e) ? `engram: ${e.code}: ${message}` : `engram: ${message}`);
  if (json) out(JSON.stringify({ kind: 'error', code: isEngramError(e) ? e.code : 'E_INTERNAL', message }));
}

/** The presenter the options and the terminal ask for. */
export function presenterOf(args: Parsed, o: { dashboard: boolean } = { dashboard: true }): PresenterName {
  if (args.flags.json) return 'json';
  if (args.flags.quiet) return 'quiet';
  return o.dashboard && dashboardWanted({ noTui: args.flags['no-tui'], quiet: false }) ? 'dashboard' : 'lines';
}

/** The dashboard needs a terminal: not with --no-tui or --quiet, a non-TTY stdout, CI=true (any CI value but false/0) or TERM=dumb. */
export function dashboardWanted(o: { noTui: boolean; quiet: boolean }, stdout: { isTTY?: boolean } = process.stdout, env: NodeJS.ProcessEnv = process.env): boolean {
  if (o.noTui || o.quiet || !stdout.isTTY) return false;
  if (env.CI && env.CI !== 'false' && env.CI !== '0') return false;
  return env.TERM !== 'dumb';
}

const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** JSON lines, exactly as events.jsonl holds them (the one codec). */
export const jsonLine = (e: EngramEvent) => serializeEvent(e);

/**
 * bin/engram.mjs handles a signal that comes while engram is still loading (exit 130); whoever owns
 * the signals next (the executor) or ends the process on its own (an error before it) takes that
 * handler off, so it never speaks for a command that did start, or hides another exit code.
 */
export function releaseEarlySignals(): void {
  const early = (globalThis as Record<symbol, unknown>)[Symbol.for('engram.earlySignalHandler')] as ((s: NodeJS.Signals) => void) | undefined;
  if (early) for (const s of SIGNALS) process.off(s, early);
}

export function execute(x: Execution): Promise<number> {
  const control = new Subject<ControlCommand>();
  const kept: EngramEvent[] = [];
  let view: ViewState = x.initial ?? initialViewState;
  const printer = createProgressPrinter({ quiet: x.presenter !== 'lines', maxSteps: x.progress?.maxSteps ?? 0, lossTarget: x.progress?.lossTarget ?? 0 });
  return new Promise<number>((resolve) => {
    const dash: MountedDashboard | null = x.presenter !== 'dashboard' ? null
      : x.watching ? mountDashboard({ mode: 'watch', state: view, clock: (): number | null => (x.watching!.live(dash?.state ?? view) ? Date.now() : null), onQuit: (force) => quit(force) })
      : mountDashboard({ mode: 'live', onCommand: (c) => control.next(c), onQuit: (force) => quit(force), commands: x.commands });
    let settled = false;
    const settle = (code: number, say: () => void) => {
      if (settled) return;
      settled = true;
      for (const s of SIGNALS) process.off(s, onSignal);
      dash?.stop();
      say();
      resolve(code);
    };
    const printSummary = () => {
      if (x.presenter === 'json' || !x.summary) return;
      const s = x.summary(dash?.state ?? view, kept);
      if (s) console.log(s);
    };
    let finishingSince: number | null = null;
    const stopNow = (signal: NodeJS.Signals | 'q') => {
      // one stop can arrive twice (GNU timeout signals the process and then its group): a second within a second is the same stop
      if (finishingSince !== null && Date.now() - finishingSince < 1000) return;
      if (x.finishOnStop && finishingSince === null) {
        finishingSince = Date.now();
        const say = 'finishing: the stream is closed; saving, recalling and recording what is memorized (stop again to cancel instead)';
        if (dash) dash.notice(say);
        else if (x.presenter !== 'json') console.error(`engram: ${say}`);
        control.next('stop');
        return;
      }
      sub.unsubscribe(); // the job saves, writes run-end and closes here
      const state = dash?.state ?? view;
      if (x.stopCompletes?.(state, kept)) return settle(EXIT.done, printSummary);
      // a second stop of a run that was finishing cancels it: interrupted, whichever way it came
      if (signal === 'q' && finishingSince === null) {
        return settle(EXIT.done, () => {
          console.log(x.stopped(state));
          printSummary();
        });
      }
      settle(EXIT.interrupted, () => console.error(`engram: ${signal === 'q' ? 'q' : signal}: ${x.stopped(state)}`));
    };
    const onSignal = (signal: NodeJS.Signals) => stopNow(signal);
    function quit(force: boolean) {
      if (!force) return stopNow('q');
      dash?.stop();
      process.exit(EXIT.interrupted); // a second Ctrl-C: leave at once
    }
    releaseEarlySignals(); // the executor owns the signals from here
    for (const s of SIGNALS) process.on(s, onSignal);
    const sub = x.start(control).subscribe({
      next: (e) => {
        if (e.kind !== 'train-step' && (x.keep?.(e) ?? true)) kept.push(e);
        if (dash) return dash.push(e); // the dashboard keeps its own view state
        view = reduceEvent(view, e);
        if (x.presenter === 'json') console.log(jsonLine(e));
        else if (x.presenter === 'quiet' && e.kind === 'log' && e.level === 'warn') console.error(`engram: warning: ${e.message}`);
        else if (x.presenter === 'lines') {
          const own = x.line?.(e);
          if (own === undefined) printer(e);
          else if (own !== null) console.log(own);
        }
      },
      error: (err: unknown) => settle(exitCodeOf(err), () => reportError(err, x.presenter === 'json')),
      complete: () => settle(x.exitCode?.(kept) ?? EXIT.done, printSummary),
    });
  });
}
