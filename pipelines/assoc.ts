/**
 * assoc: train the associative memory of SPEC §8 (only W is learned) and watch its margins. Every
 * step emits a train-step event (the loss L at the current W, so the spike detector runs on it) and a
 * scores snapshot for the margins monitor; run.json, events.jsonl, metrics.csv and margins.png go to
 * the run directory.
 *
 *   W_t ─▶ observe (L, S) ─┬─▶ train-step ──────────────▶ events
 *                          ├─▶ spikes(train-step) ──────▶ spike events
 *                          └─▶ margins(S, f*, p, λ_max) ─▶ margins events
 *        ─▶ update (gd | sgd batch from p | adam) ─▶ W_{t+1}
 *
 * Step t is the state after t updates (t = 0: the initial W), so a margins event at step 1 shows the
 * margins one update made.
 */
import { join } from 'node:path';
import { Observable, concat, connect, defer, filter, from, map, merge, mergeMap, of, tap, throwError } from 'rxjs';
import { createAssocModel, createAssocTrainer, formatEmbeddings, type AssocModel, type AssocOptimizerName, type EmbeddingSpec } from '../engine/assoc.ts';
import type { BackendInfo } from '../engine/backend.ts';
import { Rng } from '../engine/random.ts';
import { EngramError } from '../errors.ts';
import { EVENT_SCHEMA_VERSION, type EngramEvent, type EventBody, type MarginsEvent, type SpikeEvent, type TrainStepEvent } from '../events.ts';
import { recordRun } from './record-run.ts';
import { margins, type HeadSnapshot } from '../operators/margins.ts';
import { spikes, type SpikeOptions } from '../operators/spikes.ts';
import { train } from '../operators/train.ts';
import { openMetricsCsv } from '../sinks/csv.ts';
import { openEventLog } from '../sinks/events-jsonl.ts';
import { writePlot } from '../sinks/plot.ts';
import { marginsPlot } from '../sinks/plots/margins.ts';
import { writeJsonAtomic } from '../sinks/run-dir.ts';
import { createTokenSampler, formatFrequencies, makeTokenTask, type FrequencySpec } from '../sources/tokens.ts';
import { backendJson } from './memorize.ts';

export interface AssocConfig {
  runId: string;
  command: string;
  outDir: string;
  n: number;
  m: number;
  d: number;
  embeddings: EmbeddingSpec;
  frequencies: FrequencySpec;
  init: 'zero' | 'randn';
  optimizer: AssocOptimizerName;
  lr: number;
  /** SGD (and Adam, when given) batch size; gd and adam without it use the full p-weighted loss. */
  batch?: number;
  steps: number;
  seed: number;
  /** Margins events every this many steps (plus log-spaced early steps and the last). */
  marginsEvery: number;
  /** Lanczos steps for λ_max at each margins event (0: do not compute). */
  lanczos: number;
  spikes?: Omit<SpikeOptions, 'runId'>;
  /** Write margins.png at the end. */
  plot: boolean;
}

export interface AssocSummary {
  steps: number;
  loss: number;
  loss01: number;
  minMargin: number;
  medianMargin: number;
  fractionPositive: number;
  lambdaMax: number | null;
  stability: number | null;
  spikes: number;
  wallMs: number;
  backend: string;
  outDir: string;
  plot: string | null;
}

/** One of the two things a step produces: the snapshot (before the update) and the train-step event. */
export type StepOut = { event: TrainStepEvent; snap?: undefined } | { snap: HeadSnapshot; event?: undefined };

/**
 * Training as a stream (the train operator over the assoc trainer): one StepOut per state W_0 …
 * W_steps. The operator counts the steps taken (the state after step s is W_s); this stream counts
 * states, so the train-step reporting on W_t (the operator's step t + 1) is step t here. The last
 * step observes W_steps without updating it. The operator's train-end is left out: finish$ reports
 * the end.
 */
export function assocSteps(model: AssocModel, cfg: Pick<AssocConfig, 'runId' | 'optimizer' | 'lr' | 'batch' | 'steps' | 'seed' | 'lanczos'>): Observable<StepOut> {
  const { n, m } = model.spec;
  const lr = cfg.optimizer === 'adam' ? undefined : cfg.lr; // η·λ_max/2 is a (S)GD stability ratio
  return of(model.task).pipe(
    train({
      runId: cfg.runId, maxSteps: cfg.steps + 1, lossTarget: -Infinity,
      trainer: () => {
        const rng = new Rng(cfg.seed * 31 + 7);
        const sampler = cfg.batch ? createTokenSampler(model.task.p, rng) : null;
        return createAssocTrainer(model, {
          optimizer: cfg.optimizer, lr: cfg.lr, updates: cfg.steps,
          batch: sampler ? { size: cfg.batch!, weights: () => sampler.weights(cfg.batch!), rng } : undefined,
        });
      },
    }),
    // the snapshot goes out before the update: λ_max is evaluated at this W
    mergeMap((e): StepOut[] => e.kind === 'observation'
      ? [{ snap: { step: e.step, n, m, scores: e.value.scores!, targets: model.task.targets, weights: model.task.p, lr, lambdaMax: cfg.lanczos > 0 ? () => model.lambdaMax(cfg.lanczos) : undefined } }]
      : e.kind === 'train-step' ? [{ event: { ...e, step: e.step - 1 } }] : []),
  );
}

