/**
 * The media experiments, through `engram memorize`:
 *
 * - footage: natural video memorized as a cycle and recalled from noise. The research trained a deep
 *   SELU net (width 1024, depth 16) with Adam to MSE < 1e-8 on 389 frames of 128×128 video. Here the
 *   whole clip is memorized with engram's closed-form fit (the default, docs/math.md §3.5), and the
 *   research's own method runs beside it for the steps the size allows, to say how far it gets.
 * - speech: seconds of real (synthesized) speech, one vector per second, memorized as a cycle and
 *   recalled from noise into a WAV; each recalled second is compared with the original.
 */
import { join } from 'node:path';
import type { AttractorEvent, EngramEvent, RecallEvent, TrainEndEvent } from '../../events.ts';
import { espeakPath, speakToWav } from '../../media/speech.ts';
import { ensureReportDir } from '../../sinks/report.ts';
import { writeTextAtomic } from '../../sinks/run-dir.ts';
import { readAudioSeconds } from '../../sources/audio.ts';
import { correlation } from '../preview.ts';
import type { ComparisonRow, Experiment, ExperimentContext, ExperimentOutcome } from '../reproduce.ts';
import { fmt, footageClips, lastOf, memorizeSettings, runMemorize, sized, type MemorizeSettings } from './common.ts';

/** What a memorize sub-run came to: training, the recall from noise and its certificate. */
interface RunResult {
  sub: string;
  frames: number;
  matched: number;
  inOrder: boolean | null;
  psnr: number;
  outcome: string;
  recalled: boolean;
  rho: number | null;
  loss: number;
  steps: number;
  reason: string;
  trainSeconds: number;
}

function resultOf(sub: string, events: EngramEvent[]): RunResult {
  const r = lastOf(events, 'recall') as RecallEvent;
  const a = lastOf(events, 'attractors') as AttractorEvent | undefined;
  const t = lastOf(events, 'train-end') as TrainEndEvent;
  const stored = a?.items.slice(0, a.stored) ?? [];
  return {
    sub, frames: r.framesTotal, matched: r.framesMatched, inOrder: r.orderCorrect, psnr: r.meanPsnr, outcome: r.outcome?.kind ?? r.rule,
    recalled: r.outcome?.recalled ?? r.framesMatched === r.framesTotal, rho: stored.length ? Math.max(...stored.map((i) => i.rho)) : null,
    loss: t.loss, steps: t.step, reason: t.reason, trainSeconds: t.wallMs / 1000,
  };
}

const recallText = (r: RunResult) => `${r.matched}/${r.frames} frames${r.inOrder === null ? '' : r.inOrder ? ' in order' : ' (order wrong)'}, ${fmt(r.psnr)} dB, ${r.outcome}` +
  `${r.rho === null ? '' : `, ρ ${fmt(r.rho)}`}`;

type FootagePlan = {
  frames: number | undefined; size: number; gray: boolean;
  /** The research's method: its net and optimizer on `frames` frames at `size`, for `steps` steps; its recall from noise capped at `recallSteps` (an unconverged deep net iterates slowly). */
  paper: { size: number; frames: number | undefined; steps: number; width: number; depth: number; recallSteps: number };
};

const FOOTAGE: Record<'toy' | 'quick' | 'full', FootagePlan> = {
  toy: { frames: 12, size: 16, gray: true, paper: { size: 8, frames: 6, steps: 5, width: 32, depth: 3, recallSteps: 100 } },
  quick: { frames: undefined, size: 64, gray: true, paper: { size: 32, frames: 24, steps: 400, width: 1024, depth: 16, recallSteps: 500 } },
  full: { frames: undefined, size: 128, gray: false, paper: { size: 128, frames: undefined, steps: 200_000, width: 1024, depth: 16, recallSteps: 20_000 } },
};

