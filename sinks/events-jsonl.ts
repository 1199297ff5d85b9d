/**
 * events.jsonl: the run's event stream, one JSON object per line, appended as events happen so
 * `engram watch` (and `tail -f`) can follow a live run. Whether the run completed is recorded in
 * run.json, not inferred from this log.
 */
import { appendFileSync, closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import type { EngramEvent } from '../events.ts';

export interface EventLog {
  write(e: EngramEvent): void;
  close(): void;
}

const serialize = (e: EngramEvent) =>
  JSON.stringify(e, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v)) + '\n';

/**
 * Opens the log: appending for a resumed run, otherwise starting it afresh (a --force run in an old
 * directory must not inherit that run's events). Non-finite numbers are written as strings.
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

/**
 * Read a run's events back (for plots and replays). A last line cut short by a crash mid-write is
 * dropped; an unreadable line elsewhere is skipped and counted. The strings "NaN", "Infinity" and
 * "-Infinity" that `serialize` wrote for non-finite numbers become numbers again.
 */
export function readEventLog(path: string): { events: EngramEvent[]; skipped: number; torn: boolean } {
  const lines = readFileSync(path, 'utf8').split('\n');
  const events: EngramEvent[] = [];
  let skipped = 0, torn = false;
  const last = lines.reduce((at, l, i) => (l.trim() !== '' ? i : at), -1);
  lines.forEach((l, i) => {
    if (l.trim() === '') return;
    try {
      events.push(JSON.parse(l, (_k, v) => (v === 'NaN' || v === 'Infinity' || v === '-Infinity' ? Number(v) : v)) as EngramEvent);
    } catch {
      if (i === last) torn = true;
      else skipped++;
    }
  });
  return { events, skipped, torn };
}
