import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { STALE_AFTER_MS, writerState } from '../../pipelines/watch.ts';
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
