/**
 * The job harness: everything a run does to the outside world (its directory, run.json,
 * events.jsonl, metrics.csv, the plots drawn when it completes, and the release of what it holds,
 * such as the model) is set up when the job is subscribed, never when it is built, and torn down
 * once, in one order, however the run ends. Each subscription is a complete, independent run.
 *
 *   body:   ---a--b--|           ---a--#                 ---a--b-   (unsubscribed)
 *   job:    S--a--b--p-E|        S--a--#                 S--a--b-
 *   sinks:  S  a  b  p E         S  a  L E(failed)       S  a  b  E(cancelled)
 *
 *   S = run-start, p = plot artifacts, L = the error as a log event, E = run-end. Every event
 *   reaches the sinks before it goes downstream. Teardown order: the body's own teardown (the
 *   trainer saves its last checkpoint there), then run-end and run.json, then the sinks close and
 *   the held resources are released.
 *
 * @example
 *   runJob({ runId, command, outDir, mode: { kind: 'new', force: false }, start: { backend, config } },
 *     (job) => of(job.ev({ kind: 'log', level: 'info', message: 'hello' })))
 */
import { hostname } from 'node:os';
import { join } from 'node:path';
import { Observable, catchError, concat, defer, from, mergeMap, of } from 'rxjs';
import type { BackendInfo } from '../engine/backend.ts';
import { EngramError } from '../errors.ts';
import { EVENT_SCHEMA_VERSION, type EngramEvent, type EventBody, type RunStartEvent } from '../events.ts';
import { openMetricsCsv, rewindMetricsCsv, type MetricsCsv } from '../sinks/csv.ts';
import { openEventLog, rewindEventLog, type EventLog } from '../sinks/events-jsonl.ts';
import type { PlotBuilder } from '../sinks/plots/index.ts';
import { writePlots } from '../sinks/plots/index.ts';
import { prepareRunDir, readRunJson, removeFile, writeJsonAtomic } from '../sinks/run-dir.ts';
import { readEventLog } from '../sources/event-log.ts';

export type JobMode =
  /** A fresh run directory, created on subscription (an existing non-empty one only with force). */
  | { kind: 'new'; force: boolean }
  /** Continue the run in outDir from a checkpoint at fromStep: later events are moved aside first. */
  | { kind: 'resume'; fromStep: number; checkpoint: string }
  /** Add events to an existing run (recall, inspect) without changing its status; log: false only reads it (plot). */
  | { kind: 'attach'; log?: boolean };

export interface JobSpec {
  runId: string;
  /** The command line, as typed. */
  command: string;
  outDir: string;
  mode: JobMode;
  /** run-start and run.json (new and resume jobs). */
  start?: { backend: BackendInfo; config: RunStartEvent['config']; runJson?: Record<string, unknown> };
  /** Write metrics.csv (train-step rows). */
  metrics?: boolean;
  /**
   * Plots drawn when the job completes, from the run's whole event log (an attached job: from its
   * own events only); one that cannot be drawn is a warning.
   */
  plots?: readonly PlotBuilder[];
  /** How often a running job refreshes run.json's `heartbeat`, ms (default HEARTBEAT_MS). */
  heartbeatMs?: number;
}

/**
 * A running job (new or resumed) records its writer, `{ pid, host }`, in run.json and refreshes
 * `heartbeat` (an ISO time) this often, so `engram watch` can tell a run whose process is gone
 * from one that is still working (pipelines/watch.ts).
 */
export const HEARTBEAT_MS = 5000;

export interface Job {
  readonly runId: string;
  readonly outDir: string;
  /** Wall-clock start, ms since the epoch. */
  readonly started: number;
  /** The step events are stamped with: follows train-step events, and may be set by the body. */
  step: number;
  /** Stamp an event body with run id, step and time. */
  ev(body: EventBody): EngramEvent;
  /** Merge fields into run.json (new and resume jobs). */
  saveRunJson(fields: Record<string, unknown>): void;
  /** Release `r` (dispose) at teardown, after the body's own teardown. */
  hold<R extends { dispose(): void }>(r: R): R;
  /**
   * Called when the run is unsubscribed, after the body's teardown and before run-end: may say the
   * run is complete after all (e.g. an idle watch) and add events for the log (e.g. the checkpoint
   * the trainer saved on its way out).
   */
  onCancel(f: () => CancelOutcome): void;
}

