/**
 * `engram watch`'s input: a run directory's events.jsonl, the events logged so far and then the
 * ones the run goes on to log (the file followed while it grows).
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { skip, type Observable } from 'rxjs';
import { EngramError } from '../errors.ts';
import type { EngramEvent } from '../events.ts';
import { followEventLog, readEventLog } from '../sources/event-log.ts';

export interface WatchedRun {
  /** Every event logged so far. */
  events: EngramEvent[];
  /**
   * The events logged after those, as the run writes them; with `untilEnd` it completes at the
   * run's `run-end`.
   */
  follow(o?: { pollMs?: number; untilEnd?: boolean }): Observable<EngramEvent>;
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
  const { events } = readEventLog(path);
  // followEventLog starts from the top of the file: skip what was read already
  return { events, follow: (o = {}) => followEventLog(path, o).pipe(skip(events.length)) };
}