export function assoc(cfg: AssocConfig, backend: BackendInfo): Observable<EngramEvent> {
  const started = Date.now();
  const log = openEventLog(join(cfg.outDir, 'events.jsonl'), 'new');
  const metrics = openMetricsCsv(join(cfg.outDir, 'metrics.csv'));
  const task = makeTokenTask({ n: cfg.n, m: cfg.m, frequencies: cfg.frequencies, seed: cfg.seed });
  const model = createAssocModel({ n: cfg.n, m: cfg.m, d: cfg.d, embeddings: cfg.embeddings, init: cfg.init, seed: cfg.seed }, task);
  let step = 0;
  let lastLoss = Number.NaN;
  let spikeCount = 0;
  const marginEvents: MarginsEvent[] = [];
  const config = { ...cfg, command: undefined, embeddings: formatEmbeddings(cfg.embeddings), frequencies: formatFrequencies(cfg.frequencies) };
  const runJson: Record<string, unknown> = {
    id: cfg.runId, command: cfg.command, status: 'running', created: new Date(started).toISOString(), kind: 'assoc', config,
    backend: backendJson(backend), targets: Array.from(task.targets), p: Array.from(task.p),
    reduction: 'L = Σ_x p(x)·(−log p_W(f*(x)|x)) (frequency-weighted cross-entropy); L01 = Σ_x p(x)·1[m_x ≤ 0]',
  };
  const saveRunJson = (extra: Record<string, unknown> = {}) =>
    writeJsonAtomic(join(cfg.outDir, 'run.json'), Object.assign(runJson, extra, { updated: new Date().toISOString() }));
  const ev = (body: EventBody): EngramEvent => ({ ...body, runId: cfg.runId, step, time: Date.now() });

  const training$ = assocSteps(model, cfg).pipe(
    tap((s) => {
      if (s.event) [step, lastLoss] = [s.event.step, s.event.loss];
    }),
    connect((shared) => {
      const steps$ = shared.pipe(filter((s) => s.event !== undefined), map((s) => s.event!));
      return merge(
        steps$,
        steps$.pipe(spikes({ runId: cfg.runId, ...cfg.spikes })),
        shared.pipe(filter((s) => s.snap !== undefined), map((s) => s.snap!), margins({ runId: cfg.runId, every: cfg.marginsEvery })),
      );
    }),
    tap((e: TrainStepEvent | SpikeEvent | MarginsEvent) => {
      if (e.kind === 'margins') marginEvents.push(e);
      if (e.kind === 'spike' && e.phase !== 'end') spikeCount++;
    }),
  );

  const finish$ = defer(() => {
    const diverged = !Number.isFinite(lastLoss);
    return concat(
      of(ev({ kind: 'train-end', reason: diverged ? 'diverged' : 'step-cap', loss: lastLoss, lossTarget: 0, wallMs: Date.now() - started })),
      diverged
        ? throwError(() => new EngramError('E_DIVERGED', `assoc training diverged at step ${step} (loss ${lastLoss}); lower --lr (was ${cfg.lr}) and run again`))
        : from(finish()).pipe(mergeMap((xs) => from(xs))),
    );
  });
  const finish = async (): Promise<EngramEvent[]> => {
    const out: EngramEvent[] = [];
    let plot: string | null = null;
    const spec = cfg.plot ? marginsPlot(marginEvents) : null;
    if (spec) {
      try {
        plot = await writePlot(join(cfg.outDir, 'margins.png'), spec);
        out.push(ev({ kind: 'artifact', what: 'plot', path: plot }));
      } catch (e) {
        // the trained memory and its margins are in events.jsonl; the picture can be redrawn
        out.push(ev({ kind: 'log', level: 'warn', message: `margins.png not drawn: ${(e as Error).message}; redraw it with engram plot ${cfg.outDir}` }));
      }
    }
    const last = marginEvents.at(-1)!;
    const summary: AssocSummary = {
      steps: step, loss: last.loss, loss01: last.loss01, minMargin: last.min, medianMargin: last.median, fractionPositive: last.fractionPositive,
      lambdaMax: last.lambdaMax, stability: last.stability, spikes: spikeCount, wallMs: Date.now() - started, backend: backend.name, outDir: cfg.outDir, plot,
    };
    saveRunJson({ status: 'complete', summary });
    out.push(ev({ kind: 'run-end', status: 'complete', wallMs: Date.now() - started }));
    return out;
  };

  const run$ = defer(() => {
    saveRunJson();
    return concat(
      of(ev({ kind: 'run-start', command: cfg.command, backend: backendJson(backend), schemaVersion: EVENT_SCHEMA_VERSION, config: { ...config, command: 'assoc' } })),
      of(ev({
        kind: 'log', level: 'info',
        message: `assoc: N=${cfg.n} tokens (${formatFrequencies(cfg.frequencies)}), M=${cfg.m} outputs, d=${cfg.d}, embeddings ${formatEmbeddings(cfg.embeddings)}, ` +
          `W0 ${cfg.init}, ${cfg.optimizer} lr ${cfg.lr}${cfg.batch ? ` batch ${cfg.batch}` : ''}, ${cfg.steps} steps`,
      })),
      training$,
      finish$,
    );
  });

  return recordRun(run$, {
    write: (e) => (log.write(e), metrics.write(e)), ev, saveRunJson, started,
    release: () => {
      log.close();
      metrics.close();
      model.dispose();
    },
  });
}

