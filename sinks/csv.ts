/**
 * metrics.csv: the scalar training metrics (one row per train-step event) for spreadsheets and
 * plotting tools. Appended live like events.jsonl; a resumed run continues the same file.
 */
import { closeSync, existsSync, openSync, readFileSync, readSync, renameSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { EngramError } from '../errors.ts';
import type { EngramEvent } from '../events.ts';

export const METRICS_HEADER = 'step,time,kind,loss,lr,grad_norm,step_ms,samples_per_sec';

export interface MetricsCsv {
  write(e: EngramEvent): void;
  close(): void;
}

export function openMetricsCsv(path: string): MetricsCsv {
  const size = existsSync(path) ? statSync(path).size : 0;
  const fd = openSync(path, 'a+');
  if (size === 0) {
    writeSync(fd, METRICS_HEADER + '\n');
  } else {
    const head = Buffer.alloc(Math.min(size, METRICS_HEADER.length + 2));
    readSync(fd, head, 0, head.length, 0);
    if (!head.toString('utf8').startsWith(METRICS_HEADER)) {
      closeSync(fd);
      throw new EngramError('E_OUTPUT_EXISTS', `${path} exists and is not an engram metrics CSV; move it away or choose another run directory`);
    }
    // A crash mid-row leaves no trailing newline; start the next row on a line of its own.
    const last = Buffer.alloc(1);
    readSync(fd, last, 0, 1, size - 1);
    if (last[0] !== 0x0a) writeSync(fd, '\n');
  }
  let open = true;
  return {
    write(e) {
      if (!open || e.kind !== 'train-step') return;
      // String() keeps full precision (shortest round-trip form) and spells NaN/Infinity as text.
      const row = [e.step, e.time, e.kind, e.loss, e.lr, e.gradNorm, e.stepMs, e.samplesPerSec].map(String).join(',');
      writeSync(fd, row + '\n');
    },
    close() {
      if (!open) return;
      open = false;
      closeSync(fd);
    },
  };
}

/** Before resuming at `step`: drop the rows after it (events.jsonl keeps them in its discarded log). */
export function rewindMetricsCsv(path: string, step: number): void {
  if (!existsSync(path)) return;
  const lines = readFileSync(path, 'utf8').split('\n').filter((l) => l !== '');
  const keep = lines.filter((l, i) => i === 0 || Number(l.split(',')[0]) <= step);
  const tmp = `${path}.partial`;
  writeFileSync(tmp, keep.join('\n') + '\n');
  renameSync(tmp, path);
}
