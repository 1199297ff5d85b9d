/**
 * Plain-line progress for terminals, pipes and CI logs: at most one training line and one progress
 * line (decoding, recall) per second; a live run's stream at most every LIVE_LINE_MS (and at every
 * change of its state), and every recallable-now probe.
 */
import type { AttractorEvent, EngramEvent, RecallEvent, RecoveryEvent, SpuriousEvent } from '../events.ts';
import { describeLive, describeProbe, frameSpan, probeDetails, probeSpan, type ViewState } from '../tui/view-state.ts';
import { describeProgress, rho } from '../tui/units.ts';

/** A live run's stream line at most this often, ms of the run's time (a change of the stream's state is said at once). */
export const LIVE_LINE_MS = 5000;

export function createProgressPrinter(o: { quiet: boolean; maxSteps: number; lossTarget: number }, out = console.log) {
  let lastPrint = 0;
  let lastProgress = 0;
  let window: number[] = [];
  let maxSteps = o.maxSteps;
  let lastLive: { time: number; state: string } | null = null;
  return (e: EngramEvent) => {
    if (o.quiet) return;
    switch (e.kind) {
      case 'dataset':
        maxSteps = e.fit?.maxSteps ?? maxSteps;
        out((e.frame.height === 1 && e.frame.channels === 1
          ? `dataset: ${e.n} samples of ${e.dim} values, objective ${e.objective}`
          : `dataset: ${e.n} frames of ${e.frame.width}x${e.frame.height}x${e.frame.channels} (d=${e.dim}), objective ${e.objective}`) +
          (e.sequenceLengths ? ` (${e.sequenceLengths.length} sequences of ${describeLengths(e.sequenceLengths)})` : ''));
        break;
      case 'train-step': {
        window.push(e.stepMs);
        const now = Date.now();
        if (now - lastPrint >= 1000 || e.step === 1) {
          lastPrint = now;
          const ms = window.reduce((a, b) => a + b, 0) / window.length;
          window = [];
          out(`step ${String(e.step).padStart(6)}/${maxSteps}  loss ${e.loss.toExponential(3)} (target ${o.lossTarget.toExponential(0)})  ` +
            `|grad| ${e.gradNorm.toExponential(2)}  ${ms.toFixed(2)} ms/step`);
        }
        break;
      }
      case 'progress': {
        // sources throttle to about once a second; this keeps a burst to one line a second too
        const now = Date.now();
        if (now - lastProgress >= 1000) {
          lastProgress = now;
          out(describeProgress(e));
        }
        break;
      }
      case 'train-end':
        out(`training stopped (${e.reason}) at step ${e.step}: loss ${e.loss.toExponential(3)} in ${(e.wallMs / 1000).toFixed(1)} s`);
        break;
      case 'recall':
        out(describeRecall(e));
        break;
      case 'attractors':
        out(describeAttractors(e));
        break;
      case 'spike':
        out(e.phase === 'onset' ? `loss spike at step ${e.step}: ${e.peakLoss.toExponential(3)} (×${e.height.toFixed(1)} the baseline ${e.preLoss.toExponential(3)})`
          : e.phase === 'end' ? `loss spike over at step ${e.step}: peak ×${e.height.toFixed(1)} at step ${e.peakStep}, ${e.duration} steps`
          : `non-finite loss or gradient at step ${e.step}`);
        break;
      case 'stability':
        out(`stability (${e.trigger}) at step ${e.step}: λ_max(K) ${e.lambdaMax.toExponential(3)}, ` + (e.ratio === null
          ? `ratio n/a (${e.optimizer})`
          : `r = ${e.ratio.toPrecision(3)} (${e.ratio < 1 ? 'stable' : 'above the edge of stability: expect a spike or divergence'})`) +
          ` [${e.iterations} Lanczos steps, ${e.ms.toFixed(0)} ms]`);
        break;
      case 'recovery':
      case 'spurious':
        out(describeProbes(e));
        break;
      case 'attractor-monitor': {
        const rhos = e.items.map((i) => i.rho);
        out(`attractor monitor at step ${e.step}: ${e.attractors}/${e.n} attractors, ρ max ${rhos.length ? Math.max(...rhos).toPrecision(3) : 'n/a'} ` +
          `(${e.method}, ${e.ms.toFixed(0)} ms; monitor total ${(e.totalMs / 1000).toFixed(1)} s = ${e.trainMs > 0 ? ((100 * e.totalMs) / e.trainMs).toFixed(1) : '–'}% of training)`);
        break;
      }
      case 'artifact':
        out(`wrote ${e.what}: ${e.path}`);
        break;
      case 'log':
        out(`${e.level}: ${e.message}`);
        break;
      case 'live':
        // about once a second from the pipeline: one line every LIVE_LINE_MS of the run, and each change of state
        if (!lastLive || lastLive.state !== e.state || e.time - lastLive.time >= LIVE_LINE_MS) {
          lastLive = { time: e.time, state: e.state };
          out(`live: ${describeLive(e)}`);
        }
        break;
      case 'live-probe':
        out(`${describeProbe(e)} (${frameSpan(probeSpan(e))})`);
        break;
      default:
        break;
    }
  };
}

export function describeAttractors(e: AttractorEvent): string {
  if (e.skipped) return `attractors: not certified: ${e.skipped}`;
  const fmt = (i: AttractorEvent['items'][number]) => `${i.what}: ρ = ${rho(i.rho)} (${i.attractor ? 'attractor' : 'NOT an attractor'})`;
  return `attractors (${e.method} Jacobian, ${e.solver}, ${e.ms.toFixed(0)} ms): ${e.attractors}/${e.stored} stored memories certified; ` +
    e.items.slice(0, 4).map(fmt).join('; ') + (e.items.length > 4 ? `; … ${e.items.length - 4} more` : '');
}

