/**
 * memorize --live: memorize a stream that never ends, continually, and say what is recallable now.
 *
 *   source$ ─▶ frames ─▶ liveMemory ─▶ datasets ─▶ train (wait mode) ─▶ train-step… ─┐
 *      │                     ▲  (steps, idle)                                          │
 *      │                     └─────────────────────────────────────────────────────────┘
 *      ├─▶ connected / gap ─▶ log events, the live state
 *   every second ─▶ live (arrival, admission, drops, memory, steps per frame)
 *   every --probe-every s ─▶ recall from noise on a snapshot of the net ─▶ recall, preview, live-probe
 *   every --record-every s, the record key ─▶ the same recall ─▶ recordings/<time>-frames-<a>-<b>.mp4
 *   stop (q, Ctrl-C, end of stream) ─▶ the source completes ─▶ training ends ─▶ final checkpoint,
 *     recall, certificate, recalled.mp4, summary — like any memorize run
 *
 * Backpressure: liveMemory admits a frame only after the trainer has taken `minSteps` steps on the
 * memory as it was (or is idle at the loss target); a frame that arrives meanwhile waits in a
 * one-slot hold and is dropped (counted) when a newer one comes. So memory stays bounded whatever
 * the arrival rate. The net is warm: every dataset goes to the same trainer (train's setData).
 *
 * Probes and recordings run on a copy of the weights taken when they start, so the trainer can go
 * on replacing the weights while a probe iterates.
 */
import { join } from 'node:path';
import { EMPTY, Observable, ReplaySubject, Subject, catchError, concat, connect, defer, exhaustMap, filter, finalize, from, interval, lastValueFrom, map, merge, mergeMap, of, take, takeUntil, takeWhile, tap, timer, type MonoTypeOperatorFunction } from 'rxjs';
import type { BackendInfo } from '../engine/backend.ts';
import type { CheckpointContents } from '../engine/checkpoint.ts';
import { createFcModel, type Model } from '../engine/model.ts';
import type { Dataset } from '../engine/objectives.ts';
import { liveSolveTrainer } from '../engine/solve.ts';
import { netTrainer, type TrainerFactory } from '../engine/trainer.ts';
import { quantizedKey, unitVector } from '../engine/vectors.ts';
import { EngramError } from '../errors.ts';
import type { ControlCommand, EngramEvent, LiveConfig, LiveEvent, LiveProbeEvent, RecallEvent } from '../events.ts';
import { attractors, certifyMemories } from '../operators/attractors.ts';
import { liveMemory, type LiveCounts, type LiveMemoryMode, type LiveMemoryOutput } from '../operators/live-memory.ts';
import { recall, type RecallOutput } from '../operators/recall.ts';
import { train, type TrainEvent, type TrainerState } from '../operators/train.ts';
import { checkpointStore } from '../sinks/checkpoints.ts';
import { runSubdir } from '../sinks/run-dir.ts';
import { MEMORIZE_PLOTS } from '../sinks/plots/index.ts';
import { liveAudio$, liveImages$, liveVideo$, type LiveFrameItem, type LiveImageItem, type LiveItem } from '../sources/live.ts';
/** The URL schemes a live run reads (and reconnects when they drop). */
export { NETWORK_SCHEMES } from '../sources/live.ts';
import type { Sample } from '../sources/sample.ts';

/** A memory: the dataset trained on and the stream numbers of its frames, in dataset order. */
interface Memory {
  dataset: Dataset;
  frames: number[];
}

/** What a live source emits, whatever its kind. */
type SourceItem = LiveItem<Sample> | LiveImageItem;
import type { MediaShape } from './inputs.ts';
import { runJob, type Job } from './job.ts';
import { peakOf, splitRows, trainWithSpikes, type MemorizeConfig } from './memorize.ts';
import { previewOf } from './preview.ts';
import { recordCycle, writeRecordings } from './recordings.ts';

/** A live memorize run: the memorize config with its live part. */
export type LiveMemorizeConfig = MemorizeConfig & { live: LiveConfig };

export interface LiveOptions {
  /** The operator's commands: pause, resume, checkpoint, recall (a probe now), record, stop. */
  control?: Observable<ControlCommand>;
  /** The stream (default: liveVideo$, liveAudio$ or liveImages$ of the input); tests give their own. */
  source?: Observable<LiveItem<Sample> | LiveImageItem>;
  /** How often the live event is emitted, ms (default 1000). */
  statsMs?: number;
}

