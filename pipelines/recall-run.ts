/**
 * recall-run: load a run's newest checkpoint, iterate the network from noise (or a training
 * sample), match the limit onto the stored samples and record what it recalled.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { firstValueFrom, of } from 'rxjs';
import { modelFromCheckpoint } from '../engine/checkpoint.ts';
import { EngramError } from '../errors.ts';
import type { AttractorEvent, RecallEvent } from '../events.ts';
import { certifyCycle, type EigMethodChoice } from '../engine/certify.ts';
import { fcModel, type Model } from '../engine/model.ts';
import { recall } from '../operators/recall.ts';
import { checkpointStore } from '../sinks/checkpoints.ts';
import { appendEvent } from '../sinks/events-jsonl.ts';
import { newRunId, readRunJson } from '../sinks/run-dir.ts';
import { readOneSample, type MediaShape } from './inputs.ts';
import { datasetFromCheckpoint, peakOf, splitRows } from './memorize.ts';
import { checkRecordingPath, recordCycle } from './recordings.ts';

export interface RecallRunConfig {
  runDir: string;
  from: string;
  sigma: number;
  maxIterations: number;
  seed: number;
  /** Output file (extension picks the format) or directory; default a new file in the run. */
  out?: string;
  force: boolean;
  /** Certify the limit reached (ρ of its Jacobian / cycle product) with this method; absent: no certificate. */
  eigMethod?: EigMethodChoice;
}

export async function recallRun(cfg: RecallRunConfig): Promise<{ event: RecallEvent; out: string; notes: string[]; certificate?: AttractorEvent }> {
  const run = readRunJson(cfg.runDir);
  const newest = checkpointStore(cfg.runDir).newest();
  if (!newest) {
    throw new EngramError('E_INPUT_MISSING', `${cfg.runDir} has no loadable checkpoint (run status: ${run.status}); memorize again to make one`);
  }
  const ck = newest.contents;
  const shape = ck.meta?.shape as MediaShape | undefined;
  if (!shape) throw new EngramError('E_CHECKPOINT', `${newest.path} does not say what media it holds; memorize again with this engram`);
  const notes = run.status === 'complete' ? [] : [`note: ${cfg.runDir} did not finish (status ${run.status}); using its checkpoint from step ${ck.step}`];
  const out = cfg.out ?? join(cfg.runDir, `recall-${newRunId('x').slice(0, 15)}${shape.kind === 'audio' ? '.wav' : '.mp4'}`);
  checkRecordingPath(out, shape, cfg.force); // before the work, not after it

  const data = datasetFromCheckpoint(ck);
  const frames = splitRows(data.inputs, data.n, data.dim);
  const from = await parseFrom(cfg.from, frames, shape);
  const model = modelFromCheckpoint(newest.path, ck);
  try {
    const sequences: Float32Array[][] = [];
    let at = 0;
    for (const len of data.sequenceLengths) {
      sequences.push(frames.slice(at, at + len));
      at += len;
    }
    const result = await firstValueFrom(
      of({ map: model, sequences, objective: data.objective }).pipe(
        recall({ runId: run.id, step: ck.step, from, sigma: cfg.sigma, maxIterations: cfg.maxIterations, seed: cfg.seed, peak: peakOf(shape) }),
      ),
    );
    await recordCycle(out, shape, result.states, cfg.force);
    const eventsPath = join(cfg.runDir, 'events.jsonl');
    if (existsSync(eventsPath)) appendEvent(eventsPath, result.event);
    const certificate = cfg.eigMethod ? certifyLimit(fcModel(model), result.event, result.states, cfg.eigMethod, run.id, ck.step) : undefined;
    if (certificate && existsSync(eventsPath)) appendEvent(eventsPath, certificate);
    return { event: result.event, out, notes, certificate };
  } finally {
    model.dispose();
  }
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
