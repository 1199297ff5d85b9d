import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { NEVER, Observable, concat, firstValueFrom, lastValueFrom, of, throwError, toArray } from 'rxjs';
import { afterAll, describe, expect, it } from 'vitest';
import type { BackendInfo } from '../../engine/backend.ts';
import { EngramError } from '../../errors.ts';
import type { EngramEvent, RunStartEvent } from '../../events.ts';
import { runJob, type Job, type JobSpec } from '../../pipelines/job.ts';

const tmp = mkdtempSync(join(tmpdir(), 'engram-job-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const backend = { name: 'cpu', tfBackend: 'cpu', device: 'test', blas: null, threads: 1 } as unknown as BackendInfo;
let n = 0;
const spec = (o: Partial<JobSpec> = {}): JobSpec => ({
  runId: 'r', command: 'engram test', outDir: join(tmp, `run-${++n}`), mode: { kind: 'new', force: false },
  start: { backend, config: { what: 'test' } as unknown as RunStartEvent['config'] }, metrics: true, ...o,
});
const step = (job: Job, s: number): EngramEvent => {
  job.step = s;
  return { kind: 'train-step', runId: job.runId, step: s, time: 0, loss: 1 / s, lr: 1, gradNorm: 1, stepMs: 1, samplesPerSec: 1 };
};
const logOf = (dir: string) => readFileSync(join(dir, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as EngramEvent);
const runJsonOf = (dir: string) => JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8'));

describe('runJob', () => {
  it('creates nothing until subscribed; then run-start, the body, run-end, each written before it goes on', async () => {
    const s = spec();
    const job$ = runJob(s, (job) => of(step(job, 1), step(job, 2)));
    expect(existsSync(s.outDir)).toBe(false);
    const seen: string[] = [];
    await lastValueFrom(job$.pipe(toArray())).then((events) => {
      for (const e of events) seen.push(e.kind);
    });
    expect(seen).toEqual(['run-start', 'train-step', 'train-step', 'run-end']);
    expect(logOf(s.outDir).map((e) => e.kind)).toEqual(seen);
    expect(runJsonOf(s.outDir)).toMatchObject({ id: 'r', status: 'complete', config: { what: 'test' }, backend: { name: 'cpu' } });
    expect(readFileSync(join(s.outDir, 'metrics.csv'), 'utf8').trim().split('\n')).toHaveLength(3);
    // events reach the log before they go downstream
    const order: boolean[] = [];
    const s3 = spec();
    await new Promise<void>((resolve) => runJob(s3, (job) => of(step(job, 1), step(job, 2))).subscribe({
      next: (e) => order.push(logOf(s3.outDir).some((w) => w.kind === e.kind && w.step === e.step)),
      complete: resolve,
    }));
    expect(order).toEqual([true, true, true, true]);
  });

  it('a failure: the error as a log event, a failed run-end, run.json with its code; held resources released once', async () => {
    const s = spec();
    let released = 0;
    const err = await lastValueFrom(runJob(s, (job) => {
      job.hold({ dispose: () => released++ });
      return concat(of(step(job, 1)), throwError(() => new EngramError('E_DIVERGED', 'loss is NaN')));
    }).pipe(toArray())).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(EngramError);
    expect(logOf(s.outDir).map((e) => e.kind)).toEqual(['run-start', 'train-step', 'log', 'run-end']);
    expect(logOf(s.outDir).at(-1)).toMatchObject({ status: 'failed', step: 1 });
    expect(runJsonOf(s.outDir)).toMatchObject({ status: 'failed', error: 'loss is NaN', errorCode: 'E_DIVERGED' });
    expect(released).toBe(1);
  });

  it('unsubscribed: the body tears down first, then run-end (cancelled, or what onCancel says), then release', () => {
    const order: string[] = [];
    const s = spec();
    const sub = runJob(s, (job) => {
      job.hold({ dispose: () => order.push('release') });
      job.onCancel(() => (order.push('onCancel'), { status: 'cancelled', events: [job.ev({ kind: 'artifact', what: 'checkpoint', path: 'x.ckpt' })] }));
      return new Observable<EngramEvent>((o) => {
        o.next(step(job, 3));
        return () => order.push('body teardown');
      });
    }).subscribe();
    sub.unsubscribe();
    expect(order).toEqual(['body teardown', 'onCancel', 'release']);
    expect(logOf(s.outDir).map((e) => e.kind)).toEqual(['run-start', 'train-step', 'artifact', 'run-end']);
    expect(logOf(s.outDir).at(-1)).toMatchObject({ status: 'cancelled', step: 3 });
    expect(runJsonOf(s.outDir).status).toBe('cancelled');

    const idle = spec();
    runJob(idle, (job) => (job.onCancel(() => ({ status: 'complete' })), NEVER)).subscribe().unsubscribe();
    expect(runJsonOf(idle.outDir).status).toBe('complete');
  });

  it('each subscription is a complete, independent run', async () => {
    const s = spec({ mode: { kind: 'new', force: true } });
    let made = 0;
    const job$ = runJob(s, (job) => {
      made++;
      return of(step(job, 1), step(job, 2));
    });
    const first = await lastValueFrom(job$.pipe(toArray()));
    const second = await lastValueFrom(job$.pipe(toArray()));
    expect(made).toBe(2);
    expect(second.map((e) => e.kind)).toEqual(first.map((e) => e.kind));
    expect(logOf(s.outDir).map((e) => e.kind)).toEqual(['run-start', 'train-step', 'train-step', 'run-end']);
    expect(runJsonOf(s.outDir).status).toBe('complete');
  });

  it('refuses a non-empty --out without force and writes nothing into it', async () => {
    const s = spec();
    mkdirSync(s.outDir);
    writeFileSync(join(s.outDir, 'mine.txt'), 'keep me');
    const err = await firstValueFrom(runJob(s, () => of())).then(() => null, (e: unknown) => e);
    expect(err).toMatchObject({ code: 'E_OUTPUT_EXISTS' });
    expect(existsSync(join(s.outDir, 'run.json'))).toBe(false);
    expect(existsSync(join(s.outDir, 'events.jsonl'))).toBe(false);
    expect(readFileSync(join(s.outDir, 'mine.txt'), 'utf8')).toBe('keep me');
  });

  it('attach: appends to the run\'s log and leaves its status alone; resume: later events moved aside, then appended', async () => {
    const s = spec();
    await lastValueFrom(runJob(s, (job) => of(step(job, 1), step(job, 2), step(job, 3))).pipe(toArray()));
    await lastValueFrom(runJob({ ...s, mode: { kind: 'attach' }, start: undefined }, (job) => of(job.ev({ kind: 'log', level: 'info', message: 'NaN' }))).pipe(toArray()));
    expect(logOf(s.outDir).map((e) => e.kind)).toEqual(['run-start', 'train-step', 'train-step', 'train-step', 'run-end', 'log']);
    expect(runJsonOf(s.outDir).status).toBe('complete');

    const resumed = await lastValueFrom(runJob({ ...s, mode: { kind: 'resume', fromStep: 2, checkpoint: 'c.ckpt' } }, (job) => of(step(job, 3))).pipe(toArray()));
    expect(resumed[0]).toMatchObject({ kind: 'run-start', step: 2, resume: { fromStep: 2, checkpoint: 'c.ckpt' } });
    expect(resumed[1]).toMatchObject({ kind: 'log', message: expect.stringMatching(/moved to events\.discarded\.jsonl/) });
    expect(logOf(s.outDir).map((e) => `${e.kind}@${e.step}`)).toEqual([
      'run-start@0', 'train-step@1', 'train-step@2', 'log@0', 'run-start@2', 'log@2', 'train-step@3', 'run-end@3',
    ]);
    expect(readFileSync(join(s.outDir, 'events.discarded.jsonl'), 'utf8').trim().split('\n')).toHaveLength(2);
    expect(runJsonOf(s.outDir)).toMatchObject({ status: 'complete', resumedFrom: { checkpoint: 'c.ckpt', step: 2 } });
  });

  it('draws its plots at the end: one that fails is a warning, the run still completes', async () => {
    const s = spec({
      plots: [
        { name: 'broken', file: 'broken.png', build: () => { throw new Error('no data'); } },
        { name: 'absent', file: 'absent.png', build: () => null },
      ],
    });
    const events = await lastValueFrom(runJob(s, (job) => of(step(job, 1))).pipe(toArray()));
    expect(events.map((e) => e.kind)).toEqual(['run-start', 'train-step', 'log', 'run-end']);
    expect(events[2]).toMatchObject({ level: 'warn', message: expect.stringMatching(/plot broken not drawn: no data; redraw with engram plot/) });
    expect(runJsonOf(s.outDir).status).toBe('complete');
  });

  it('a body built lazily: an error thrown while building it is a failed run, not a throw at subscribe', async () => {
    const s = spec();
    const errors: unknown[] = [];
    runJob(s, () => { throw new EngramError('E_INPUT_EMPTY', 'nothing there'); }).subscribe({ error: (e) => errors.push(e) });
    expect(errors).toHaveLength(1);
    expect(runJsonOf(s.outDir)).toMatchObject({ status: 'failed', errorCode: 'E_INPUT_EMPTY' });
  });
  it('a running job names its writer in run.json and refreshes its heartbeat until it ends; then the timer is gone', async () => {
    const s = spec({ heartbeatMs: 20 });
    let first = '';
    let during = '';
    const events = await lastValueFrom(runJob(s, (job) => new Observable<EngramEvent>((sub) => {
      first = runJsonOf(s.outDir).heartbeat;
      setTimeout(() => {
        during = runJsonOf(s.outDir).heartbeat;
        sub.next(step(job, 1));
        sub.complete();
      }, 120);
    })).pipe(toArray()));
    expect(events.at(-1)).toMatchObject({ kind: 'run-end', status: 'complete' });
    const rj = runJsonOf(s.outDir);
    expect(rj.writer).toEqual({ pid: process.pid, host: hostname() });
    expect(Date.parse(during)).toBeGreaterThan(Date.parse(first));
    const after = readFileSync(join(s.outDir, 'run.json'), 'utf8');
    await new Promise((r) => setTimeout(r, 80));
    expect(readFileSync(join(s.outDir, 'run.json'), 'utf8')).toBe(after); // no heartbeat after the end
    // cancelled: the same
    const c = spec({ heartbeatMs: 20 });
    const sub = runJob(c, () => NEVER).subscribe();
    sub.unsubscribe();
    const cancelled = readFileSync(join(c.outDir, 'run.json'), 'utf8');
    await new Promise((r) => setTimeout(r, 80));
    expect(readFileSync(join(c.outDir, 'run.json'), 'utf8')).toBe(cancelled);
    expect(JSON.parse(cancelled).status).toBe('cancelled');
  });
});
