/**
 * Puts the dashboard on a terminal and feeds it: events are reduced as they come (cheap, pure) and
 * the reduced state is handed to React at most every FRAME_MS (≈30 fps) and only when it changed
 * (or once a second, for the clock). Drawing shares the thread with training, and Ink's cost grows
 * with the screen (≈ per character), so frames are also paced to keep drawing under DUTY of the
 * wall time: a big terminal on a slow machine gets fewer frames, never slower training. A key
 * press is drawn at once.
 */
import { render, type Instance } from 'ink';
import type { ControlCommand, EngramEvent } from '../events.ts';
import { colorModeFrom, type ColorMode } from './half-block.ts';
import { DEFAULT_COMMANDS } from './KeyBar.tsx';
import { LiveDashboard, type KeyCommand } from './LiveDashboard.tsx';
import { initialViewState, reduceEvent, type ViewState } from './view-state.ts';

export const FRAME_MS = 33;
/** Largest share of wall time spent drawing. */
export const DUTY = 0.05;
/** Frames not counted in the cost (JIT, first layout). */
const WARM_FRAMES = 2;

export interface MountOptions {
  mode: 'live' | 'watch';
  /** Control commands for the pipeline (live mode). */
  onCommand?: (c: ControlCommand) => void;
  /** The commands this pipeline acts on (default DEFAULT_COMMANDS: all but record and stop, which only a live run has); the others' keys only say so. */
  commands?: readonly ControlCommand[];
  /** q or Ctrl-C (force: the second Ctrl-C). */
  onQuit: (force: boolean) => void;
  stdout?: NodeJS.WriteStream;
  stdin?: NodeJS.ReadStream;
  colorMode?: ColorMode;
  /** Wall clock; null shows the elapsed time up to the newest event (watching a finished run). */
  clock?: () => number | null;
  /** Starting state (e.g. a run read from events.jsonl). */
  state?: ViewState;
  /** Route console output above the dashboard (default true; off in tests, whose console is not Node's). */
  patchConsole?: boolean;
}

export interface MountedDashboard {
  push(e: EngramEvent): void;
  readonly state: ViewState;
  /** Draws the final state and releases the terminal (the last frame stays on screen). */
  stop(): void;
  /** Shows a line of text under the panes (what the run is doing about a key or signal). */
  notice(text: string): void;
  /** Frames handed to React so far. */
  readonly frames: number;
  /** What a frame costs, ms (recent median); frames come at most every max(FRAME_MS, cost / DUTY). */
  readonly frameCostMs: number;
  /** Wall time spent in the dashboard so far (reducing events and drawing), ms. */
  readonly busyMs: number;
}

export function mountDashboard(o: MountOptions): MountedDashboard {
  let state = o.state ?? initialViewState;
  let dirty = true;
  let notice: string | null = null;
  let wantPaused = false;
  let frames = 0;
  let lastFrame = 0;
  let stopped = false;
  /** What a frame costs (React + Ink's output), ms: the median of the last few, after the first (cold) ones. */
  let costMs = 0;
  const recent: number[] = [];
  let seen = 0;
  let urgent = false;
  let busyMs = 0;
  const clock = o.clock ?? (() => Date.now());
  const colorMode = o.colorMode ?? colorModeFrom(process.env);
  const say = (text: string) => {
    notice = text;
    dirty = true;
    urgent = true;
  };
  const commands = o.commands ?? DEFAULT_COMMANDS;
  const supports = (c: ControlCommand) => commands.includes(c) && state.status === 'running' && state.train === null;
  const onKey = (k: KeyCommand) => {
    const c: ControlCommand | null = k === 'toggle-pause' ? (wantPaused ? 'resume' : 'pause') : k === 'checkpoint' || k === 'recall' || k === 'record' ? k : null;
    if (c && o.mode === 'live' && !supports(c)) {
      say(state.status === 'running' && state.train === null ? `${c} is not available in this run` : 'training is over');
      return;
    }
    switch (k) {
      case 'toggle-pause':
        // the notice first: the pipeline may acknowledge (push) synchronously
        wantPaused = !wantPaused;
        say(wantPaused ? 'pausing…' : 'resuming…');
        o.onCommand?.(wantPaused ? 'pause' : 'resume');
        break;
      case 'checkpoint':
        say('checkpoint requested');
        o.onCommand?.('checkpoint');
        break;
      case 'recall':
        say('recalling from noise…');
        o.onCommand?.('recall');
        break;
      case 'record':
        say('recording from noise…');
        o.onCommand?.('record');
        break;
      case 'quit':
        say(o.mode === 'watch' ? 'stopped watching' : 'quitting: checkpoint and flush…');
        o.onQuit(false);
        break;
      case 'force-quit':
        o.onQuit(true);
        break;
    }
  };
  const element = () => <LiveDashboard state={state} now={clock()} mode={o.mode} colorMode={colorMode} notice={notice} commands={commands} onKey={onKey} />;
  let inDraw = false;
  const measure = (ms: number) => {
    if (++seen <= WARM_FRAMES) return;
    recent.push(ms);
    if (recent.length > 7) recent.shift();
    costMs = [...recent].sort((a, b) => a - b)[recent.length >> 1];
  };
  const instance: Instance = render(element(), {
    stdout: o.stdout ?? process.stdout, stdin: o.stdin ?? process.stdin, exitOnCtrlC: false, patchConsole: o.patchConsole ?? true, maxFps: 30,
    // Ink writes on the leading edge of its own throttle (inside rerender, timed below) or later (timed here)
    onRender: ({ renderTime }) => void (inDraw || (measure(renderTime), (busyMs += renderTime))),
  });
  const draw = () => {
    frames++;
    dirty = false;
    urgent = false;
    const t0 = performance.now();
    inDraw = true;
    instance.rerender(element());
    inDraw = false;
    const spent = performance.now() - t0;
    busyMs += spent;
    measure(spent);
    lastFrame = Date.now();
  };
  const timer = setInterval(() => {
    const since = Date.now() - lastFrame, gap = Math.max(FRAME_MS, costMs / DUTY);
    if (urgent || (dirty && since >= gap) || since >= Math.max(1000, gap)) draw();
  }, FRAME_MS);
  return {
    push(e) {
      const t0 = performance.now();
      state = reduceEvent(state, e);
      if (e.kind === 'control' && (e.command === 'pause' || e.command === 'resume')) {
        wantPaused = e.command === 'pause';
        notice = e.command === 'pause' ? 'paused' : null;
      } else if (e.kind === 'artifact' && e.what === 'checkpoint' && notice === 'checkpoint requested') notice = `checkpoint saved at step ${e.step}`;
      else if ((e.kind === 'preview' || e.kind === 'train-end') && notice?.startsWith('recalling')) notice = null; // done, or cut short by the end of training
      else if (e.kind === 'artifact' && (e.what === 'video' || e.what === 'audio') && notice?.startsWith('recording')) notice = `recorded: ${e.path}`;
      if (e.kind === 'train-end') {
        // training over (a watched directory starts the next memory unpaused)
        wantPaused = false;
        if (notice === 'pausing…' || notice === 'resuming…' || notice === 'paused' || notice === 'checkpoint requested') notice = null;
      }
      dirty = true;
      busyMs += performance.now() - t0;
    },
    get state() {
      return state;
    },
    get frames() {
      return frames;
    },
    get frameCostMs() {
      return costMs;
    },
    get busyMs() {
      return busyMs;
    },
    notice: (text: string) => say(text),
    stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      draw();
      instance.unmount();
    },
  };
}
