/**
 * Where an output is written before it is renamed into place (media/ffmpeg.ts `partialPathFor`),
 * remembered: if the process exits before the file was renamed (a signal while ffmpeg encodes a
 * recording), it is removed then, so no half-written file is left behind.
 */
import { rmSync } from 'node:fs';
import { partialPathFor } from '../media/ffmpeg.ts';

const partials = new Set<string>();

export function partialOutput(path: string): string {
  const partial = partialPathFor(path);
  if (!partials.size) process.once('exit', removePartials);
  partials.add(partial);
  return partial;
}

function removePartials(): void {
  for (const p of partials) rmSync(p, { force: true }); // one renamed into place is gone already
}
