/**
 * events.jsonl: the run's event stream, one JSON object per line, appended as events happen so
 * `engram watch` (and `tail -f`) can follow a live run. Whether the run completed is recorded in
 * run.json, not inferred from this log.
 */
import { appendFileSync, closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { serializeEvent } from '../event-codec.ts';
import type { EngramEvent } from '../events.ts';

export interface EventLog {
  write(e: EngramEvent): void;
  close(): void;
}

const serialize = (e: EngramEvent) => serializeEvent(e) + '\n';

/**
 * Opens the log: appending for a resumed run, otherwise starting it afresh (a --force run in an old
 * directory must not inherit that run's events). Lines are event-codec.ts's serialization.
 */
export function openEventLog(path: string, mode: 'append' | 'new'): EventLog {
  const fd = openSync(path, mode === 'append' ? 'a' : 'w');
  let open = true;
  return {
    write(e) {
      if (!open) return;
      writeSync(fd, serialize(e));
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
  appendFileSync(path, serialize(e));
}

/**
 * Before resuming from a checkpoint at `step`: keep the log up to that step and move the events of
 * the lost stretch after it (written before a crash) to `<log>.discarded.jsonl`, so the loss curve
 * continues without a repeat and nothing is thrown away. Returns how many events were moved.
 */
export function rewindEventLog(path: string, step: number): number {
  if (!existsSync(path)) return 0;
  const lines = readFileSync(path, 'utf8').split('\n').filter((l) => l.trim() !== '');
  const keep: string[] = [], moved: string[] = [];
  for (const l of lines) {
    let s = Number.NaN;
    try {
      s = (JSON.parse(l) as { step?: number }).step ?? Number.NaN;
    } catch {
      // a line cut short by a crash mid-write belongs to the lost stretch
    }
    (s <= step ? keep : moved).push(l);
  }
  if (moved.length === 0) return 0;
  appendFileSync(path.replace(/\.jsonl$/, '') + '.discarded.jsonl', moved.join('\n') + '\n');
  const tmp = `${path}.partial`;
  writeFileSync(tmp, keep.length ? keep.join('\n') + '\n' : '');
  renameSync(tmp, path);
  return moved.length;
}
