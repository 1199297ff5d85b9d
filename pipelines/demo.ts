/**
 * `engram demo`: memorize a clip of ffmpeg's life source that the job renders first, into the run
 * directory (source.mkv), so the demo needs no media of its own.
 */
import { join } from 'node:path';
import { Observable } from 'rxjs';
import type { EngramEvent } from '../events.ts';
import { makeLavfiClip } from '../sinks/lavfi-clip.ts';
import type { MemorizeOptions } from './memorize.ts';

/** Where the demo's clip is written in its run directory. */
export function demoClipPath(outDir: string): string {
  return join(outDir, 'source.mkv');
}

/** Render the clip inside the job, before it is read (the `before` of a memorize job). */
export function renderDemoClip(clip: string, o: { width: number; height: number; frames: number; seed: number }): Pick<MemorizeOptions, 'before'> {
  const { width, height, frames } = o;
  // Conway's life: every frame differs from every other (testsrc2 barely moves at 32x32), seeded.
  const source = `life=s=${width}x${height}:r=12:ratio=0.5:mold=10:seed=${o.seed}:death_color=#000000:life_color=#ffffff`;
  return {
    // unsubscribing (a stop while the clip renders) kills its ffmpeg
    before: (job) => new Observable<EngramEvent>((sub) => {
      const stop = new AbortController();
      makeLavfiClip(clip, { source, width, height, frames, fps: 12 }, stop.signal).then(() => {
        sub.next(job.ev({ kind: 'log', level: 'info', message: `made ${clip}: ${frames} frames of ffmpeg's life source at ${width}x${height}` }));
        sub.complete();
      }, (e: unknown) => sub.error(e));
      return () => stop.abort();
    }),
  };
}