/** What the live run says at the end, in run.json and the CLI summary. */
export interface LiveSummary {
  arrived: number;
  admitted: number;
  dropped: number;
  repeated: number;
  stored: number;
  gaps: number;
  streamSeconds: number;
  /** Probes that found the memory recallable, of all probes. */
  probes: { recallable: number; total: number };
  recordings: number;
}

/** The memory mode of a live config. */
export function memoryMode(l: LiveConfig): LiveMemoryMode {
  if (l.mode === 'window') return { kind: 'window', size: l.size };
  if (l.mode === 'segments') return { kind: 'segments', size: l.size, capacity: l.capacity ?? 4 };
  return { kind: 'grow', max: l.size };
}

/**
 * --width auto for a live run that solves: a power of two ≥ 8× the frames its memory holds (≥ 4×
 * above 1024), and at least 384. 512 for a window of 48: about 80 ms a solve of 32×32 frames here,
 * and almost every window replays from noise, where at 256 about one in six did not; 384 for a
 * window of 24 or less (docs/live.md).
 */
export function liveWidth(frames: number): number {
  const pow2 = (x: number) => 2 ** Math.ceil(Math.log2(x));
  return Math.max(384, pow2(8 * frames) <= 1024 ? pow2(8 * frames) : pow2(4 * frames));
}

/** The most frames a live memory holds at once (what the net must be able to store). */
export function liveMemoryFrames(l: LiveConfig): number {
  return l.mode === 'segments' ? l.size * ((l.capacity ?? 4) + 1) : l.size;
}

export function memorizeLive(cfg: LiveMemorizeConfig, backend: BackendInfo, o: LiveOptions = {}): Observable<EngramEvent> {
  return runJob({
    runId: cfg.runId, command: cfg.command, outDir: cfg.outDir, mode: { kind: 'new', force: cfg.force },
    start: {
      backend, config: { ...cfg, command: 'memorize' },
      runJson: { input: cfg.input.path, kind: cfg.input.kind, live: cfg.live, reduction: 'mean squared error over all elements (mean over pairs and dimensions)' },
    },
    metrics: true, plots: MEMORIZE_PLOTS,
  }, (job) => liveBody(job, cfg, backend, o));
}