export const footage: Experiment = {
  name: 'footage',
  title: 'natural video recovered from noise as a limit cycle',
  published: '389 frames of 128×128 video, FC width 1024, depth 16, SELU, Adam 1e-4, trained to MSE < 1e-8: the whole movie is recovered from noise, in order.',
  sizes: sized({
    toy: 'the first 12 frames of each natural clip at 16×16 gray (closed-form fit); the research\'s method on 6 frames at 8×8, width 32, depth 3, 5 steps',
    quick: 'each natural clip whole (96 frames) at 64×64 gray with engram\'s closed-form fit; the research\'s method (width 1024, depth 16, SELU, Adam 1e-4) on the first 24 frames of the first clip at 32×32 gray for 400 steps, recall capped at 500 iterations',
    full: 'each natural clip whole at 128×128 RGB (the published frame size) with the closed-form fit, and the research\'s method at that size for up to 200,000 steps',
  }),
  unavailable: (ctx) => (footageClips(ctx.media).length ? null : 'no natural footage: pass --media DIR (a directory of video clips, e.g. the 128×128 clips engram\'s tests use)'),
  async run(ctx) {
    const plan = FOOTAGE[ctx.size];
    const clips = footageClips(ctx.media);
    const solved: RunResult[] = [];
    for (const clip of clips) {
      const name = clip.split('/').pop()!.replace(/\.[^.]+$/, '');
      const s = memorizeSettings({ kind: 'video', path: clip, width: plan.size, height: plan.size, gray: plan.gray, frames: plan.frames }, { seed: ctx.seed, fit: 'auto' });
      solved.push(resultOf(name, await runMemorize(ctx, name, s)));
    }
    // the research's own method on the first clip, for what the size allows
    const p = plan.paper;
    const paperSettings: MemorizeSettings = memorizeSettings(
      { kind: 'video', path: clips[0], width: p.size, height: p.size, gray: true, frames: p.frames },
      {
        seed: ctx.seed, fit: 'gradient', model: { width: p.width, depth: p.depth, activation: 'selu', bias: true, init: 'torch', seed: ctx.seed }, optimizer: { name: 'adam', lr: 1e-4 }, maxSteps: p.steps,
        recall: { from: 'gaussian', sigma: 1, maxIterations: p.recallSteps, seed: ctx.seed },
      },
    );
    const paper = resultOf('paper-method', await runMemorize(ctx, 'paper-method', paperSettings));

    const whole = solved.filter((r) => r.recalled && r.matched === r.frames);
    const allWhole = whole.length === solved.length;
    const paperReached = paper.loss <= 1e-8 && paper.recalled;
    const status = allWhole && paperReached ? 'agrees' : allWhole ? 'partly' : 'disagrees';
    const rows: ComparisonRow[] = [
      ...solved.map((r): ComparisonRow => ({
        what: `${r.sub} (${r.frames} frames, ${plan.size}×${plan.size} ${plan.gray ? 'gray' : 'RGB'}), closed-form fit`,
        published: 'whole movie recovered from noise', measured: `MSE ${fmt(r.loss)}; ${recallText(r)}`,
        agrees: r.recalled && r.matched === r.frames ? 'yes' : r.recalled ? 'partly' : 'no',
        why: r.recalled && r.matched === r.frames ? undefined : `recall from noise came to ${r.outcome}`,
      })),
      {
        what: `the research's method (width ${p.width}, depth ${p.depth}, SELU, Adam 1e-4) on ${paper.frames} frames of ${clips[0].split('/').pop()} at ${p.size}×${p.size}`,
        published: 'MSE < 1e-8, whole movie recovered', measured: `${paper.steps} steps (${paper.reason}, ${fmt(paper.trainSeconds)} s): MSE ${fmt(paper.loss)}; ${recallText(paper)}`,
        agrees: paperReached ? 'yes' : 'no', why: paperReached ? undefined : `steps: ${paper.steps} here, where the research trained on until MSE < 1e-8`,
      },
    ];
    return {
      status,
      summary: `${whole.length}/${solved.length} natural clips recovered whole from noise with the closed-form fit (${solved.map((r) => `${r.sub} ${r.matched}/${r.frames}`).join(', ')} at ${plan.size}×${plan.size})` +
        `; the research's Adam method reached MSE ${fmt(paper.loss)} in ${paper.steps} steps${paperReached ? ' and recalled the clip' : ', short of 1e-8 (steps)'}`,
      rows,
      measured: { clips: solved, paper, plan },
      blocks: solved.map((r) => ({ kind: 'image' as const, file: `runs/${r.sub}/contact.png`, caption: `${r.sub}: each band shows originals (upper row) above the frames recalled from noise (lower row).` })),
    } satisfies ExperimentOutcome;
  },
};

/** About 8 seconds of English at espeak-ng's 140 words a minute. */
const SPEECH_TEXT = 'Memories are attractors of the network. Iterating it from noise replays every second of this sentence, in the order it was spoken, again and again.';

type SpeechPlan = { seconds: number; rate: number };
const SPEECH: Record<'toy' | 'quick' | 'full', SpeechPlan> = { toy: { seconds: 2, rate: 8000 }, quick: { seconds: 8, rate: 22_050 }, full: { seconds: 8, rate: 22_050 } };

