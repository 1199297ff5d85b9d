/**
 * memorize-video: decode a clip → build the cycle (or autoencode) dataset → train → checkpoint →
 * recall from noise → recalled.mp4 + contact sheet, all as one event stream written to events.jsonl.
 *
 *   frames$ ─toArray─▶ dataset ─┬─▶ train ──▶ train-step… train-end
 *                               └─▶ (after training) checkpoint ─▶ recall ─▶ media sinks
 */
import { join } from 'node:path';
import { Observable, concat, defer, from, map, mergeMap, of, tap, toArray } from 'rxjs';
import type { BackendInfo } from '../engine/backend.ts';
import { saveCheckpoint } from '../engine/checkpoint.ts';
import { createFcModel, type Model, type ModelSpec } from '../engine/model.ts';
import { makeDataset, type Dataset, type Objective } from '../engine/objectives.ts';
import type { OptimizerSpec } from '../engine/optimizers.ts';
import { EngramError } from '../errors.ts';
import type { EngramEvent, EventBody, RecallEvent } from '../events.ts';
import { recall, type RecallOutput } from '../operators/recall.ts';
import { train } from '../operators/train.ts';
import { openEventLog } from '../sinks/events-jsonl.ts';
import { contactSheet, writePng } from '../sinks/png.ts';
import { writeJsonAtomic } from '../sinks/run-dir.ts';
import { writeVideo } from '../sinks/video.ts';
import { videoFrames$, type Frame } from '../sources/video.ts';

export interface MemorizeVideoConfig {
  runId: string;
  command: string;
  input: string;
  outDir: string;
  video: { width: number; height: number; gray: boolean; frames?: number; fps?: number };
  objective: Extract<Objective, 'cycle' | 'autoencode'>;
  model: Omit<ModelSpec, 'kind' | 'dim'>;
  optimizer: OptimizerSpec;
  lossTarget: number;
  maxSteps: number;
  batchSize?: number;
  recall: { from: 'gaussian' | 'uniform'; sigma: number; maxIterations: number; seed: number };
  /** Overwrite files of the same name inside outDir. */
  force: boolean;
}

export interface MemorizeSummary {
  frames: number;
  framesMatched: number;
  orderCorrect: boolean;
  meanPsnr: number;
  steps: number;
  finalLoss: number;
  trainReason: string;
  wallMs: number;
  backend: string;
  outDir: string;
}

/** Frames that are (numerically) identical cannot have different successors in a cycle. */
export function assertDistinct(frames: Float32Array[], what: string): void {
  for (let i = 0; i < frames.length; i++) {
    for (let j = i + 1; j < frames.length; j++) {
      let s = 0;
      const a = frames[i], b = frames[j];
      for (let k = 0; k < a.length; k++) s += (a[k] - b[k]) ** 2;
      if (Math.sqrt(s / a.length) < 1e-4) {
        throw new EngramError('E_BAD_ARGUMENT',
          `frames ${i} and ${j} of ${what} are identical at this size, so no map can send them to different successors; ` +
          'use a clip whose frames differ (or a larger --size, or fewer --frames)');
      }
    }
  }
}

