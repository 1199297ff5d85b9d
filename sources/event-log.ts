/**
 * events.jsonl as a source: read a run's events, and follow the file while the run is still
 * writing it (polling, so it works on any filesystem). A line cut short mid-write is held back
 * until the rest arrives; a line that is not an event (event-codec.ts) is skipped and counted.
 *
 *   file:     e e e e(torn… …rest) e E
 *   follow:   -e-e-e-------e-------e-E|     (completes after run-end when `untilEnd`)
 */
import { closeSync, existsSync, fstatSync, openSync, readSync } from 'node:fs';
import { Observable } from 'rxjs';
import { EngramError, isEngramError } from '../errors.ts';
import { parseEvent, type Decoded } from '../event-codec.ts';
import type { EngramEvent } from '../events.ts';

/** Reasons kept for skipped lines (the count goes on). */
export const MAX_PROBLEMS = 5;

export interface LogReader {
  /** Complete lines appended since the last call, parsed and validated. */
  read(): EngramEvent[];
  /** Lines that were not JSON or not an event of this protocol (skipped). */
  readonly skipped: number;
  /** Why the first MAX_PROBLEMS lines were skipped, each with its line number. */
  readonly problems: readonly string[];
  /** The file ends in a line without its newline: a write in progress, or one cut short by a crash. */
  readonly torn: boolean;
  close(): void;
}

/**
 * A reader over a growing events.jsonl. A log from a newer engram makes `read` throw (see
 * event-codec.ts); every other bad line is skipped and counted.
 */
export function openLogReader(path: string): LogReader {
  let fd: number | null = null;
  let offset = 0;
  let tail = '';
  let lineNo = 0;
  let skipped = 0;
  const problems: string[] = [];
  return {
    read() {
      if (fd === null) {
        if (!existsSync(path)) return [];
        fd = openSync(path, 'r');
      }
      const size = fstatSync(fd).size;
      if (size < offset) {
        // rewritten (a resumed run rewinds its log): start over
        offset = 0;
        tail = '';
        lineNo = 0;
      }
      if (size === offset) return [];
      const buf = Buffer.alloc(size - offset);
      const n = readSync(fd, buf, 0, buf.length, offset);
      offset += n;
      const lines = (tail + buf.subarray(0, n).toString('utf8')).split('\n');
      tail = lines.pop() ?? '';
      const out: EngramEvent[] = [];
      for (const l of lines) {
        lineNo++;
        if (!l.trim()) continue;
        let d: Decoded;
        try {
          d = parseEvent(l);
        } catch (e) {
          // a log from a newer engram: say which file
          throw isEngramError(e) ? new EngramError(e.code, `${path}: ${e.message}`, { cause: e }) : e;
        }
        if (d.ok) out.push(d.event);
        else if (skipped++ < MAX_PROBLEMS) problems.push(`line ${lineNo}: ${d.error}`);
      }
      return out;
    },
    get skipped() {
      return skipped;
    },
    get problems() {
      return problems;
    },
    get torn() {
      return tail.trim() !== '';
    },
    close() {
      if (fd !== null) closeSync(fd);
      fd = null;
    },
  };
}

export interface EventLogContents {
  events: EngramEvent[];
  /** Lines skipped as unreadable, and why (the first few). */
  skipped: number;
  problems: readonly string[];
  /** A last line without its newline was left out. */
  torn: boolean;
}

/** Every event in the file now; a torn last line is left out, as `followEventLog` holds it back. */
export function readEventLog(path: string): EventLogContents {
  const r = openLogReader(path);
  try {
    const events = r.read();
    return { events, skipped: r.skipped, problems: [...r.problems], torn: r.torn };
  } finally {
    r.close();
  }
}

export interface FollowOptions {
  /** Poll interval, ms (default 200). */
  pollMs?: number;
  /** Complete after a run-end. */
  untilEnd?: boolean;
  /**
   * Asked after every poll, for a run that will never write its run-end: 'end' completes the
   * follow, an error fails it, each after one last read of the file; null goes on.
   */
  stop?: () => 'end' | Error | null;
}

/** The file's events, then new ones as they are appended, every `pollMs`; with `untilEnd`, completes after a run-end. */
export function followEventLog(path: string, o: FollowOptions = {}): Observable<EngramEvent> {
  return new Observable<EngramEvent>((sub) => {
    const r = openLogReader(path);
    const poll = () => {
      try {
        const batch = r.read();
        for (const e of batch) sub.next(e);
        // a resumed run has a run-end (cancelled) in the middle: only the newest one ends the run
        if (o.untilEnd && batch.length && batch[batch.length - 1].kind === 'run-end') return sub.complete();
        const stop = o.stop?.() ?? null;
        if (stop === null) return;
        for (const e of r.read()) sub.next(e);
        if (stop === 'end') sub.complete();
        else sub.error(stop);
      } catch (err) {
        sub.error(err);
      }
    };
    poll();
    const timer = setInterval(poll, o.pollMs ?? 200);
    return () => {
      clearInterval(timer);
      r.close();
    };
  });
}
