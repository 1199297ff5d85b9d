/**
 * The life cycle every job shares: each event goes to the run's sinks before it goes on; a failure
 * is logged with a `run-end` (failed) and run.json says why; unsubscribing early writes `run-end`
 * (cancelled); the sinks and tensors are released exactly once, however the run ends.
 *
 *   run$:     --a--b--c--|         --a--#           --a--b-  (unsubscribed)
 *   result:   --a--b--c--|         --a--#           --a--b-
 *   sinks:      a  b  c  close       a  log+end(failed) close   a  b  end(cancelled) close
 */
import { Observable, finalize, tap } from 'rxjs';
import { EngramError } from '../errors.ts';
import type { EngramEvent, EventBody } from '../events.ts';

export interface RunRecording {
  /** Every event, as it passes (events.jsonl, metrics.csv). */
  write(e: EngramEvent): void;
  /** Stamp an event body with run id, step and time. */
  ev(body: EventBody): EngramEvent;
  /** Merge fields into run.json. */
  saveRunJson(fields: Record<string, unknown>): void;
  started: number;
  /** Close the sinks and free the model (called once). */
  release(): void;
  /** Before the cancelled run-end is written (e.g. name the checkpoint the trainer just saved); may change the status. */
  onCancel?(): 'cancelled' | 'complete';
}

export function recordRun(run$: Observable<EngramEvent>, r: RunRecording): Observable<EngramEvent> {
  return new Observable<EngramEvent>((sub) => {
    let ended = false;
    let cancelling = false;
    // release after the upstream teardown (finalize runs after it): the trainer's own cleanup may
    // still read the model, e.g. to save the steps since the last checkpoint
    const s = run$.pipe(
      tap((e) => r.write(e)),
      finalize(() => {
        if (!cancelling) r.release();
      }),
    ).subscribe({
      next: (e) => sub.next(e),
      error: (err) => {
        ended = true;
        const msg = err instanceof Error ? err.message : String(err);
        r.write(r.ev({ kind: 'log', level: 'error', message: msg }));
        r.write(r.ev({ kind: 'run-end', status: 'failed', wallMs: Date.now() - r.started }));
        r.saveRunJson({ status: 'failed', error: msg, ...(err instanceof EngramError ? { errorCode: err.code } : {}) });
        sub.error(err);
      },
      complete: () => {
        ended = true;
        sub.complete();
      },
    });
    return () => {
      if (ended) return;
      cancelling = true;
      s.unsubscribe(); // upstream cleanup first (the trainer saves its last checkpoint here)
      const status = r.onCancel?.() ?? 'cancelled';
      r.write(r.ev({ kind: 'run-end', status, wallMs: Date.now() - r.started }));
      r.saveRunJson({ status });
      r.release();
    };
  });
}
