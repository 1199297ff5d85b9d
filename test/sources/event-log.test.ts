import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { EngramEvent } from '../../events.ts';
import { appendEvent } from '../../sinks/events-jsonl.ts';
import { followEventLog, readEventLog } from '../../sources/event-log.ts';

const dir = mkdtempSync(join(tmpdir(), 'engram-evlog-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const step = (n: number, loss = 1 / n): EngramEvent => ({ runId: 'r', step: n, time: n, kind: 'train-step', loss, lr: 1, gradNorm: 1, stepMs: 1, samplesPerSec: 1 });
const line = (e: EngramEvent) => JSON.stringify(e) + '\n';

describe('event log source', () => {
  it('reads what the sink wrote, non-finite numbers included, and leaves out a torn last line', () => {
    const path = join(dir, 'a.jsonl');
    writeFileSync(path, '');
    appendEvent(path, step(1));
    appendEvent(path, step(2, Number.NaN));
    appendFileSync(path, line(step(3)).slice(0, 20));
    const evs = readEventLog(path);
    expect(evs.map((e) => e.step)).toEqual([1, 2]);
    expect(Number.isNaN((evs[1] as { loss: number }).loss)).toBe(true);
  });

  it('follows a file being written, joining a line written in two pieces, and ends after run-end', async () => {
    const path = join(dir, 'b.jsonl');
    writeFileSync(path, line(step(1)));
    const got: EngramEvent[] = [];
    const done = new Promise<void>((resolve, reject) => followEventLog(path, { pollMs: 10, untilEnd: true }).subscribe({ next: (e) => got.push(e), error: reject, complete: resolve }));
    const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
    await wait(30);
    const l2 = line(step(2));
    appendFileSync(path, l2.slice(0, 15));
    await wait(30);
    expect(got.map((e) => e.step)).toEqual([1]);
    appendFileSync(path, l2.slice(15) + 'not json\n');
    appendFileSync(path, line({ runId: 'r', step: 2, time: 3, kind: 'run-end', status: 'complete', wallMs: 3 }));
    await done;
    expect(got.map((e) => e.kind)).toEqual(['train-step', 'train-step', 'run-end']);
  });
});
