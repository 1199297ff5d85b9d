/**
 * An async job as an Observable of its one result: unsubscribing sets the flag the job polls
 * between its blocks of work, and a late result is dropped.
 *
 *   job:     ----------r|
 *   result:  ----------r|        (unsubscribed early: nothing, and the job stops at its next check)
 */
import { Observable } from 'rxjs';

export function cancellable<T>(job: (cancelled: () => boolean) => Promise<T>): Observable<T> {
  return new Observable<T>((sub) => {
    let cancelled = false;
    job(() => cancelled)
      .then((out) => {
        if (cancelled) return;
        sub.next(out);
        sub.complete();
      })
      .catch((e) => sub.error(e));
    return () => {
      cancelled = true;
    };
  });
}
