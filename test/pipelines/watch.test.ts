import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { firstValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { serializeEvent } from '../../event-codec.ts';
import type { EngramEvent } from '../../events.ts';
import { STALE_AFTER_MS, watchRun, writerState } from '../../pipelines/watch.ts';
import { reduceEvents } from '../../tui/view-state.ts';
import { liveRun } from '../tui/fixtures.ts';
import type { RunJson } from '../../pipelines/run-dir.ts';

const run = (o: Partial<RunJson> & Record<string, unknown>): RunJson =>
  ({ id: 'r', command: 'engram memorize x', status: 'running', created: '', updated: '', ...o }) as RunJson;
const now = Date.parse('2026-06-01T12:00:00Z');
const ago = (ms: number) => new Date(now - ms).toISOString();

describe('writerState', () => {
  it('a run.json that says the run ended: ended, whoever wrote it', () => {
    expect(writerState(run({ status: 'complete', writer: { pid: 1, host: 'h' } }), now, 'h')).toMatchObject({ kind: 'ended' });
  });

  it('on this host: live while the pid is, gone once it is not (whatever the heartbeat)', () => {
    expect(writerState(run({ writer: { pid: process.pid, host: 'h' }, heartbeat: ago(10 * STALE_AFTER_MS) }), now, 'h')).toEqual({ kind: 'live' });
    const dead = spawnSync(process.execPath, ['-e', '']).pid!;
    expect(writerState(run({ writer: { pid: dead, host: 'h' }, heartbeat: ago(0) }), now, 'h'))
      .toEqual({ kind: 'gone', pid: dead, host: 'h', why: `the process writing it (pid ${dead}) is gone` });
  });

  it('on another host: live while the heartbeat is fresh, gone after 3 intervals without one', () => {
    expect(writerState(run({ writer: { pid: 7, host: 'far' }, heartbeat: ago(STALE_AFTER_MS - 1) }), now, 'here')).toEqual({ kind: 'live' });
    expect(writerState(run({ writer: { pid: 7, host: 'far' }, heartbeat: ago(STALE_AFTER_MS + 1000) }), now, 'here'))
      .toMatchObject({ kind: 'gone', pid: 7, host: 'far', why: 'the process writing it (pid 7 on far) has not been heard from for 16 s' });
  });

  it('no run.json, or one of an older engram without a writer or heartbeat: cannot tell, so live', () => {
    expect(writerState(null, now, 'h')).toEqual({ kind: 'live' });
    expect(writerState(run({}), now, 'h')).toEqual({ kind: 'live' });
  });
});

describe('watchRun of a live run', () => {
  it('reads and follows live and live-probe events unchanged, so the watcher folds the same view as the run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'engram-watch-live-'));
    try {
      const all: EngramEvent[] = [...liveRun({ seconds: 12 }), { runId: 'demo-fixture', step: 1200, time: 1_700_000_012_500, kind: 'run-end', status: 'complete', wallMs: 12_500 }];
      const cut = all.findIndex((e) => e.kind === 'live-probe') + 1;
      const jsonl = (es: EngramEvent[]) => es.map((e) => serializeEvent(e) + '\n').join('');
      writeFileSync(join(dir, 'events.jsonl'), jsonl(all.slice(0, cut)));
      const watched = watchRun(dir);
      expect(watched.events).toEqual(all.slice(0, cut));
      appendFileSync(join(dir, 'events.jsonl'), jsonl(all.slice(cut)));
      const followed = await firstValueFrom(watched.follow({ pollMs: 10, untilEnd: true }).pipe(toArray()));
      expect(followed).toEqual(all.slice(cut));
      const kinds = new Set(followed.map((e) => e.kind));
      expect(kinds.has('live') && kinds.has('live-probe')).toBe(true);
      const view = reduceEvents([...watched.events, ...followed]);
      expect(view).toEqual(reduceEvents(all));
      expect(view.live!.last).toMatchObject({ streamSeconds: 12, stored: 30 });
      expect(view.probe).toMatchObject({ probes: 2, recallableProbes: 0 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
