/**
 * `engram watch`'s input: a run directory's events.jsonl, the events logged so far and then the
 * ones the run goes on to log (the file followed while it grows), and its run.json, which says
 * whether the run is still being written and by whom.
 *
 * A run whose run.json says `running` is followed while its writer lives: on this host, while its
 * pid does (`process.kill(pid, 0)`); on another, while its heartbeat (pipelines/job.ts) is newer
 * than STALE_AFTER_MS. A run.json that says the run ended ends the follow after one last read, even
 * when the log never got its run-end (or has no events at all).
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { skip, type Observable } from 'rxjs';
import { EngramError } from '../errors.ts';
import type { EngramEvent } from '../events.ts';
import { readRunJson, type RunJson } from '../sinks/run-dir.ts';
import { followEventLog, readEventLog } from '../sources/event-log.ts';
import { HEARTBEAT_MS } from './job.ts';

/** A heartbeat older than this (3 intervals) means the writer on another host is gone. */
export const STALE_AFTER_MS = 3 * HEARTBEAT_MS;
/** How often a follow looks at run.json and the writer, ms. */
const CHECK_MS = 1000;

/** Who is writing the run: `live` (or cannot tell: a run.json of an older engram, or none), `ended` per run.json, or `gone`. */
export type WriterState =
  | { kind: 'live' }
  | { kind: 'ended'; run: RunJson }
  | { kind: 'gone'; pid: number | null; host: string | null; why: string };

export interface WatchedRun {
  /** Every event logged so far. */
  events: EngramEvent[];
  /** run.json when the watch started (null when the directory has none, e.g. a bare log). */
  run: RunJson | null;
  /** Who is writing the run now (reads run.json again). */
  writer(): WriterState;
  /**
   * The events logged after those, as the run writes them; with `untilEnd` it completes at the
   * run's `run-end`, or once run.json says the run ended. A writer that is gone fails it with
   * E_RUN_ABANDONED.
   */
  follow(o?: { pollMs?: number; untilEnd?: boolean; checkMs?: number }): Observable<EngramEvent>;
}

/** The run in `runDir`; a missing directory or log is E_INPUT_MISSING naming what to pass. */
export function watchRun(runDir: string): WatchedRun {
  const path = join(runDir, 'events.jsonl');
  if (!existsSync(runDir) || !statSync(runDir).isDirectory()) {
    throw new EngramError('E_INPUT_MISSING', `run directory ${runDir} does not exist; pass a directory made by engram memorize or engram demo`);
  }
  if (!existsSync(path)) {
    throw new EngramError('E_INPUT_MISSING', `${runDir} has no events.jsonl; pass a directory made by engram memorize or engram demo`);
  }
  const runJsonOf = () => (existsSync(join(runDir, 'run.json')) ? readRunJson(runDir) : null);
  const run = runJsonOf();
  const { events } = readEventLog(path);
  const writer = () => writerState(runJsonOf());
  return {
    events, run, writer,
    follow: (o = {}) => {
      let checked = 0;
      const stop = () => {
        const now = Date.now();
        if (now - checked < (o.checkMs ?? CHECK_MS)) return null;
        checked = now;
        const w = writer();
        if (w.kind === 'ended') return o.untilEnd ? 'end' : null;
        return w.kind === 'gone' ? abandoned(runDir, w) : null;
      };
      // followEventLog starts from the top of the file: skip what was read already
      return followEventLog(path, { pollMs: o.pollMs, untilEnd: o.untilEnd, stop }).pipe(skip(events.length));
    },
  };
}

/** What run.json says about the run's writer, now. */
export function writerState(run: RunJson | null, now = Date.now(), host = hostname()): WriterState {
  if (!run) return { kind: 'live' };
  if (run.status !== 'running') return { kind: 'ended', run };
  const w = run.writer as { pid?: unknown; host?: unknown } | undefined;
  const pid = typeof w?.pid === 'number' ? w.pid : null;
  const on = typeof w?.host === 'string' ? w.host : null;
  if (pid !== null && on === host) {
    return pidAlive(pid) ? { kind: 'live' } : { kind: 'gone', pid, host: on, why: `the process writing it (pid ${pid}) is gone` };
  }
  const beat = typeof run.heartbeat === 'string' ? Date.parse(run.heartbeat) : Number.NaN;
  if (Number.isNaN(beat) || now - beat <= STALE_AFTER_MS) return { kind: 'live' };
  return {
    kind: 'gone', pid, host: on,
    why: `the process writing it (${pid !== null ? `pid ${pid}` : 'its pid unknown'}${on ? ` on ${on}` : ''}) has not been heard from for ${Math.round((now - beat) / 1000)} s`,
  };
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: alive, someone else's
    return (e as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/** E_RUN_ABANDONED for a run whose writer is gone: where it stopped, and how to go on. */
export function abandoned(runDir: string, w: { why: string }): EngramError {
  const { events } = readEventLog(join(runDir, 'events.jsonl'));
  let step = 0;
  for (const e of events) step = Math.max(step, e.step);
  const resumable = existsSync(join(runDir, 'model.ckpt')) ||
    (existsSync(join(runDir, 'checkpoints')) && readdirSync(join(runDir, 'checkpoints')).some((f) => f.endsWith('.ckpt')));
  return new EngramError('E_RUN_ABANDONED',
    `${w.why.replace('writing it', `writing ${runDir}`)}; the run stopped at step ${step} without finishing` +
    (resumable ? `; resume with engram memorize --resume ${runDir}` : '; it saved no checkpoint, so memorize it again'));
}
