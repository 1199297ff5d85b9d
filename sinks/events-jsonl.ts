/**
 * events.jsonl: the run's event stream, one JSON object per line, appended as events happen so
 * `engram watch` (and `tail -f`) can follow a live run. Whether the run completed is recorded in
 * run.json, not inferred from this log.
 */
import { appendFileSync, closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import type { EngramEvent } from '../events.ts';

export interface EventLog {
  write(e: EngramEvent): void;
  close(): void;
}

/** Opens (appending) the log; non-finite numbers are written as strings ("NaN", "Infinity"). */
export function openEventLog(path: string): EventLog {
  const fd = openSync(path, 'a');
  let open = true;
  return {
    write(e) {
      if (!open) return;
      writeSync(fd, JSON.stringify(e, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v)) + '\n');
    },
    close() {
      if (!open) return;
      open = false;
      fsyncSync(fd);
      closeSync(fd);
    },
  };
}

export function appendEvent(path: string, e: EngramEvent): void {
  appendFileSync(path, JSON.stringify(e) + '\n');
}
