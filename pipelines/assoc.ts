/**
 * assoc: train the associative memory of docs/math.md §8 (only W is learned) and watch its margins. Every
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
import { Observable, concat, connect, defer, filter, map, merge, mergeMap, of, tap, throwError } from 'rxjs';
import { createAssocModel, createAssocTrainer, formatEmbeddings, type AssocModel, type EmbeddingSpec } from '../engine/assoc.ts';
import type { BackendInfo } from '../engine/backend.ts';
import { Rng } from '../engine/random.ts';
import { EngramError } from '../errors.ts';
import type { AssocRunConfig, EngramEvent, MarginsEvent, SpikeEvent, TrainStepEvent } from '../events.ts';
import { runJob } from './job.ts';
import { margins, type HeadSnapshot } from '../operators/margins.ts';
import { spikes } from '../operators/spikes.ts';
import { train } from '../operators/train.ts';
import { PLOT_BUILDERS } from '../sinks/plots/index.ts';
import { createTokenSampler, formatFrequencies, makeTokenTask, type FrequencySpec } from '../sources/tokens.ts';

/**
 * What an assoc job is given: the run config its run-start records (events.ts, where embeddings and
 * frequencies are written as on the command line), with the command line itself.
 */
// The parsers and checks of assoc's own options (--embeddings, --frequencies, --optimizer), for the CLI.
export { ASSOC_OPTIMIZERS, parseEmbeddings, validateEmbeddings, type AssocOptimizerName } from '../engine/assoc.ts';
export { parseFrequencies } from '../sources/tokens.ts';

export type AssocConfig = Omit<AssocRunConfig, 'command' | 'embeddings' | 'frequencies'> & {
  command: string;
  embeddings: EmbeddingSpec;
  frequencies: FrequencySpec;
  force: boolean;
};

const ASSOC_PLOTS = PLOT_BUILDERS.filter((b) => b.name === 'margins');

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
  const config = { ...cfg, command: undefined, embeddings: formatEmbeddings(cfg.embeddings), frequencies: formatFrequencies(cfg.frequencies) };
  const task = () => makeTokenTask({ n: cfg.n, m: cfg.m, frequencies: cfg.frequencies, seed: cfg.seed });
  const t0 = task();
  return runJob({
    runId: cfg.runId, command: cfg.command, outDir: cfg.outDir, mode: { kind: 'new', force: cfg.force },
    start: {
      backend, config: { ...config, command: 'assoc' },
      runJson: {
        kind: 'assoc', targets: Array.from(t0.targets), p: Array.from(t0.p),
        reduction: 'L = Σ_x p(x)·(−log p_W(f*(x)|x)) (frequency-weighted cross-entropy); L01 = Σ_x p(x)·1[m_x ≤ 0]',
      },
    },
    metrics: true, plots: cfg.plot ? ASSOC_PLOTS : [],
  }, (job) => {
    const model = job.hold(createAssocModel({ n: cfg.n, m: cfg.m, d: cfg.d, embeddings: cfg.embeddings, init: cfg.init, seed: cfg.seed }, task()));
    let lastLoss = Number.NaN;
    let spikeCount = 0;
    let lastMargins: MarginsEvent | null = null;
    const training$ = assocSteps(model, cfg).pipe(
      tap((s) => {
        if (s.event) [job.step, lastLoss] = [s.event.step, s.event.loss];
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
        if (e.kind === 'margins') lastMargins = e;
        if (e.kind === 'spike' && e.phase !== 'end') spikeCount++;
      }),
    );
    const finish$ = defer(() => {
      const diverged = !Number.isFinite(lastLoss);
      const trainEnd = job.ev({ kind: 'train-end', reason: diverged ? 'diverged' : 'step-cap', loss: lastLoss, lossTarget: 0, wallMs: Date.now() - job.started });
      if (diverged) {
        return concat(of(trainEnd), throwError(() => new EngramError('E_DIVERGED', `assoc training diverged at step ${job.step} (loss ${lastLoss}); lower --lr (was ${cfg.lr}) and run again`)));
      }
      const last = lastMargins!;
      const summary: AssocSummary = {
        steps: job.step, loss: last.loss, loss01: last.loss01, minMargin: last.min, medianMargin: last.median, fractionPositive: last.fractionPositive,
        lambdaMax: last.lambdaMax, stability: last.stability, spikes: spikeCount, wallMs: Date.now() - job.started, backend: backend.name, outDir: cfg.outDir,
      };
      job.saveRunJson({ summary });
      return of(trainEnd);
    });
    return concat(
      of(job.ev({
        kind: 'log', level: 'info',
        message: `assoc: N=${cfg.n} tokens (${formatFrequencies(cfg.frequencies)}), M=${cfg.m} outputs, d=${cfg.d}, embeddings ${formatEmbeddings(cfg.embeddings)}, ` +
          `W0 ${cfg.init}, ${cfg.optimizer} lr ${cfg.lr}${cfg.batch ? ` batch ${cfg.batch}` : ''}, ${cfg.steps} steps`,
      })),
      training$,
      finish$,
    );
  });
}
