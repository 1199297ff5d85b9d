/**
 * Progress of a long stage that has no training steps to show (decoding an input, iterating recall):
 * `report` is called as often as the work likes; a `progress` event goes out at most once per
 * `everyMs` (the first only after `everyMs`, so a short stage says nothing). `around(work$)` merges
 * the events into the work's stream and ends them with it.
 */
import { finalize, merge, Subject, type Observable } from 'rxjs';
import type { EngramEvent, EventBody, ProgressEvent } from '../events.ts';

export interface ProgressReporter {
  report(done: number, total: number | null, stage?: string): void;
  around<T>(work$: Observable<T>): Observable<T | EngramEvent>;
}

export function progressReporter(what: ProgressEvent['what'], unit: string, ev: (body: EventBody) => EngramEvent, everyMs = 1000): ProgressReporter {
  const events = new Subject<EngramEvent>();
  let last = Date.now();
  return {
    report(done, total, stage) {
      if (Date.now() - last < everyMs) return;
      last = Date.now();
      events.next(ev({ kind: 'progress', what, unit, done, total, ...(stage ? { stage } : {}) }));
    },
    around: (work$) => merge(events, work$.pipe(finalize(() => events.complete()))),
  };
}
