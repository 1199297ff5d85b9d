import { NEVER, Observable, Subject, concat, of, throwError } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { EngramError } from '../../errors.ts';
import type { EngramEvent, EventBody } from '../../events.ts';
import { recordRun, type RunRecording } from '../../pipelines/record-run.ts';

function recording(onCancel?: RunRecording['onCancel']) {
  const written: EngramEvent[] = [];
  const runJson: Record<string, unknown>[] = [];
  let releases = 0;
  const r: RunRecording = {
    write: (e) => written.push(e),
    ev: (body: EventBody): EngramEvent => ({ ...body, runId: 'r', step: 7, time: 0 }),
    saveRunJson: (f) => runJson.push(f),
    started: Date.now(),
    release: () => releases++,
    onCancel,
  };
  return { r, written, runJson, releases: () => releases };
}

const step = (n: number): EngramEvent => ({ kind: 'train-step', runId: 'r', step: n, time: 0, loss: 1, lr: 1, gradNorm: 1, stepMs: 1, samplesPerSec: 1 });

describe('recordRun', () => {
  it('writes every event before passing it on, and releases once on completion', () => {
    const { r, written, runJson, releases } = recording();
    const seen: EngramEvent[] = [];
    recordRun(of(step(1), step(2)), r).subscribe((e) => {
      expect(written).toContain(e); // written first
      seen.push(e);
    });
    expect(seen.map((e) => e.step)).toEqual([1, 2]);
    expect(runJson).toEqual([]);
    expect(releases()).toBe(1);
  });

  it('a failure is logged with a failed run-end and its error code in run.json', () => {
    const { r, written, runJson, releases } = recording();
    let error: unknown;
    recordRun(concat(of(step(1)), throwError(() => new EngramError('E_DIVERGED', 'loss is NaN'))), r).subscribe({ error: (e) => (error = e) });
    expect(error).toBeInstanceOf(EngramError);
    expect(written.map((e) => e.kind)).toEqual(['train-step', 'log', 'run-end']);
    expect(written[2]).toMatchObject({ status: 'failed' });
    expect(runJson).toEqual([{ status: 'failed', error: 'loss is NaN', errorCode: 'E_DIVERGED' }]);
    expect(releases()).toBe(1);
  });

  it('unsubscribing early writes a cancelled run-end (or what onCancel says) and releases; after completion it writes nothing', () => {
    const a = recording();
    const sub = recordRun(concat(of(step(1)), NEVER), a.r).subscribe();
    sub.unsubscribe();
    expect(a.written.map((e) => e.kind)).toEqual(['train-step', 'run-end']);
    expect(a.written[1]).toMatchObject({ status: 'cancelled' });
    expect(a.runJson).toEqual([{ status: 'cancelled' }]);
    expect(a.releases()).toBe(1);

    const b = recording(() => 'complete');
    recordRun(new Subject<EngramEvent>(), b.r).subscribe().unsubscribe();
    expect(b.runJson).toEqual([{ status: 'complete' }]);

    const c = recording();
    const done = recordRun(of(step(1)), c.r).subscribe();
    done.unsubscribe();
    expect(c.written.map((e) => e.kind)).toEqual(['train-step']);
    expect(c.releases()).toBe(1);
  });

  it('releases the model only after the upstream teardown, so the trainer can still save its last steps', () => {
    for (const end of ['error', 'complete', 'cancel'] as const) {
      const order: string[] = [];
      const { r } = recording();
      r.release = () => order.push('release');
      const src = new Subject<EngramEvent>();
      const upstream = new Observable<EngramEvent>((o) => {
        const inner = src.subscribe(o);
        return () => (inner.unsubscribe(), order.push('upstream teardown'));
      });
      const sub = recordRun(upstream, r).subscribe({ error: () => {} });
      src.next(step(1));
      if (end === 'error') src.error(new Error('boom'));
      else if (end === 'complete') src.complete();
      else sub.unsubscribe();
      expect(order, end).toEqual(['upstream teardown', 'release']);
    }
  });
});
