/**
 * plot: (re)draw every registered plot whose events are present in a run's events.jsonl, as a job
 * attached to the run that only reads its log.
 *
 *   plot:  --n--p--p--w|     (n = notes on unreadable lines, p = plot artifacts, w = a plot that could not be drawn)
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type Observable, defer, from, mergeMap } from 'rxjs';
import { EngramError } from '../errors.ts';
import type { EngramEvent } from '../events.ts';
import { PLOT_BUILDERS, writePlots } from '../sinks/plots/index.ts';
import { readRunJson } from '../sinks/run-dir.ts';
import { readEventLog } from '../sources/event-log.ts';
import { runJob } from './job.ts';

export function plotJob(runDir: string): Observable<EngramEvent> {
  return defer(() => {
    if (!existsSync(runDir)) throw new EngramError('E_INPUT_MISSING', `run directory ${runDir} does not exist; pass a directory made by engram memorize, demo or identity`);
    const run = readRunJson(runDir);
    const path = join(runDir, 'events.jsonl');
    if (!existsSync(path)) throw new EngramError('E_INPUT_MISSING', `${runDir} has no events.jsonl, so there is nothing to plot; re-run the command that made it`);
    return runJob({ runId: run.id, command: 'engram plot', outDir: runDir, mode: { kind: 'attach', log: false } }, (job) => defer(() => {
      const { events, skipped, problems, torn } = readEventLog(path);
      const notes = [
        ...(torn ? [`the last line of ${path} was cut short (an interrupted write) and is ignored`] : []),
        ...(skipped ? [`${skipped} unreadable line(s) in ${path} were skipped (${problems.join('; ')}${skipped > problems.length ? '; …' : ''})`] : []),
      ];
      return from(writePlots(events, runDir)).pipe(mergeMap(({ written, failed }) => {
        if (failed.length && written.length === 0) {
          throw new EngramError('E_OUTPUT_UNWRITABLE', `no plot could be drawn in ${runDir} (${failed.map((f) => `${f.name}: ${f.error}`).join('; ')}); check the directory is writable`);
        }
        return from([
          ...notes.map((message) => job.ev({ kind: 'log', level: 'warn', message })),
          ...failed.map((f) => job.ev({ kind: 'log', level: 'warn', message: `plot ${f.name} not drawn: ${f.error}` })),
          ...written.map((w) => job.ev({ kind: 'artifact', what: 'plot', path: w.path })),
          ...(written.length ? [] : [job.ev({ kind: 'log', level: 'info', message: `no plots for ${runDir}: its ${events.length} events have none of ${PLOT_BUILDERS.map((b) => b.name).join(', ')}` })]),
        ]);
      }));
    }));
  });
}