export function memorizeVideo(cfg: MemorizeVideoConfig, backend: BackendInfo): Observable<EngramEvent> {
  const started = Date.now();
  const runJsonPath = join(cfg.outDir, 'run.json');
  const log = openEventLog(join(cfg.outDir, 'events.jsonl'));
  let step = 0;
  let model: Model | undefined;
  let frameShape = { width: cfg.video.width, height: cfg.video.height, channels: cfg.video.gray ? 1 : 3 };
  const runJson: Record<string, unknown> = {
    id: cfg.runId, command: cfg.command, status: 'running', created: new Date(started).toISOString(),
    input: cfg.input, config: { ...cfg, command: undefined }, backend: backendJson(backend),
    reduction: 'mean squared error over all elements (mean over pairs and dimensions)',
  };
  const saveRunJson = (extra: Record<string, unknown> = {}) =>
    writeJsonAtomic(runJsonPath, Object.assign(runJson, extra, { updated: new Date().toISOString() }));
  const ev = <E extends EventBody>(body: E): EngramEvent =>
    ({ ...body, runId: cfg.runId, step, time: Date.now() }) as unknown as EngramEvent;

  const frames$ = videoFrames$(cfg.input, cfg.video).pipe(toArray());
  const dataset$ = frames$.pipe(
    map((frames: Frame[]) => {
      if (frames.length < 2 && cfg.objective === 'cycle') {
        throw new EngramError('E_INPUT_EMPTY', `${cfg.input} gave ${frames.length} frame; a cycle needs at least 2 (check --frames)`);
      }
      frameShape = { width: frames[0].width, height: frames[0].height, channels: frames[0].channels };
      const vectors = frames.map((f) => f.data);
      if (cfg.objective === 'cycle') assertDistinct(vectors, cfg.input);
      return makeDataset(cfg.objective, [vectors]);
    }),
  );

  let current: Dataset | undefined;
  const checkpoint = (data: Dataset, meta: Record<string, unknown>) => {
    const ckpt = join(cfg.outDir, 'model.ckpt');
    saveCheckpoint(ckpt, {
      spec: model!.spec, step, weights: model!.weights(),
      data: { objective: data.objective, sequenceLengths: data.sequenceLengths, vectors: { name: 'frames', shape: [data.n, data.dim], data: data.inputs } },
      meta: { runId: cfg.runId, frame: frameShape, ...meta },
    });
    return ckpt;
  };

  const afterTraining = (data: Dataset, trainEnd: { reason: string; loss: number }) =>
    defer(() => {
      const m = model!;
      const ckpt = checkpoint(data, { loss: trainEnd.loss });
      const sequences = [splitRows(data.inputs, data.n, data.dim)];
      return concat(
        of(ev({ kind: 'artifact', what: 'checkpoint', path: ckpt })),
        of({ map: m, sequences, objective: cfg.objective }).pipe(
          recall({ runId: cfg.runId, step, ...cfg.recall }),
          mergeMap((out) => concat(of(ev(out.event)), from(writeRecallMedia(cfg, out, sequences[0], frameShape)).pipe(
            mergeMap((paths) => from(paths.map((p) => ev(p)))),
          ), defer(() => {
            const summary = summarize(cfg, out.event, { steps: step, ...trainEnd }, backend, started);
            saveRunJson({ status: 'complete', summary });
            return of(ev({ kind: 'run-end', status: 'complete', wallMs: Date.now() - started }));
          }))),
        ),
      );
    });

  const run$ = defer(() => {
    saveRunJson();
    return concat(
      of(ev({
        kind: 'run-start', command: cfg.command, backend: backendJson(backend),
        config: { ...cfg, command: undefined } as Record<string, unknown>,
      })),
      dataset$.pipe(
        mergeMap((data) => {
          model = createFcModel({ kind: 'fc', dim: data.dim, ...cfg.model }, unitVector(data.inputs.subarray(0, data.dim)));
          current = data;
          let end = { reason: 'step-cap', loss: Number.NaN };
          return concat(
            of(ev({ kind: 'dataset', objective: data.objective, n: data.n, dim: data.dim, source: cfg.input, frame: frameShape })),
            of(data).pipe(
              train({ runId: cfg.runId, model, optimizer: cfg.optimizer, lossTarget: cfg.lossTarget, maxSteps: cfg.maxSteps, batchSize: cfg.batchSize, seed: cfg.model.seed }),
              tap((e) => {
                step = e.step;
                if (e.kind === 'train-end') end = { reason: e.reason, loss: e.loss };
              }),
            ),
            defer(() => afterTraining(data, end)),
          );
        }),
      ),
    );
  });

  return new Observable<EngramEvent>((sub) => {
    const s = run$.pipe(tap((e) => log.write(e))).subscribe({
      next: (e) => sub.next(e),
      error: (err) => {
        const msg = err instanceof Error ? err.message : String(err);
        log.write(ev({ kind: 'log', level: 'error', message: msg }));
        log.write(ev({ kind: 'run-end', status: 'failed', wallMs: Date.now() - started }));
        saveRunJson({ status: 'failed', error: msg });
        cleanup();
        sub.error(err);
      },
      complete: () => {
        cleanup();
        sub.complete();
      },
    });
    let cleaned = false;
    function cleanup() {
      if (cleaned) return;
      cleaned = true;
      log.close();
      model?.dispose();
    }
    return () => {
      s.unsubscribe();
      if (!cleaned) {
        // Keep the work done so far: a cancelled run still leaves a loadable checkpoint.
        if (model && current && step > 0) {
          const path = checkpoint(current, { cancelled: true });
          log.write(ev({ kind: 'artifact', what: 'checkpoint', path }));
        }
        log.write(ev({ kind: 'run-end', status: 'cancelled', wallMs: Date.now() - started }));
        saveRunJson({ status: 'cancelled' });
        cleanup();
      }
    };
  });
}

