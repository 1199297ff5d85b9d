/**
 * recall-run: load a run's checkpoint, iterate the network from noise (or a training frame), match
 * the limit onto the stored frames and write the recalled video.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { firstValueFrom, of } from 'rxjs';
import { loadCheckpoint } from '../engine/checkpoint.ts';
import { createFcModel } from '../engine/model.ts';
import { EngramError } from '../errors.ts';
import type { RecallEvent } from '../events.ts';
import { recall } from '../operators/recall.ts';
import { appendEvent } from '../sinks/events-jsonl.ts';
import { readRunJson } from '../sinks/run-dir.ts';
import { writeVideo } from '../sinks/video.ts';
import { splitRows } from './memorize-video.ts';

export interface RecallRunConfig {
  runDir: string;
  from: string;
  sigma: number;
  maxIterations: number;
  seed: number;
  out?: string;
  force: boolean;
  fps?: number;
}

export async function recallRun(cfg: RecallRunConfig): Promise<{ event: RecallEvent; out: string }> {
  const run = readRunJson(cfg.runDir);
  const ckptPath = join(cfg.runDir, 'model.ckpt');
  if (!existsSync(ckptPath)) {
    throw new EngramError('E_INPUT_MISSING', `${cfg.runDir} has no model.ckpt (run status: ${run.status}); memorize again to make one`);
  }
  const ck = loadCheckpoint(ckptPath);
  if (!ck.data) throw new EngramError('E_CHECKPOINT', `${ckptPath} holds no training frames to match against; memorize again with this engram`);
  const frame = (ck.meta?.frame ?? {}) as { width: number; height: number; channels: 1 | 3 };
  const model = createFcModel(ck.spec, new Float32Array(ck.spec.dim).fill(1 / Math.sqrt(ck.spec.dim)));
  try {
    model.setWeights(ck.weights);
    const [n, d] = ck.data.vectors.shape;
    const all = splitRows(ck.data.vectors.data, n, d);
    const sequences: Float32Array[][] = [];
    let at = 0;
    for (const len of ck.data.sequenceLengths) {
      sequences.push(all.slice(at, at + len));
      at += len;
    }
    const from = parseFrom(cfg.from, all);
    const out = await firstValueFrom(
      of({ map: model, sequences, objective: ck.data.objective as 'cycle' | 'autoencode' | 'multi-cycle' }).pipe(
        recall({ runId: run.id, step: ck.step, from, sigma: cfg.sigma, maxIterations: cfg.maxIterations, seed: cfg.seed }),
      ),
    );
    const video = cfg.out ?? join(cfg.runDir, 'recalled.mp4');
    const loops = out.states.length > 1 ? 2 : 1;
    await writeVideo(video, Array.from({ length: loops }, () => out.states).flat(), {
      width: frame.width, height: frame.height, channels: frame.channels, fps: cfg.fps ?? 12, overwrite: cfg.force,
    });
    const eventsPath = join(cfg.runDir, 'events.jsonl');
    if (existsSync(eventsPath)) appendEvent(eventsPath, out.event);
    return { event: out.event, out: video };
  } finally {
    model.dispose();
  }
}

function parseFrom(from: string, frames: Float32Array[]): 'gaussian' | 'uniform' | Float32Array {
  if (from === 'noise' || from === 'gaussian') return 'gaussian';
  if (from === 'uniform') return 'uniform';
  const m = /^frame:(\d+)$/.exec(from);
  if (m && Number(m[1]) < frames.length) return frames[Number(m[1])];
  throw new EngramError('E_BAD_ARGUMENT', `--from must be noise, gaussian, uniform or frame:I with I < ${frames.length} (got '${from}')`);
}