export interface CancelOutcome {
  status: 'cancelled' | 'complete';
  events?: EngramEvent[];
}

export function backendJson(b: BackendInfo): RunStartEvent['backend'] {
  return { name: b.name, tfBackend: b.tfBackend, device: b.device, blas: b.blas, threads: b.threads };
}

export function runJob(spec: JobSpec, body: (job: Job) => Observable<EngramEvent>): Observable<EngramEvent> {
  return new Observable<EngramEvent>((sub) => {
    const started = Date.now();
    const tracksStatus = spec.mode.kind !== 'attach';
    const held: { dispose(): void }[] = [];
    let cancelHook: (() => CancelOutcome) | null = null;
    let log: EventLog | null = null;
    let metrics: MetricsCsv | null = null;
    let runJson: Record<string, unknown> = {};
    let ended = false;
    let released = false;
    /** run.json and run-end only once the directory is ours: a refused --out is never written into. */
    let ready = false;
    let heartbeat: NodeJS.Timeout | null = null;
    const stopHeartbeat = () => {
      if (heartbeat) clearInterval(heartbeat);
      heartbeat = null;
    };

    const job: Job = {
      runId: spec.runId, outDir: spec.outDir, started, step: spec.mode.kind === 'resume' ? spec.mode.fromStep : 0,
      ev: (body) => ({ ...body, runId: spec.runId, step: job.step, time: Date.now() }),
      saveRunJson: (fields) => {
        if (!tracksStatus || !ready) return;
        runJson = Object.assign(runJson, fields, { updated: new Date().toISOString() });
        writeJsonAtomic(join(spec.outDir, 'run.json'), runJson);
      },
      hold: (r) => (held.push(r), r),
      onCancel: (f) => void (cancelHook = f),
    };
    const write = (e: EngramEvent) => {
      log?.write(e);
      metrics?.write(e);
    };
    const release = () => {
      stopHeartbeat();
      if (released) return;
      released = true;
      log?.close();
      metrics?.close();
      for (const r of held.splice(0).reverse()) r.dispose();
    };
    const end = (status: 'complete' | 'failed' | 'cancelled', extra: Record<string, unknown> = {}) => {
      stopHeartbeat();
      if (!tracksStatus || !ready) return;
      write(job.ev({ kind: 'run-end', status, wallMs: Date.now() - started }));
      job.saveRunJson({ status, ...extra });
    };

    const notes: string[] = [];
    const setUp = (): EngramEvent[] => {
      const logPath = join(spec.outDir, 'events.jsonl');
      const csvPath = join(spec.outDir, 'metrics.csv');
      const mode = spec.mode;
      if (mode.kind === 'new') {
        const replaced = prepareRunDir(spec.outDir, mode.force);
        if (replaced) notes.push(replaced);
        log = openEventLog(logPath, 'new');
        if (spec.metrics) {
          removeFile(csvPath);
          metrics = openMetricsCsv(csvPath);
        }
      } else if (mode.kind === 'resume') {
        runJson = { ...readRunJson(spec.outDir) };
        const moved = rewindEventLog(logPath, mode.fromStep);
        rewindMetricsCsv(csvPath, mode.fromStep);
        log = openEventLog(logPath, 'append');
        if (spec.metrics) metrics = openMetricsCsv(csvPath);
        if (moved) notes.push(`${moved} events after step ${mode.fromStep} moved to events.discarded.jsonl`);
      } else {
        readRunJson(spec.outDir); // names a directory that is not a run
        if (mode.log !== false) log = openEventLog(logPath, 'append');
      }
      ready = true;
      if (!spec.start || !tracksStatus) return [];
      const { config } = spec.start;
      const backend = backendJson(spec.start.backend);
      const resume = mode.kind === 'resume' ? { fromStep: mode.fromStep, checkpoint: mode.checkpoint } : undefined;
      // a new run's run.json starts here; a resumed run keeps its id, created time and summary so far
      if (mode.kind === 'new') runJson = { id: spec.runId, created: new Date(started).toISOString() };
      job.saveRunJson({
        command: spec.command, status: 'running', config, backend, ...spec.start.runJson,
        ...(resume ? { resumedFrom: { checkpoint: resume.checkpoint, step: resume.fromStep } } : {}),
        writer: { pid: process.pid, host: hostname() }, heartbeat: new Date().toISOString(),
      });
      // cheap (a small atomic rewrite every few seconds) and never keeps the process alive
      heartbeat = setInterval(() => {
        try {
          if (!ended) job.saveRunJson({ heartbeat: new Date().toISOString() });
        } catch {
          // a directory that became unwritable: the run's own writes will say so
        }
      }, spec.heartbeatMs ?? HEARTBEAT_MS);
      heartbeat.unref();
      return [
        job.ev({ kind: 'run-start', command: spec.command, backend, schemaVersion: EVENT_SCHEMA_VERSION, config, ...(resume ? { resume } : {}) }),
        ...notes.map((message) => job.ev({ kind: 'log', level: 'info', message })),
      ];
    };

    /** The plots of the finished run, from its event log (engram plot redraws them the same way). */
    const plots$ = () => defer(() => {
      if (!spec.plots?.length) return of<EngramEvent[]>([]);
      const redraw = `redraw with engram plot ${spec.outDir}`;
      const events = tracksStatus ? readEventLog(join(spec.outDir, 'events.jsonl')).events : own;
      return from(writePlots(events, spec.outDir, spec.plots)).pipe(
        mergeMap(async (p) => (job.saveRunJson({ plots: p.written.map((w) => w.path) }), [
          ...p.written.map((w) => job.ev({ kind: 'artifact', what: 'plot', path: w.path })),
          ...p.failed.map((f) => job.ev({ kind: 'log', level: 'warn', message: `plot ${f.name} not drawn: ${f.error}; ${redraw}` })),
        ])),
        catchError((e: unknown) => of([job.ev({ kind: 'log', level: 'warn', message: `plots not drawn: ${messageOf(e)}; ${redraw}` })])),
      );
    }).pipe(mergeMap((es) => from(es)));

    const run$ = concat(
      defer(() => from(setUp())),
      defer(() => body(job)),
      plots$(),
    );
    const own: EngramEvent[] = [];
    const forward = (e: EngramEvent) => {
      if (e.kind === 'train-step') job.step = e.step;
      if (!tracksStatus) own.push(e);
      write(e);
      sub.next(e);
    };
    const s = run$.subscribe({
      next: forward,
      error: (err: unknown) => {
        ended = true;
        // an attached job (recall, inspect) that fails leaves the run's log as it was
        if (tracksStatus && ready) write(job.ev({ kind: 'log', level: 'error', message: messageOf(err) }));
        try {
          end('failed', { error: messageOf(err), ...(err instanceof EngramError ? { errorCode: err.code } : {}) });
        } finally {
          release();
        }
        sub.error(err);
      },
      complete: () => {
        ended = true;
        stopHeartbeat();
        try {
          if (tracksStatus) {
            const e = job.ev({ kind: 'run-end', status: 'complete', wallMs: Date.now() - started });
            job.saveRunJson({ status: 'complete' });
            forward(e);
          }
        } catch (err) {
          release();
          sub.error(err);
          return;
        }
        release();
        sub.complete();
      },
    });
    return () => {
      if (ended) return;
      ended = true;
      s.unsubscribe(); // the body's teardown first: the trainer saves its last checkpoint there
      try {
        const outcome = cancelHook?.() ?? { status: 'cancelled' };
        if (ready) outcome.events?.forEach(write);
        end(outcome.status);
      } finally {
        release();
      }
    };
  });
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
