import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { EVENT_SCHEMA_VERSION, type EngramEvent } from '../../events.ts';
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
    const { events, torn, skipped } = readEventLog(path);
    expect(events.map((e) => e.step)).toEqual([1, 2]);
    expect(Number.isNaN((events[1] as { loss: number }).loss)).toBe(true);
    expect({ torn, skipped }).toEqual({ torn: true, skipped: 0 });
  });

  it('skips and counts lines that are not events, with the reason and line number, and keeps reading', () => {
    const path = join(dir, 'c.jsonl');
    writeFileSync(path, [
      line(step(1)),
      'garbage\n',
      JSON.stringify({ kind: 'train-step', loss: 'NaN', gradNorm: 'Infinity' }) + '\n', // no runId, step, time
      JSON.stringify({ ...step(3), kind: 'rocket-launch' }) + '\n',
      line({ runId: 'r', step: 4, time: 4, kind: 'log', level: 'warn', message: 'NaN' }),
    ].join(''));
    const r = readEventLog(path);
    expect(r.events.map((e) => e.kind)).toEqual(['train-step', 'log']);
    expect(r.events[1]).toMatchObject({ message: 'NaN' });
    expect(r.skipped).toBe(3);
    expect(r.torn).toBe(false);
    expect(r.problems).toHaveLength(3);
    expect(r.problems[0]).toMatch(/^line 2: not JSON/);
    expect(r.problems[1]).toMatch(/^line 3: train-step: runId: missing/);
    expect(r.problems[2]).toMatch(/^line 4: unknown event kind "rocket-launch"/);
  });

  it('refuses a log from a newer engram, saying so and what to do', () => {
    const path = join(dir, 'd.jsonl');
    writeFileSync(path, JSON.stringify({ runId: 'r', step: 0, time: 0, kind: 'run-start', schemaVersion: EVENT_SCHEMA_VERSION + 1 }) + '\n');
    expect(() => readEventLog(path)).toThrow(/d\.jsonl: this event log was written by a newer engram \(event schema version 2; this engram reads up to 1\); upgrade engram/);
  });

  it('reads logs written before run-start carried a schemaVersion, as version 1', () => {
    for (const f of ['legacy-memorize.jsonl', 'legacy-assoc-basins-identity.jsonl']) {
      const path = fileURLToPath(new URL(`../fixtures/events/${f}`, import.meta.url));
      const total = readFileSync(path, 'utf8').split('\n').filter((l) => l.trim()).length;
      const r = readEventLog(path);
      expect(r, f).toMatchObject({ skipped: 0, torn: false, problems: [] });
      expect(r.events).toHaveLength(total);
    }
  });

  it('follows a file being written, joining a line written in two pieces, and ends after run-end', () => {
    // The follower polls on setInterval: fake timers make each poll happen exactly when the test says.
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      const path = join(dir, 'b.jsonl');
      writeFileSync(path, line(step(1)));
      const got: EngramEvent[] = [];
      let completed = false;
      let failed: unknown;
      const sub = followEventLog(path, { pollMs: 10, untilEnd: true }).subscribe({
        next: (e) => got.push(e),
        error: (e) => (failed = e),
        complete: () => (completed = true),
      });
      expect(got.map((e) => e.step)).toEqual([1]); // what is there is read at once
      const l2 = line(step(2));
      appendFileSync(path, l2.slice(0, 15));
      vi.advanceTimersByTime(10);
      expect(got.map((e) => e.step)).toEqual([1]); // half a line is held back
      appendFileSync(path, l2.slice(15) + 'not json\n');
      appendFileSync(path, line({ runId: 'r', step: 2, time: 3, kind: 'run-end', status: 'complete', wallMs: 3 }));
      expect(got).toHaveLength(1); // read on the next poll, not before
      vi.advanceTimersByTime(10);
      expect(got.map((e) => e.kind)).toEqual(['train-step', 'train-step', 'run-end']);
      expect(failed).toBeUndefined();
      expect(completed).toBe(true);
      expect(sub.closed).toBe(true);
      expect(vi.getTimerCount()).toBe(0); // and it stopped polling
    } finally {
      vi.useRealTimers();
    }
  });
  it('stop: after one last read, ends the follow (\'end\') or fails it (an error), and stops polling', () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      const path = join(dir, 'c.jsonl');
      writeFileSync(path, line(step(1)));
      let verdict: 'end' | Error | null = null;
      const got: number[] = [];
      let completed = false;
      const sub = followEventLog(path, { pollMs: 10, untilEnd: true, stop: () => {
        const v = verdict;
        if (v) appendFileSync(path, line(step(3))); // written between the poll and the verdict
        return v;
      } }).subscribe({ next: (e) => got.push(e.step), complete: () => (completed = true) });
      appendFileSync(path, line(step(2)));
      vi.advanceTimersByTime(10);
      expect(got).toEqual([1, 2]);
      verdict = 'end';
      vi.advanceTimersByTime(10);
      expect(got).toEqual([1, 2, 3]); // the last read
      expect(completed).toBe(true);
      expect(sub.closed).toBe(true);
      expect(vi.getTimerCount()).toBe(0);

      let failed: unknown;
      const gone = new Error('gone');
      followEventLog(path, { pollMs: 10, stop: () => gone }).subscribe({ error: (e) => (failed = e) });
      expect(failed).toBe(gone);
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });
});