/** One line: stored memories certified, and what the recalled limit is when it is not one of them. */
function describeCertificates(a: AttractorEvent | null): string {
  if (!a) return 'n/a';
  if (a.skipped) return 'not certified (needs the OpenBLAS addon at this size)';
  const stored = a.items.slice(0, a.stored), extra = a.items[a.stored];
  const parts = [a.stored ? `${a.attractors}/${a.stored} stored memories certified (max ρ ${rho(Math.max(...stored.map((i) => i.rho)))})` : 'no stored memory to certify'];
  if (extra) parts.push(`the recalled limit is ${extra.attractor ? 'a spurious attractor' : 'not an attractor'} (ρ ${rho(extra.rho)})`);
  return parts.join('; ');
}

/** Sequence lengths in words: "10 samples each", or "4, 4 and 3 samples". */
function describeLengths(lengths: number[]): string {
  if (lengths.every((l) => l === lengths[0])) return `${lengths[0]} samples each`;
  return `${lengths.slice(0, -1).join(', ')} and ${lengths[lengths.length - 1]} samples`;
}

export function describeOrder(e: RecallEvent): string {
  return e.orderCorrect === null ? 'n/a (autoencoder)' : e.orderCorrect ? 'correct' : 'NOT correct';
}

export function describeRecall(e: RecallEvent): string {
  const line = `recall from ${e.from}: ${e.rule} after ${e.iterations} iterations (period ${e.period}); ` +
    `${e.framesMatched}/${e.framesTotal} samples matched (${e.framesStored} stored), order ${describeOrder(e)}, mean PSNR ${e.meanPsnr.toFixed(1)} dB`;
  return e.outcome ? `${line}\n${describeOutcome(e)}` : line;
}

/** The classified outcome in one line: which, whether a stored memory came back, why and what to try. */
export function describeOutcome(e: RecallEvent): string {
  const o = e.outcome;
  if (!o) return 'n/a (logged before recall outcomes)';
  const tries = o.tries > 1 ? ` (best of ${o.tries} noise starts, seed ${o.seed})` : '';
  return `${o.kind}${tries}: ${o.recalled ? 'a stored memory came back' : 'no stored memory came back'} — ${o.why}`;
}

export function formatSummary(v: ViewState, outDir: string): string {
  const rec = v.recall, t = v.train;
  const lines = [
    '── summary ──',
    `frames recalled : ${rec ? `${rec.framesMatched}/${rec.framesTotal}` : 'n/a'}`,
    `order           : ${rec ? describeOrder(rec) : 'n/a'}`,
    `PSNR (mean)     : ${rec ? `${rec.meanPsnr.toFixed(1)} dB` : 'n/a'}`,
    `recall outcome  : ${rec ? describeOutcome(rec) : 'n/a'}`,
    `attractors      : ${describeCertificates(v.attractors)}`,
    ...(v.live ? describeLiveSummary(v) : []),
    `steps           : ${t ? `${t.step} (${t.reason}, final loss ${t.loss.toExponential(3)})` : 'n/a'}`,
    `loss spikes     : ${v.spikes}`,
    `wall time       : ${v.wallMs !== null ? `${(v.wallMs / 1000).toFixed(1)} s` : 'n/a'}`,
    `backend         : ${v.backend ?? 'n/a'}`,
    `run directory   : ${outDir}`,
  ];
  return lines.join('\n');
}

/** A live run's two summary lines: the stream as a whole, and the newest recallable-now probe. */
function describeLiveSummary(v: ViewState): string[] {
  const e = v.live?.last, p = v.probe;
  return [
    `stream          : ${e ? `${e.arrived} frames in, ${e.admitted} admitted, ${e.dropped} dropped, ${e.repeated ? `${e.repeated} repeated, ` : ''}${e.gaps} gap${e.gaps === 1 ? '' : 's'} in ${e.streamSeconds.toFixed(0)} s (${e.state}); ` +
      `${e.stored} in memory (${frameSpan(e.span)})` : 'no frame arrived'}`,
    `recallable now  : ${p ? `${p.last.recallable ? 'yes' : 'no'}: ${probeDetails(p.last)} (${frameSpan(probeSpan(p.last))}); ` +
      `${p.recallableProbes}/${p.probes} probes recallable` : 'n/a (no probe)'}`,
  ];
}

/** One line for the recovery monitor's events: rates per corruption kind, network vs 1-NN. */
export function describeProbes(e: RecoveryEvent | SpuriousEvent): string {
  if (e.kind === 'spurious') {
    return `spurious attractors: ${e.count} distinct limit(s) matching no stored pattern from ${e.probes} probes` +
      (e.certified ? `; ${e.attractors}/${e.certified} certified attractors (ρ < 1)` : '');
  }
  const pct = (x: number) => `${Math.round(100 * x)}%`;
  const kinds = [...new Set(e.levels.map((l) => l.corruption))].map((k) =>
    `${k} ${e.levels.filter((l) => l.corruption === k).map((l) => `${l.level}:${pct(l.model)}/${pct(l.nn)}`).join(' ')}`);
  const noise = e.noise.map((n) => `${n.from === 'uniform' ? 'U[0,1]' : `N(0,${n.sigma}²)`} ${pct(n.stored)}`).join(', ');
  return `recovery (network/1-NN per level, ${e.trials} trials, ${(e.ms / 1000).toFixed(1)} s): ${kinds.join('; ')}; pure noise → stored memory: ${noise}`;
}