function liveBody(job: Job, cfg: LiveMemorizeConfig, backend: BackendInfo, o: LiveOptions): Observable<EngramEvent> {
  const input = cfg.input;
  const ev = job.ev;
  const live = cfg.live;
  const store = checkpointStore(cfg.outDir);
  const shape: MediaShape = input.kind === 'audio' ? { kind: 'audio', rate: input.rate, samples: Math.round(input.rate * input.chunkSeconds) }
    : { kind: input.kind, width: input.width, height: input.height, channels: input.gray ? 1 : 3, fps: (input.kind === 'video' ? input.fps : undefined) ?? 10 };
  /** What one sample of this stream is called, for messages and file names. */
  const unit = input.kind === 'audio' ? 'chunk' : input.kind === 'images' ? 'image' : 'frame';
  const control = o.control ?? EMPTY;
  const stop$ = control.pipe(filter((c) => c === 'stop'), take(1));
  const statsMs = o.statsMs ?? 1000;

  // the run's live state, read by the stats ticks, probes, checkpoints and the summary
  let model: Model | undefined;
  let current: Memory | null = null;
  /** The memory the weights were last fitted to (the latest dataset may not have been trained on yet). */
  let trainedOn: Memory | null = null;
  /** The memory the step in progress trains on. */
  let stepData: Memory | null = null;
  const memories = new WeakMap<Dataset, Memory>();
  let counts: LiveCounts = { arrived: 0, admitted: 0, dropped: 0, stored: 0, repeated: 0 };
  let arrived = 0, gaps = 0, firstAt: number | null = null;
  let state: LiveEvent['state'] = 'connecting';
  let lastTrainer: TrainerState | null = null;
  const probes = { recallable: 0, total: 0 };
  let recordings = 0;
  let probeSeed = cfg.recall.seed;
  job.hold({ dispose: () => model?.dispose() });
  const streamSeconds = () => (firstAt === null ? 0 : (Date.now() - firstAt) / 1000);
  /** Where the stream is, for checkpoints: the counts so far and the stream frames of the memory saved. */
  const position = (mem: Memory) => ({ source: input.path, arrived, admitted: counts.admitted, dropped: counts.dropped, repeated: counts.repeated, frames: mem.frames, streamSeconds: streamSeconds() });
  job.onCancel(() => {
    const newest = store.newest();
    const saved = newest && newest.contents.step === job.step;
    return { status: 'cancelled', events: saved ? [ev({ kind: 'artifact', what: 'checkpoint', path: newest.path })] : [] };
  });

  /** A checkpoint of the net with the memory it was fitted to (not a newer one that has not been trained yet). */
  const contents = (mem: Memory, st: TrainerState | null, meta: Record<string, unknown>): CheckpointContents => {
    const data = mem.dataset;
    return {
    spec: model!.spec, step: st?.step ?? job.step, weights: model!.weights(),
    optimizer: st && st.optimizer.length ? { spec: { ...cfg.optimizer }, state: st.optimizer.map((x) => ({ name: x.name, shape: [x.data.length], data: x.data })) } : undefined,
    data: { objective: data.objective, sequenceLengths: data.sequenceLengths, vectors: { name: 'vectors', shape: [data.n, data.dim], data: data.inputs } },
    meta: { runId: cfg.runId, shape, rng: st?.rng, ...(st?.loss !== undefined ? { loss: st.loss } : {}), live: position(mem), ...meta },
    };
  };

  const steps$ = new Subject<number>();
  const idle$ = new Subject<number>();
  /** Training ended (train-end): the stream closes, the monitors stop taking new work. Replays, for late subscribers. */
  const trainEnded$ = new ReplaySubject<void>(1);

  /** The stream's own end by error (it gave up reconnecting): the run finishes with what it has, then says so. */
  let sourceError: unknown = null;
  const reconnect = live.reconnects !== undefined ? { maxAttempts: live.reconnects } : undefined;
  const maxFrames = live.frames, duration = live.seconds;
  const source$ = (o.source ?? (input.kind === 'audio' ? liveAudio$(input.path, { rate: input.rate, chunkSeconds: input.chunkSeconds, reconnect })
    : input.kind === 'images' ? liveImages$(input.path, { width: input.width, height: input.height, gray: input.gray })
      : liveVideo$(input.path, { width: input.width, height: input.height, gray: input.gray, fps: input.fps, reconnect })) as Observable<SourceItem>).pipe(
    // the end of training (the step cap, a divergence) closes the stream too: nothing would learn from it
    takeUntil(merge(stop$, trainEnded$, duration !== undefined ? timer(duration * 1000) : EMPTY)), limitFrames(maxFrames), catchError((e: unknown) => {
    sourceError = e;
    return EMPTY;
  }));


  const sourceEvents = (items$: Observable<SourceItem>) => items$.pipe(mergeMap((it): EngramEvent[] => {
    if (it.kind === 'skipped') return [ev({ kind: 'log', level: 'warn', message: `${it.path}: skipped (${it.reason})` })];
    if (it.kind === 'frame') {
      arrived++;
      firstAt ??= Date.now();
      return [];
    }
    if (it.kind === 'connected') {
      state = 'connected';
      return it.attempt > 1 ? [ev({ kind: 'log', level: 'info', message: `${input.path}: connected again (attempt ${it.attempt})` })] : [];
    }
    gaps++;
    state = 'reconnecting';
    return [ev({ kind: 'log', level: 'warn', message: `${input.path}: ${it.reason}; ${it.retryInMs > 0 ? `trying again in ${(it.retryInMs / 1000).toFixed(1)} s (attempt ${it.attempt + 1})` : 'giving up'}` })];
  }));

  const framesOf = (items$: Observable<SourceItem>) => items$.pipe(filter((it): it is LiveFrameItem<Sample> => it.kind === 'frame'), map((it) => ({ index: it.frame.index, data: it.frame.data })));

  const fitGradient = cfg.fit === 'gradient';
  // a solve lands at float32 round-off every step: its loss has no spikes to find
  const withSpikes = (t$: Observable<TrainEvent>): Observable<EngramEvent> => (fitGradient ? trainWithSpikes(t$, cfg.runId, null) : t$);
  const minSteps = live.minSteps;
  let end: { reason: string; loss: number } = { reason: 'cancelled', loss: Number.NaN };

  const training = (items$: Observable<SourceItem>) => framesOf(items$).pipe(
    liveMemory({ mode: memoryMode(live), minSteps, steps: steps$, idle: idle$, key: quantizedKey, onCounts: (c) => (counts = c) }),
    connect((m) => merge(
      m.pipe(filter((x): x is Extract<LiveMemoryOutput, { kind: 'capacity' }> => x.kind === 'capacity'), map((x) => {
        return ev({ kind: 'log', level: 'warn', message: `memory full: ${x.message}` });
      })),
      m.pipe(
        filter((x): x is Extract<LiveMemoryOutput, { kind: 'dataset' }> => x.kind === 'dataset'),
        map((x) => {
          current = { dataset: x.dataset, frames: x.frames };
          memories.set(x.dataset, current);
          // after the trainer has ended, no step will come: snapshots must not wait for one
          if (!trainingOver) trainerIdle = false;
          model ??= createFcModel({ kind: 'fc', dim: x.dataset.dim, ...cfg.model }, unitVector(x.dataset.inputs.subarray(0, x.dataset.dim)));
          return x.dataset;
        }),
        (datasets$) => withSpikes(datasets$.pipe(train({
          runId: cfg.runId,
          trainer: ((d, opts) => {
            const t = (fitGradient
              ? netTrainer(model!, cfg.optimizer, { batchSize: cfg.batchSize, seed: cfg.model.seed })
              : liveSolveTrainer(model!, { seed: cfg.model.seed }))(d, opts);
            stepData = memories.get(d) ?? null;
            // which memory each step trains on, for the snapshots
            const setData = t.setData!.bind(t);
            t.setData = (next: Dataset) => {
              stepData = memories.get(next) ?? null;
              setData(next);
            };
            return t;
          }) as TrainerFactory<Dataset>,
          lossTarget: cfg.lossTarget, maxSteps: cfg.maxSteps, atTarget: 'wait', onIdle: (s) => {
            trainerIdle = true;
            trainedOn = stepData ?? current;
            atBoundary();
            idle$.next(s);
          },
          stepsAfterInput: minSteps,
          // a stop while paused resumes, so the last memory is trained and the run can finish
          control: merge(control.pipe(filter((c) => c === 'pause' || c === 'resume' || c === 'checkpoint')), stop$.pipe(map((): ControlCommand => 'resume'))),
          checkpoint: {
            every: cfg.checkpointEvery,
            save: (st) => {
              lastTrainer = st;
              return store.save(contents(trainedOn ?? current!, st, {}));
            },
            atEnd: (st) => {
              lastTrainer = st;
            },
          },
        }), tap({
          next: (e) => {
            job.step = e.step;
            if (e.kind === 'train-step') {
              trainedOn = stepData;
              atBoundary();
              steps$.next(e.step);
            }
            if (e.kind === 'train-end') {
              end = { reason: e.reason, loss: e.loss };
              endTraining();
            }
          },
          // a stream that closed before its first memory: the trainer never started, and ends without
          // a train-end; the monitors must stop all the same, so the run can finish (and say so)
          complete: endTraining,
        }))),
      ),
    )),
  );

  let lastTick = { at: Date.now(), arrived: 0, admitted: 0, dropped: 0, step: 0 };
  const liveEvent = (): EngramEvent => {
    const at = Date.now();
    const dt = Math.max(at - lastTick.at, 1);
    const da = arrived - lastTick.arrived, dAdm = counts.admitted - lastTick.admitted, dDrop = counts.dropped - lastTick.dropped;
    const first = current?.frames[0], last = current?.frames.at(-1);
    const e = ev({
      kind: 'live', source: input.path, state, arrived, admitted: counts.admitted, dropped: counts.dropped, repeated: counts.repeated, stored: counts.stored,
      sequences: current?.dataset.sequenceLengths.length ?? 0, span: first !== undefined && last !== undefined ? [Math.min(...current!.frames), Math.max(...current!.frames)] : null,
      arrivalFps: (da * 1000) / dt, admitFps: (dAdm * 1000) / dt, dropRate: da > 0 ? Math.min(1, Math.max(0, dDrop / da)) : 0,
      stepsPerFrame: dAdm > 0 ? (job.step - lastTick.step) / dAdm : null, gaps, streamSeconds: streamSeconds(), intervalMs: dt,
    });
    lastTick = { at, arrived, admitted: counts.admitted, dropped: counts.dropped, step: job.step };
    return e;
  };

  /**
   * A copy of the net and the memory it was trained on, taken between two steps: a solve replaces
   * the first layer before it solves the output layer (and yields in between), so the weights are
   * only consistent at a step's end or while the trainer waits for data.
   */
  let trainerIdle = false;
  /** The trainer has ended (step cap, divergence, stop): frames still arriving never wait for a step. */
  let trainingOver = false;
  /** Training is over: every snapshot may take the weights as they are, and the stream and the monitors stop. */
  const endTraining = () => {
    trainingOver = true;
    trainerIdle = true;
    atBoundary();
    trainEnded$.next();
  };
  type Snapshot = { weights: ReturnType<Model['weights']>; mem: Memory };
  let waiting: ((s: Snapshot) => void)[] = [];
  // taken at once, not in a promise's continuation: the train loop may start the next step before that runs
  const snapshot = (): Snapshot => ({ weights: model!.weights(), mem: (trainedOn ?? current)! });
  const atStepBoundary = (): Promise<Snapshot> => (trainerIdle ? Promise.resolve(snapshot()) : new Promise<Snapshot>((r) => waiting.push(r)));
  const atBoundary = () => {
    if (!waiting.length) return;
    const w = waiting;
    waiting = [];
    const snap = snapshot();
    for (const r of w) r(snap);
  };

  /** The current memory recalled from noise on a copy of the net as it is now; null before there is a memory. */
  /**
   * `tries` noise starts, the best reported: 1 for the probe (recallable now means from one start),
   * RECORD_TRIES for recordings and the final recall, which should show the memory when some start
   * finds it.
   */
  const recallNow = async (tries: number): Promise<{ out: RecallOutput; net: Model; sequences: Float32Array[][]; frames: number[]; objective: Dataset['objective'] } | null> => {
    if (!current || !model) return null;
    const { weights, mem: cur } = await atStepBoundary();
    const net = createFcModel(model.spec);
    net.setWeights(weights);
    const rows = splitRows(cur.dataset.inputs, cur.dataset.n, cur.dataset.dim);
    const sequences: Float32Array[][] = [];
    let at = 0;
    for (const len of cur.dataset.sequenceLengths) {
      sequences.push(rows.slice(at, at + len));
      at += len;
    }
    const objective = cur.dataset.objective;
    try {
      const out = await lastValueFrom(of({ map: net, sequences, objective }).pipe(recall({
        runId: cfg.runId, step: job.step, from: cfg.recall.from, sigma: cfg.recall.sigma, seed: probeSeed++,
        maxIterations: Math.min(cfg.recall.maxIterations, 2000), peak: peakOf(shape), tries,
      })));
      return { out, net, sequences, frames: cur.frames, objective };
    } catch (e) {
      net.dispose();
      throw e;
    }
  };

  const probe = () => defer(async () => {
    const t0 = performance.now();
    const r = await recallNow(1);
    if (!r) return [];
    try {
      const e = r.out.event, oc = e.outcome;
      // the stored sequence the trajectory came back to (of several, in segments mode)
      const seq = closestSequence(r.sequences.map((s) => s.length), e);
      const { coverage, recallable } = recallableOf(e, seq);
      const psnrs = seq.map((i) => e.frames[i]?.psnr ?? Number.NaN);
      let certified: boolean | null = null, rho: number | null = null;
      const cert = certifyMemories({ model: r.net, sequences: r.sequences, objective: r.objective, recall: r.out }, { runId: cfg.runId, step: job.step, method: cfg.eigMethod, maxItems: 1 });
      const item = cert.items.find((i) => i.what.startsWith('sequence') || i.what.startsWith('sample'));
      if (item) [certified, rho] = [item.attractor, item.rho];
      probes.total++;
      if (recallable) probes.recallable++;
      const p: Omit<LiveProbeEvent, 'runId' | 'step' | 'time'> = {
        kind: 'live-probe', frames: seq.map((i) => r.frames[i]), coverage, of: seq.length,
        inOrder: oc?.inOrder ?? e.orderCorrect, meanPsnr: mean(psnrs), worstPsnr: Math.min(...psnrs),
        outcome: oc?.kind ?? e.rule, recallable, certified, rho, ms: performance.now() - t0,
      };
      return [ev(r.out.event), ev(previewOf(shape, r.out, r.sequences.flat())), ev(p)];
    } finally {
      r.net.dispose();
    }
  }).pipe(mergeMap((es) => from(es)));

  const record = (why: string) => defer(async () => {
    const r = await recallNow(RECORD_TRIES);
    if (!r) return [ev({ kind: 'log', level: 'info', message: `nothing to record yet (${why}): fewer than 2 ${unit}s of ${input.path} so far` })];
    try {
      const span = r.frames.length ? `${Math.min(...r.frames)}-${Math.max(...r.frames)}` : 'none';
      const dir = runSubdir(cfg.outDir, 'recordings');
      const path = join(dir, `${new Date().toISOString().replace(/[:.]/g, '-')}-${unit}s-${span}.${shape.kind === 'audio' ? 'wav' : 'mp4'}`);
      await recordCycle(path, shape, r.out.states, false);
      recordings++;
      return [ev({ kind: 'artifact', what: shape.kind === 'audio' ? 'audio' : 'video', path }), ev({
        kind: 'log', level: 'info',
        message: `recorded ${path} (${why}): ${unit}s ${span} recalled from noise, ${r.out.event.framesMatched}/${r.out.event.framesTotal} matched, ${r.out.event.meanPsnr.toFixed(1)} dB`,
      })];
    } finally {
      r.net.dispose();
    }
  }).pipe(mergeMap((es) => from(es)));

  // the ticks stop when training ends; a probe or recording under way finishes first (concat waits for it)
  const until = <T,>(t$: Observable<T>) => t$.pipe(takeUntil(trainEnded$));
  /** A probe or recording that fails is a warning: the stream goes on. */
  const orWarn = (what: string) => catchError<EngramEvent, Observable<EngramEvent>>((e: unknown) => of(ev({ kind: 'log', level: 'warn', message: `${what} failed: ${e instanceof Error ? e.message : String(e)}; the run goes on` })));
  const probeTicks$ = until(merge(live.probeSeconds > 0 ? interval(live.probeSeconds * 1000) : EMPTY, control.pipe(filter((c) => c === 'recall'))));
  const recordTicks$ = until(merge(
    live.recordSeconds ? interval(live.recordSeconds * 1000).pipe(map(() => `every ${live.recordSeconds} s`)) : EMPTY,
    control.pipe(filter((c) => c === 'record'), map(() => 'on request')),
  ));
  let recordBusy = false;
  const monitors$ = merge(
    until(interval(statsMs)).pipe(map(liveEvent)),
    probeTicks$.pipe(exhaustMap(() => probe().pipe(orWarn('the recallable-now probe')))),
    // one recording at a time; a request while one is being made is said, not silently lost
    recordTicks$.pipe(mergeMap((why) => {
      if (recordBusy) return of(ev({ kind: 'log', level: 'info', message: `recording skipped (${why}): the previous one is still being made` }));
      recordBusy = true;
      return record(why).pipe(orWarn('a recording'), finalize(() => (recordBusy = false)));
    })),
  );

  const finish = () => defer(() => {
    state = 'ended';
    const cur = trainedOn ?? current;
    const summaryBase = (): LiveSummary => ({ arrived, admitted: counts.admitted, dropped: counts.dropped, repeated: counts.repeated, stored: counts.stored, gaps, streamSeconds: streamSeconds(), probes, recordings });
    if (!cur || !model) {
      job.saveRunJson({ summary: { live: summaryBase() } });
      if (sourceError) throw sourceError;
      throw new EngramError('E_INPUT_EMPTY', counts.repeated > 0
        ? `${input.path} gave ${arrived} ${unit}(s), but ${counts.repeated} repeated one already taken in (equal once quantized: a still scene?), leaving fewer than 2 different ones for a cycle; let it run until the picture changes`
        : `${input.path} gave ${arrived === 0 ? `no ${unit}` : `${arrived} ${unit}(s)`} in ${((Date.now() - job.started) / 1000).toFixed(0)} s before the stream closed; a live cycle needs at least 2 (check that it is playing and sends ${input.kind === 'audio' ? 'audio' : input.kind === 'images' ? 'images' : 'video'}, or let it run longer)`);
    }
    if (end.reason === 'diverged') throw new EngramError('E_DIVERGED', `training diverged at step ${job.step} (loss ${end.loss}); lower --lr (was ${cfg.optimizer.lr}) and memorize again`);
    const ckpt = store.saveFinal(contents(cur, lastTrainer, { loss: end.loss, reason: end.reason }));
    const lost = sourceError ? [ev({ kind: 'log', level: 'warn', message: `the stream was lost (${sourceError instanceof Error ? sourceError.message : String(sourceError)}); the run finishes with the memory it has` })] : [];
    return concat(
      of(...lost, liveEvent(), ev({ kind: 'artifact', what: 'checkpoint', path: ckpt })),
      defer(async () => {
        const r = await recallNow(RECORD_TRIES);
        return r!;
      }).pipe(mergeMap((r) => concat(
        of(ev(r.out.event), ev(previewOf(shape, r.out, r.sequences.flat()))),
        of({ model: r.net, sequences: r.sequences, objective: r.objective, recall: r.out }).pipe(attractors({ runId: cfg.runId, step: job.step, method: cfg.eigMethod, maxItems: 4 })),
        from(writeRecordings(cfg.outDir, shape, r.out, r.sequences.flat(), cfg.force)).pipe(mergeMap((arts) => from(arts.map((a) => ev(a))))),
        defer(() => {
          r.net.dispose();
          const e = r.out.event;
          const summary = {
            frames: e.framesTotal, framesMatched: e.framesMatched, orderCorrect: e.orderCorrect, meanPsnr: e.meanPsnr,
            recallOutcome: e.outcome?.kind, recalled: e.outcome?.recalled, steps: job.step, finalLoss: end.loss, trainReason: end.reason,
            wallMs: Date.now() - job.started, backend: backend.name, outDir: cfg.outDir, live: summaryBase(),
          };
          job.saveRunJson({ summary });
          return of<EngramEvent>();
        }),
      ))),
    );
  });

  return concat(
    merge(
      source$.pipe(connect((items$) => merge(
        training(items$),
        sourceEvents(items$),
      ))),
      monitors$,
    ),
    finish(),
  ).pipe(finalize(() => {
    steps$.complete();
    idle$.complete();
  }));
}

