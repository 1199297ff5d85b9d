import { describe, expect, it } from 'vitest';
import { lastValueFrom, Observable, toArray } from 'rxjs';
import type { EngramEvent, EventBody } from '../../events.ts';
import { progressReporter } from '../../pipelines/progress.ts';
import { createProgressPrinter } from '../../cli/progress.ts';

const ev = (b: EventBody): EngramEvent => ({ ...b, runId: 'r', step: 0, time: Date.now() }) as EngramEvent;

describe('progress of a long stage', () => {
  it('reports as progress events inside the work\'s stream, and ends with it', async () => {
    const p = progressReporter('recall', 'iterations', ev, 0);
    const work$ = new Observable<string>((sub) => {
      const t = setTimeout(() => {
        p.report(100, 1000, 'noise starts');
        p.report(200, 1000, 'noise starts');
        sub.next('done');
        sub.complete();
      }, 5);
      return () => clearTimeout(t);
    });
    const all = await lastValueFrom(p.around(work$).pipe(toArray()));
    expect(all.map((x) => (typeof x === 'string' ? x : `${x.kind}:${(x as { done: number }).done}`))).toEqual(['progress:100', 'progress:200', 'done']);
    expect(all[0]).toMatchObject({ kind: 'progress', what: 'recall', unit: 'iterations', total: 1000, stage: 'noise starts' });
  });

  it('says nothing before its interval has passed (a short stage stays silent)', async () => {
    const p = progressReporter('decode', 'frames', ev, 60_000);
    const work$ = new Observable<string>((sub) => {
      p.report(1, null);
      sub.complete();
    });
    expect(await lastValueFrom(p.around(work$).pipe(toArray()))).toEqual([]);
  });

  it('prints as a plain line', () => {
    const lines: string[] = [];
    const print = createProgressPrinter({ quiet: false, maxSteps: 0, lossTarget: 0 }, (s) => lines.push(s));
    print(ev({ kind: 'progress', what: 'recall', done: 4000, total: 20000, unit: 'iterations', stage: 'noise starts' }));
    print(ev({ kind: 'progress', what: 'recall', done: 5000, total: 20000, unit: 'iterations', stage: 'noise starts' })); // within the second: not printed
    expect(lines).toEqual(['recall (noise starts): 4000/20000 iterations (20%)']);
  });
});
