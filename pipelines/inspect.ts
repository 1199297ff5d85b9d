/**
 * inspect: load a run's final (else newest) checkpoint and certify every stored memory — each
 * autoencoded example at its stored point, each cycle around its training sequence — as a job
 * attached to the run: the `attractor-monitor` event (phase 'inspect') is appended to its
 * events.jsonl, attractors.json holds the table, and rho-hist.png / top-eig-hist.png are drawn from
 * that event.
 *
 * Each item says whether it is a stored memory (the network's own limit from its samples comes back
 * to them, the rule recall uses), so inspect counts as memorize does.
 *
 *   inspect:  --M--a--p-p|     (M = attractor-monitor, a = artifact attractors.json, p = plots)
 */
import { join } from 'node:path';
import { type Observable, defer, from, mergeMap } from 'rxjs';
import { chooseEigMethod, type EigMethodChoice } from '../engine/certify.ts';
import { modelFromCheckpoint } from '../engine/checkpoint.ts';
import { fcModel } from '../engine/model.ts';
import type { AttractorMonitorEvent, EngramEvent } from '../events.ts';
import { monitorSnapshot } from '../operators/attractor-monitor.ts';
import { storedMemoryFlags } from '../operators/recall.ts';
import { PLOT_BUILDERS } from '../sinks/plots/index.ts';
import { writeJsonAtomic } from '../sinks/run-dir.ts';
import { runJob } from './job.ts';
import { type MediaShape } from './inputs.ts';
import { peakOf } from './memorize.ts';
import { openSavedRun } from './saved-run.ts';

/** Iterations from x_i towards its fixed point before certifying an autoencoded example. */
export const INSPECT_SETTLE = 10;

const INSPECT_PLOTS = PLOT_BUILDERS.filter((b) => b.name === 'rho-hist' || b.name === 'top-eig-hist');

export interface InspectConfig {
  runDir: string;
  method?: EigMethodChoice;
  topK?: number;
  command?: string;
}

export function inspectJob(cfg: InspectConfig): Observable<EngramEvent> {
  return defer(() => {
    const { run, checkpoint: newest, data, sequences, warnings } = openSavedRun(cfg.runDir);
    // the certificate is one synchronous computation: start it on the next turn of the event loop,
    // so a Ctrl-C that comes first is taken
    const nextTurn$ = from(new Promise<void>((r) => setImmediate(r)));
    return runJob({ runId: run.id, command: cfg.command ?? 'engram inspect', outDir: cfg.runDir, mode: { kind: 'attach' }, plots: INSPECT_PLOTS }, (job) => nextTurn$.pipe(mergeMap(() => {
      const ck = newest.contents;
      job.step = ck.step;
      const model = job.hold(fcModel(modelFromCheckpoint(newest.path, ck)));
      // inspect certifies: 'auto' is the exact dense rule of engine/certify.ts (the monitor's auto is arnoldi)
      const snap = monitorSnapshot(model, sequences, data.objective as 'autoencode' | 'cycle' | 'multi-cycle', {
        maxExamples: Number.POSITIVE_INFINITY, method: chooseEigMethod(model, cfg.method ?? 'auto'), topK: cfg.topK ?? 5, settle: INSPECT_SETTLE,
      });
      return from(storedMemoryFlags({ map: model, sequences, objective: data.objective as 'autoencode' | 'cycle' | 'multi-cycle' }, {
        maxIterations: (run.config as { recall?: { maxIterations?: number } } | undefined)?.recall?.maxIterations,
        peak: ck.meta?.shape ? peakOf(ck.meta.shape as MediaShape) : 1,
      })).pipe(mergeMap((flags) => {
        // what memorize's certificate counts: only a stored memory is one (the index is the sample's, or the sequence's)
        snap.items = snap.items.map((i) => ({ ...i, stored: flags[i.index] ?? false }));
        const event: AttractorMonitorEvent = {
          ...snap, kind: 'attractor-monitor', runId: run.id, step: ck.step, time: Date.now(), phase: 'inspect', totalMs: snap.ms, trainMs: 0,
        };
        const json = join(cfg.runDir, 'attractors.json');
        writeJsonAtomic(json, {
          run: run.id, checkpoint: newest.path, step: ck.step, objective: data.objective, method: event.method, solver: event.solver,
          settle: data.objective === 'autoencode' ? INSPECT_SETTLE : 0,
          totals: { attractors: event.attractors, n: event.n, total: event.total, stored: event.items.filter((i) => i.stored).length },
          items: event.items, rhoHist: event.rhoHist, topEigHist: event.topEigHist, pooled: event.pooled, ms: event.ms,
        });
        return from<EngramEvent[]>([
          ...warnings.map((message) => job.ev({ kind: 'log', level: 'warn', message })), event, job.ev({ kind: 'artifact', what: 'report', path: json }),
        ]);
      }));
    })));
  });
}
