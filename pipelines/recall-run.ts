/**
 * recall-run: load a run's newest checkpoint, iterate the network from noise (or a training
 * sample), match the limit onto the stored samples and record what it recalled.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type Observable, concat, defer, from, lastValueFrom, mergeMap, of, toArray } from 'rxjs';
import { modelFromCheckpoint } from '../engine/checkpoint.ts';
import { EngramError } from '../errors.ts';
import type { ArtifactEvent, AttractorEvent, EngramEvent, RecallEvent } from '../events.ts';
import { certifyCycle, type EigMethodChoice } from '../engine/certify.ts';
import { fcModel, type Model } from '../engine/model.ts';
import { recall } from '../operators/recall.ts';
import { newRunId, readRunJson } from '../sinks/run-dir.ts';
import { readOneSample, type MediaShape } from './inputs.ts';
import { peakOf } from './memorize.ts';
import { checkRecordingPath, recordCycle } from './recordings.ts';
import { runJob } from './job.ts';
import { progressReporter } from './progress.ts';
import { openSavedRun } from './saved-run.ts';

export interface RecallRunConfig {
  runDir: string;
  from: string;
  sigma: number;
  maxIterations: number;
  seed: number;
  /** Noise starts (seeds seed, seed+1, …); the best trajectory is kept (default 1). */
  tries?: number;
  /** Output file (extension picks the format) or directory; default a new file in the run. */
  out?: string;
  force: boolean;
  /** The command line, for the log. */
  command?: string;
  /** Certify the limit reached (ρ of its Jacobian / cycle product) with this method; absent: no certificate. */
  eigMethod?: EigMethodChoice;
}

export interface RecallRunResult {
  event: RecallEvent;
  out: string;
  notes: string[];
  certificate?: AttractorEvent;
}

/**
 * recall as a job attached to the run: its events (notes, the recall, the recording, the
 * certificate) are appended to the run's events.jsonl; the run's status is left as it is.
 *
 *   recall:  --n--R--a--C|      (n = log notes, R = recall, a = artifact (recording), C = attractors, with --eig-method)
 */
export function recallJob(cfg: RecallRunConfig): Observable<EngramEvent> {
  return defer(() => {
    const { run, checkpoint: newest, data, frames, sequences, warnings } = openSavedRun(cfg.runDir);
    const ck = newest.contents;
    const shape = ck.meta?.shape as MediaShape | undefined;
    if (!shape) throw new EngramError('E_CHECKPOINT', `${newest.path} does not say what media it holds; memorize again with this engram`);
    const out = cfg.out ?? join(cfg.runDir, `recall-${newRunId('x').slice(0, 15)}${shape.kind === 'audio' ? '.wav' : '.mp4'}`);
    checkRecordingPath(out, shape, cfg.force); // before the work, not after it
    return runJob({ runId: run.id, command: cfg.command ?? 'engram recall', outDir: cfg.runDir, mode: { kind: 'attach' } }, (job) => {
      job.step = ck.step;
      const notes = [...warnings, ...(run.status === 'complete' ? [] : [`note: ${cfg.runDir} did not finish (status ${run.status}); using its checkpoint from step ${ck.step}`])];
      // iterating can take a while (up to --recall-steps per search): say how far it is, about once a second
      const reporter = progressReporter('recall', 'iterations', job.ev);
      const progress = (stage: string, iterations: number, cap: number) => reporter.report(iterations, cap, stage);
      return reporter.around(from(parseFrom(cfg.from, frames, shape)).pipe(
        mergeMap((from0) => {
          const model = job.hold(modelFromCheckpoint(newest.path, ck));
          return of({ map: model, sequences, objective: data.objective }).pipe(
            recall({ runId: run.id, step: ck.step, from: from0, sigma: cfg.sigma, maxIterations: cfg.maxIterations, seed: cfg.seed, tries: cfg.tries, peak: peakOf(shape), progress }),
            mergeMap((result) => concat(
              from(notes.map((message) => job.ev({ kind: 'log', level: 'warn', message }))),
              of<EngramEvent>(result.event),
              defer(async () => {
                await recordCycle(out, shape, result.states, cfg.force);
                return job.ev({ kind: 'artifact', what: shape.kind === 'audio' ? 'audio' : 'video', path: out });
              }),
              defer(() => {
                const c = cfg.eigMethod ? certifyLimit(fcModel(model), result.event, result.states, cfg.eigMethod, run.id, ck.step) : undefined;
                return c ? of<EngramEvent>(c) : of<EngramEvent>();
              }),
            )),
          );
        }),
      ));
    });
  });
}

/**
 * What `recall` can check before the backend starts: `runDir` is a run, and an --out given is a
 * format and place the run's media can be recorded to (the run's kind from its run.json; the job
 * checks again against its checkpoint).
 */
export function checkRecall(cfg: Pick<RecallRunConfig, 'runDir' | 'out' | 'force'>): void {
  const run = readRunJson(cfg.runDir);
  const kind = (run.config as { input?: { kind?: string } } | undefined)?.input?.kind;
  if (cfg.out !== undefined && (kind === 'audio' || kind === 'video' || kind === 'images')) checkRecordingPath(cfg.out, { kind }, cfg.force);
}

/** recallJob, collected: what it recalled, where it recorded it, and the certificate when asked for. */
export async function recallRun(cfg: RecallRunConfig): Promise<RecallRunResult> {
  const events = await lastValueFrom(recallJob(cfg).pipe(toArray()));
  const event = events.find((e): e is RecallEvent => e.kind === 'recall')!;
  const out = events.find((e): e is ArtifactEvent => e.kind === 'artifact' && (e.what === 'audio' || e.what === 'video'))!.path;
  const notes = events.flatMap((e) => (e.kind === 'log' ? [e.message] : []));
  const certificate = events.find((e): e is AttractorEvent => e.kind === 'attractors');
  return { event, out, notes, certificate };
}

/** ρ of the Jacobian at the recalled fixed point, or of the product around the recalled cycle. */
function certifyLimit(model: Model, e: RecallEvent, states: Float32Array[], method: EigMethodChoice, runId: string, step: number): AttractorEvent | undefined {
  if (e.rule !== 'cycle' && e.rule !== 'fixed-point') return undefined;
  const t0 = performance.now();
  const c = certifyCycle(model, states, 5, method);
  return {
    kind: 'attractors', runId, step, time: Date.now(), method: c.method, solver: c.solver, attractors: 0, stored: 0,
    items: [{ what: `recalled limit (from ${e.from})`, period: states.length, rho: c.rho, top: c.top, attractor: c.attractor }],
    ms: performance.now() - t0,
  };
}

/** noise/gaussian, uniform, frame:I (a training sample), or a media file of the run's kind (e.g. a corrupted copy). */
async function parseFrom(from: string, frames: Float32Array[], shape: MediaShape): Promise<'gaussian' | 'uniform' | Float32Array> {
  if (from === 'noise' || from === 'gaussian') return 'gaussian';
  if (from === 'uniform') return 'uniform';
  const m = /^frame:(\d+)$/.exec(from);
  if (m && Number(m[1]) < frames.length) return frames[Number(m[1])];
  if (!m && existsSync(from)) return readOneSample(from, shape);
  throw new EngramError('E_BAD_ARGUMENT', `--from must be noise, gaussian, uniform, frame:I with I < ${frames.length}, or an existing ${shape.kind} file (got '${from}')`);
}