/** Noise starts a live recording (and the final recall) tries; the best trajectory is kept. */
export const RECORD_TRIES = 3;

/** A frame came back when the recalled state compared with it is at least this close (dB). */
export const RECALLABLE_PSNR = 30;

/**
 * Of the frames `seq` (sample indices of one stored sequence), those the recall from noise brought
 * back at ≥ RECALLABLE_PSNR; recallable when that is ≥ 90% of them, in order, on a trajectory that
 * neither diverged nor settled on a spurious limit.
 */
export function recallableOf(e: RecallEvent, seq: number[]): { coverage: number; recallable: boolean } {
  const coverage = seq.filter((i) => e.frames[i] && e.frames[i].psnr >= RECALLABLE_PSNR).length;
  const oc = e.outcome;
  const bad = !oc || oc.kind === 'diverged' || oc.kind === 'spurious' || oc.inOrder === false;
  return { coverage, recallable: seq.length > 0 && !bad && coverage >= 0.9 * seq.length };
}

/** The sample indices of the stored sequence the recall came closest to (the one with most frames back at ≥ RECALLABLE_PSNR). */
function closestSequence(lengths: number[], e: RecallEvent): number[] {
  let best: number[] = [], bestHits = -1, at = 0;
  for (const len of lengths) {
    const seq = Array.from({ length: len }, (_, k) => at + k);
    const hits = recallableOf(e, seq).coverage;
    if (hits > bestHits) [best, bestHits] = [seq, hits];
    at += len;
  }
  return best;
}


function mean(xs: number[]): number {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : Number.NaN;
}

/** The stream up to and including its `max`-th frame (all of it when max is undefined). */
function limitFrames(max: number | undefined): MonoTypeOperatorFunction<SourceItem> {
  if (max === undefined) return (s) => s;
  let seen = 0;
  return takeWhile((it) => it.kind !== 'frame' || ++seen < max, true);
}
