/** What the experiments share: number formatting, size tables, the footage directory and memorize sub-runs. */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { tap } from 'rxjs';
import type { EngramEvent } from '../../events.ts';
import type { InputSpec } from '../inputs.ts';
import { memorize, type MemorizeConfig } from '../memorize.ts';
import type { ExperimentContext, ReproduceSize } from '../reproduce.ts';

/** A number for a report: 3 significant digits, exponent form when tiny or huge. */
export function fmt(x: number | null | undefined): string {
  if (x === null || x === undefined) return '–';
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return '0';
  const a = Math.abs(x);
  return a < 1e-3 || a >= 1e5 ? x.toExponential(2) : Number(x.toPrecision(3)).toString();
}

export const sized = (s: Record<ReproduceSize, string>) => s;

/** How training ended, in words: "trained to MSE 7.66e-9 in 633 steps", "stopped at the step cap (5000), MSE 0.02". */
export function trainedText(t: { step: number; loss: number; reason: string }): string {
  return t.reason === 'loss-target' ? `trained to MSE ${fmt(t.loss)} in ${t.step} steps` : `training stopped (${t.reason}) at step ${t.step}, MSE ${fmt(t.loss)}`;
}

/** The natural clips in the footage directory, sorted (.mp4, .mkv, .mov, .webm, .avi). */
export function footageClips(media: string | null): string[] {
  if (!media) return [];
  try {
    return readdirSync(media).filter((f) => /\.(mp4|mkv|mov|webm|avi)$/i.test(f)).sort().map((f) => join(media, f));
  } catch {
    return [];
  }
}

/** The first natural clip, or null. */
export const footageClip = (media: string | null): string | null => footageClips(media)[0] ?? null;

/** What an experiment sets of a memorize run; the rest are the CLI's defaults (cli/options.ts). */
export type MemorizeSettings = Omit<MemorizeConfig, 'runId' | 'outDir' | 'command' | 'force'>;

export function memorizeSettings(input: InputSpec, o: Partial<MemorizeSettings> & { seed?: number } = {}): MemorizeSettings {
  const seed = o.seed ?? 1;
  const { seed: _, ...rest } = o;
  return {
    input, objective: 'cycle', fit: 'auto',
    model: { width: 1024, depth: 2, activation: 'relu', bias: true, init: 'torch', seed },
    optimizer: { name: 'adam', lr: 1e-4 }, lossTarget: 1e-8, maxSteps: 20_000, checkpointEvery: 1000, stopOnNonfinite: false, stabilityEvery: 0,
    recall: { from: 'gaussian', sigma: 1, maxIterations: 20_000, seed }, recovery: false, eigMethod: 'auto', monitor: { every: 0, examples: 8 },
    ...rest,
  };
}

/** The engram command line of a memorize run with these settings (for the report). */
export function memorizeCommand(s: MemorizeSettings, out: string): string {
  const i = s.input;
  const input = i.kind === 'audio' ? `${i.path} --rate ${i.rate} --chunk-seconds ${i.chunkSeconds}${i.maxChunks ? ` --frames ${i.maxChunks}` : ''}`
    : `${i.path}${i.kind === 'video' && !/\.(mp4|mkv|mov|webm|avi)$/i.test(i.path) ? ' --kind video' : ''} --size ${i.width}x${i.height} ${i.gray ? '--gray' : '--rgb'}` +
      `${i.kind === 'video' && i.frames ? ` --frames ${i.frames}` : ''}`;
  const m = s.model;
  const fit = s.fit === 'solve' || s.fit === 'auto' ? `--fit ${s.fit}` : `--fit gradient --optimizer ${s.optimizer.name} --lr ${s.optimizer.lr}`;
  return `engram memorize ${input} --objective ${s.objective}${s.sequences && s.sequences > 1 ? ` --sequences ${s.sequences}` : ''} ` +
    `--width ${m.width} --depth ${m.depth} --activation ${m.activation}${m.bias ? '' : ' --no-bias'} ` +
    `--init ${m.init} --seed ${m.seed} ${fit} --loss-target ${s.lossTarget} --max-steps ${s.maxSteps}` +
    `${s.checkpointEvery !== 1000 ? ` --checkpoint-every ${s.checkpointEvery}` : ''} --stability-every ${s.stabilityEvery ?? 0}` +
    `${s.recall.maxIterations !== 20_000 ? ` --recall-steps ${s.recall.maxIterations}` : ''}` +
    `${s.recovery === false ? ' --no-recovery' : ''} --monitor-every ${s.monitor?.every ?? 'auto'}${s.certifyMax !== undefined ? ` --certify ${s.certifyMax}` : ''} --out ${out}`;
}

/** Run memorize as the sub-run `sub` of an experiment; its events (all but train-step; `onEvent` sees every one). */
export function runMemorize(ctx: ExperimentContext, sub: string, s: MemorizeSettings, onEvent?: (e: EngramEvent) => void): Promise<EngramEvent[]> {
  return ctx.run(sub, memorizeCommand(s, join(ctx.dir, 'runs', sub)), (outDir, runId) => {
    const run$ = memorize({ ...s, runId, outDir, force: ctx.force, command: memorizeCommand(s, outDir) }, ctx.backend);
    return onEvent ? run$.pipe(tap(onEvent)) : run$;
  }, { steps: s.maxSteps });
}

/** The events of one kind from a run's events. */
export function eventsOf<K extends EngramEvent['kind']>(events: EngramEvent[], kind: K): Extract<EngramEvent, { kind: K }>[] {
  return events.filter((e): e is Extract<EngramEvent, { kind: K }> => e.kind === kind);
}

export const lastOf = <K extends EngramEvent['kind']>(events: EngramEvent[], kind: K): Extract<EngramEvent, { kind: K }> | undefined => eventsOf(events, kind).at(-1);