/** Per-second correlations of the recalled seconds with the original ones, at the cyclic shift that fits best. */
export function alignedCorrelations(original: Float32Array[], recalled: Float32Array[]): { shift: number; corr: number[] } {
  const n = original.length;
  let best = { shift: 0, corr: [] as number[], mean: -Infinity };
  for (let shift = 0; shift < n; shift++) {
    const corr = original.map((o, i) => (recalled[(i + shift) % n] ? correlation(o, recalled[(i + shift) % n]) : 0));
    const mean = corr.reduce((s, c) => s + c, 0) / n;
    if (mean > best.mean) best = { shift, corr, mean };
  }
  return { shift: best.shift, corr: best.corr };
}

export const speech: Experiment = {
  name: 'speech',
  title: 'seconds of speech recovered from noise as a limit cycle',
  published: '8 seconds of speech, one vector per second, trained as a cycle: iterating the network from noise recovers the speech, second by second, as a limit cycle.',
  sizes: sized({
    toy: '2 seconds of espeak-ng speech at 8 kHz, closed-form fit',
    quick: '8 seconds of espeak-ng speech at 22,050 Hz (one 22,050-sample vector per second), closed-form fit',
    full: '8 seconds at 22,050 Hz, as quick (the research\'s own training method is the footage experiment\'s)',
  }),
  unavailable: () => (espeakPath() ? null : 'espeak-ng is not installed, so there is no speech to memorize; install it (Debian: apt-get install espeak-ng) and run engram reproduce speech'),
  async run(ctx: ExperimentContext) {
    const plan = SPEECH[ctx.size];
    const wav = join(ensureReportDir(join(ctx.dir, 'input')), 'speech.wav');
    writeTextAtomic(wav, await speakToWav(SPEECH_TEXT));
    const s = memorizeSettings({ kind: 'audio', path: wav, rate: plan.rate, chunkSeconds: 1, partial: 'drop', maxChunks: plan.seconds }, { seed: ctx.seed });
    const events = await runMemorize(ctx, 'speech', s);
    const r = resultOf('speech', events);
    const original = (await readAudioSeconds(wav, { rate: plan.rate, chunkSeconds: 1, maxChunks: plan.seconds })).chunks.map((c) => c.data);
    const recalledPath = join(ctx.dir, 'runs', 'speech', 'recalled.wav');
    const recalled = (await readAudioSeconds(recalledPath, { rate: plan.rate, chunkSeconds: 1 })).chunks.map((c) => c.data);
    const { shift, corr } = alignedCorrelations(original, recalled);
    const minCorr = Math.min(...corr);
    const ok = r.recalled && minCorr > 0.99;
    const plot = await ctx.plot('correlation.png', {
      title: `each recalled second against the original (Pearson correlation; recall shifted by ${shift} s)`,
      width: 480, height: 220, data: { values: corr.map((c, i) => ({ second: i + 1, corr: c })) },
      mark: 'bar', encoding: { x: { field: 'second', type: 'ordinal', title: 'second' }, y: { field: 'corr', type: 'quantitative', scale: { domain: [Math.min(0, minCorr), 1] }, title: 'correlation' } },
    } as never);
    return {
      status: ok ? 'agrees' : r.recalled ? 'partly' : 'disagrees',
      summary: `${original.length} s of speech: ${recallText(r)}; every recalled second correlates ${minCorr >= 0.9999 ? '> 0.9999' : `≥ ${fmt(minCorr)}`} with the original`,
      rows: [
        { what: 'recall from noise', published: 'the speech as a limit cycle', measured: recallText(r), agrees: r.recalled ? 'yes' : 'no', why: r.recalled ? undefined : `recall came to ${r.outcome}` },
        { what: 'per-second correlation', published: 'the speech recovered', measured: corr.map((c) => fmt(c)).join(', '), agrees: minCorr > 0.99 ? 'yes' : minCorr > 0.9 ? 'partly' : 'no' },
      ],
      measured: { seconds: original.length, rate: plan.rate, shift, correlations: corr, recall: r, text: SPEECH_TEXT },
      blocks: [
        { kind: 'image', file: plot, caption: 'Correlation of each recalled second with the original second.' },
        { kind: 'paragraph', text: `The speech: \`input/speech.wav\` (espeak-ng: "${SPEECH_TEXT}"). The recall from noise: \`runs/speech/recalled.wav\`.` },
      ],
    } satisfies ExperimentOutcome;
  },
};