export function backendJson(b: BackendInfo) {
  return { name: b.name, tfBackend: b.tfBackend, device: b.device, blas: b.blas, threads: b.threads };
}

export function splitRows(packed: Float32Array, n: number, d: number): Float32Array[] {
  return Array.from({ length: n }, (_, i) => packed.slice(i * d, (i + 1) * d));
}

export function unitVector(x: Float32Array): Float32Array {
  let s = 0;
  for (const v of x) s += v * v;
  const r = 1 / Math.max(Math.sqrt(s), 1e-12);
  return x.map((v) => v * r);
}

/** recalled.mp4 (the recalled cycle, twice round) and contact.png (originals above recalled). */
export async function writeRecallMedia(
  cfg: { outDir: string; force: boolean; video: { fps?: number } },
  out: RecallOutput, originals: Float32Array[], shape: { width: number; height: number; channels: number },
): Promise<EventBody[]> {
  const channels = shape.channels as 1 | 3;
  const videoPath = join(cfg.outDir, 'recalled.mp4');
  const loops = out.states.length > 1 ? 2 : 1;
  await writeVideo(videoPath, Array.from({ length: loops }, () => out.states).flat(), {
    width: shape.width, height: shape.height, channels, fps: cfg.video.fps ?? 12, overwrite: cfg.force,
  });
  const recalledRow = recalledPerFrame(out.event, out.states, originals);
  const sheetPath = join(cfg.outDir, 'contact.png');
  writePng(sheetPath, contactSheet([originals, recalledRow], shape.width, shape.height, channels));
  return [
    { kind: 'artifact', what: 'video', path: videoPath },
    { kind: 'artifact', what: 'contact-sheet', path: sheetPath },
  ];
}

/** For each training frame, the recalled state matched to it, else the closest recalled state. */
export function recalledPerFrame(e: RecallEvent, states: Float32Array[], originals: Float32Array[]): Float32Array[] {
  return originals.map((f, i) => {
    const j = e.cycle.indexOf(i);
    if (j >= 0) return states[j];
    let best = states[0], bd = Infinity;
    for (const s of states) {
      let d = 0;
      for (let k = 0; k < s.length; k++) d += (s[k] - f[k]) ** 2;
      if (d < bd) [best, bd] = [s, d];
    }
    return best;
  });
}

function summarize(
  cfg: MemorizeVideoConfig, r: RecallEvent, t: { steps: number; reason: string; loss: number }, b: BackendInfo, started: number,
): MemorizeSummary {
  return {
    frames: r.framesTotal, framesMatched: r.framesMatched, orderCorrect: r.orderCorrect, meanPsnr: r.meanPsnr,
    steps: t.steps, finalLoss: t.loss, trainReason: t.reason, wallMs: Date.now() - started, backend: b.name, outDir: cfg.outDir,
  };
}
