/**
 * What `engram memorize` reads: the source for a kind of media, the vectors it yields and the shape
 * to turn vectors back into media. The kind comes from the file type unless `--kind` says.
 */
import { existsSync, statSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { Observable, debounceTime, filter, from, lastValueFrom, map, scan, toArray } from 'rxjs';
import { resolveFfmpeg } from '../media/ffmpeg.ts';
import { readAudioSeconds } from '../sources/audio.ts';
import { images$, readImages, type ImageSample } from '../sources/images.ts';
import { videoFrames$, type Frame } from '../sources/video.ts';

export type MediaKind = 'video' | 'audio' | 'images';

/** Find ffmpeg now (E_FFMPEG when there is none), so a missing one is reported before anything is created. */
export function requireFfmpeg(): void {
  resolveFfmpeg();
}

export type InputSpec =
  | { kind: 'video'; path: string; width: number; height: number; gray: boolean; frames?: number; fps?: number; start?: number; duration?: number }
  | { kind: 'audio'; path: string; rate: number; chunkSeconds: number; partial: 'drop' | 'pad'; maxChunks?: number }
  | { kind: 'images'; path: string; width: number; height: number; gray: boolean; watch?: boolean };

/** How to turn a vector back into media. */
export type MediaShape =
  | { kind: 'video' | 'images'; width: number; height: number; channels: 1 | 3; fps: number }
  | { kind: 'audio'; rate: number; samples: number };

export interface LoadedInput {
  vectors: Float32Array[];
  shape: MediaShape;
  /** Things the user should know about how the input was read (resizing, dropped samples…). */
  notes: string[];
}

const AUDIO = new Set(['.wav', '.wave', '.mp3', '.ogg', '.oga', '.opus', '.flac', '.m4a', '.aac', '.aif', '.aiff', '.wma']);
const IMAGES = new Set(['.png', '.jpg', '.jpeg', '.bmp', '.gif', '.webp', '.tif', '.tiff']);

/** video unless the path is a directory or glob (images) or has an audio extension. */
export function detectKind(path: string): MediaKind {
  if (path.includes('*') || path.includes('?') || (existsSync(path) && statSync(path).isDirectory())) return 'images';
  const ext = extname(path).toLowerCase();
  if (AUDIO.has(ext)) return 'audio';
  if (IMAGES.has(ext)) return 'images';
  return 'video';
}

export function loadInput(spec: InputSpec): Observable<LoadedInput> {
  switch (spec.kind) {
    case 'video':
      return videoFrames$(spec.path, spec).pipe(
        toArray(),
        map((frames: Frame[]) => ({
          vectors: frames.map((f) => f.data),
          shape: { kind: 'video', width: frames[0].width, height: frames[0].height, channels: frames[0].channels, fps: spec.fps ?? 12 },
          notes: [],
        })),
      );
    case 'audio':
      return from(readAudioSeconds(spec.path, { rate: spec.rate, chunkSeconds: spec.chunkSeconds, partial: spec.partial, maxChunks: spec.maxChunks })).pipe(
        map(({ chunks, info }) => ({
          vectors: chunks.map((c) => c.data),
          shape: { kind: 'audio', rate: info.sampleRate, samples: info.samplesPerChunk },
          notes: [
            `audio: ${info.chunks} chunk(s) of ${info.samplesPerChunk} samples at ${info.sampleRate} Hz, decoded via ${info.decodedVia}` +
              (info.dropped ? `; the last ${info.dropped} samples (a partial chunk) were dropped (--partial pad keeps them)` : '') +
              (info.padded ? `; the last chunk was padded with ${info.padded} zeros` : '') +
              (info.truncated ? '; stopped at --frames chunks' : ''),
          ],
        })),
      );
    case 'images':
      if (spec.watch) return watchedImages(spec);
      return from(readImages(spec.path, { width: spec.width, height: spec.height, gray: spec.gray })).pipe(
        map(({ samples, info }) => ({
          vectors: samples.map((s) => s.data),
          shape: { kind: 'images', width: spec.width, height: spec.height, channels: spec.gray ? 1 : 3, fps: 2 },
          notes: info.resized
            ? [`images: ${info.resized} of ${info.count} had another size than ${spec.width}x${spec.height} and were resized (sizes: ${Object.entries(info.sizes).map(([k, v]) => `${k}×${v}`).join(', ')})`]
            : [],
        })),
      );
  }
}

/** One sample of the run's kind and shape read from a file (for recall --from <file>). */
export async function readOneSample(path: string, shape: MediaShape): Promise<Float32Array> {
  if (shape.kind === 'audio') {
    const { chunks } = await readAudioSeconds(path, { rate: shape.rate, chunkSeconds: shape.samples / shape.rate, partial: 'pad', maxChunks: 1 });
    return chunks[0].data;
  }
  const opts = { width: shape.width, height: shape.height, gray: shape.channels === 1 };
  if (detectKind(path) === 'images') return (await readImages(path, opts)).samples[0].data;
  return (await lastValueFrom(videoFrames$(path, { ...opts, frames: 1 }).pipe(toArray())))[0].data;
}

/**
 * A directory that keeps growing: every settled batch of images (existing ones first, then each
 * burst of new files) yields the whole set so far, to be memorized again.
 */
function watchedImages(spec: Extract<InputSpec, { kind: 'images' }>): Observable<LoadedInput> {
  const opts = { width: spec.width, height: spec.height, gray: spec.gray };
  return images$(spec.path, { ...opts, watch: true }).pipe(
    scan((all, s: ImageSample) => [...all, s], [] as ImageSample[]),
    // a batch is every image found so far, once all of them are decoded (however slow ffmpeg is),
    // then a short quiet spell so a burst of new files copied in one go stays one batch
    filter((all) => all[all.length - 1].queued === 0),
    debounceTime(500),
    map((all) => {
      const resized = all.filter((s) => s.originalSize.width !== spec.width || s.originalSize.height !== spec.height).length;
      return {
        vectors: all.map((s) => s.data),
        shape: { kind: 'images' as const, width: spec.width, height: spec.height, channels: spec.gray ? 1 as const : 3 as const, fps: 2 },
        notes: [`images: ${all.length} in ${spec.path} so far (newest ${basename(all[all.length - 1].path)})` +
          (resized ? `; ${resized} had another size and were resized` : '')],
      };
    }),
  );
}
