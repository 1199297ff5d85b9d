/**
 * events.jsonl as a source: read a run's events, and follow the file while the run is still
 * writing it (polling, so it works on any filesystem). A line cut short mid-write is held back
 * until the rest arrives; a line that never parses is skipped and counted.
 *
 *   file:     e e e e(torn… …rest) e E
 *   follow:   -e-e-e-------e-------e-E|     (completes after run-end when `untilEnd`)
 */
import { closeSync, existsSync, fstatSync, openSync, readSync } from 'node:fs';
import { Observable } from 'rxjs';
import type { EngramEvent } from '../events.ts';

/** Non-finite numbers are written as "NaN"/"Infinity"/"-Infinity" strings (sinks/events-jsonl.ts). */
const revive = (_k: string, v: unknown) => (v === 'NaN' ? Number.NaN : v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : v);

export interface LogReader {
  /** Complete lines appended since the last call, parsed. */
  read(): EngramEvent[];
  /** Lines that were not JSON (skipped). */
  readonly skipped: number;
  close(): void;
}

export function openLogReader(path: string): LogReader {
  let fd: number | null = null;
  let offset = 0;
  let tail = '';
  let skipped = 0;
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
      }
      if (size === offset) return [];
      const buf = Buffer.alloc(size - offset);
      const n = readSync(fd, buf, 0, buf.length, offset);
      offset += n;
      const lines = (tail + buf.subarray(0, n).toString('utf8')).split('\n');
      tail = lines.pop() ?? '';
      const out: EngramEvent[] = [];
      for (const l of lines) {
        if (!l.trim()) continue;
        try {
          out.push(JSON.parse(l, revive) as EngramEvent);
        } catch {
          skipped++;
        }
      }
      return out;
    },
    get skipped() {
      return skipped;
    },
    close() {
      if (fd !== null) closeSync(fd);
      fd = null;
    },
  };
}

/** Every event in the file now (a torn last line is left out). */
export function readEventLog(path: string): EngramEvent[] {
  const r = openLogReader(path);
  try {
    return r.read();
  } finally {
    r.close();
  }
}

/** The file's events, then new ones as they are appended, every `pollMs`; with `untilEnd`, completes after a run-end. */
export function followEventLog(path: string, o: { pollMs?: number; untilEnd?: boolean } = {}): Observable<EngramEvent> {
  return new Observable<EngramEvent>((sub) => {
    const r = openLogReader(path);
    const poll = () => {
      try {
        const batch = r.read();
        for (const e of batch) sub.next(e);
        // a resumed run has a run-end (cancelled) in the middle: only the newest one ends the run
        if (o.untilEnd && batch.length && batch[batch.length - 1].kind === 'run-end') sub.complete();
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
