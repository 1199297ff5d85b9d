/**
 * What `engram memorize` reads: the source for a kind of media, the vectors it yields and the shape
 * to turn vectors back into media. The kind comes from the file type unless `--kind` says.
 */
import { existsSync, statSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { Observable, debounceTime, defer, filter, from, lastValueFrom, map, reduce, scan, toArray } from 'rxjs';
import { EngramError } from '../errors.ts';
import { probeContainer, resolveFfmpeg } from '../media/ffmpeg.ts';
import { readAudioSeconds, type AudioInfo, type AudioProgress } from '../sources/audio.ts';
import { globToRegExp, images$, isGlob, readImages, type ImageSample } from '../sources/images.ts';
import { missingStream } from '../sources/streams.ts';
import { inputCapError, inputSampleCap } from './resources.ts';
import { partialDecode, videoFrames$, type DecodeProgress, type DecodeReport, type Frame } from '../sources/video.ts';

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
  /** How completely a video or audio file decoded against what its container promised (run.json `inputDecode`). */
  decode?: InputDecode;
}

/**
 * How completely an input decoded: what came out against what the container promised. Partial when
 * the shortfall is more than rounding of duration × rate allows (video: 1 frame or 2%; audio:
 * 0.1 s or 2%). `problem` is the sentence a warning (or, with --strict, the error) says.
 */
export interface InputDecode {
  framesDecoded?: number;
  framesExpected?: number;
  secondsDecoded?: number;
  secondsExpected?: number;
  /** Where the expectation came from (the container's duration × fps, a WAV header, --frames…); absent when nothing said what to expect. */
  expectedFrom?: string;
  partial: boolean;
  /** ffmpeg's decode errors while reading it (video). */
  decodeErrors?: string[];
  problem?: string;
}

const REPAIR = 're-export or repair the file (re-encoding a damaged file keeps only what decodes)';

/** A partial input, refused with --strict. */
export function partialInputError(path: string, d: InputDecode): EngramError {
  return new EngramError('E_INPUT_PARTIAL', `${d.problem} (--strict refuses a partial input); ${REPAIR}, or drop --strict to memorize the part that decodes`);
}

/** The warning for an input that decoded partially or with errors (with --strict a partial one is refused instead). */
export function decodeWarning(path: string, d: InputDecode): string | undefined {
  if (!d.problem) return undefined;
  if (d.partial) return `${d.problem}; memorizing only what decoded. For the whole clip ${REPAIR}; pass --strict to refuse partial inputs`;
  return `${d.problem}; some samples may be damaged (${REPAIR})`;
}

function videoDecode(path: string, r: DecodeReport | undefined): InputDecode | undefined {
  if (!r) return undefined;
  const partial = partialDecode(r);
  const errs = r.errors.length ? `; ffmpeg reported: ${r.errors.slice(0, 3).join(' | ')}` : '';
  const problem = partial ? `${path} is partial: ${r.framesDecoded} of ${r.expected!.frames} frames decoded (expected from ${r.expected!.from})${errs}`
    : r.errors.length ? `${path} decoded with errors (${r.framesDecoded} frames decoded${r.expected ? ` of ${r.expected.frames} expected` : ''})${errs}`
    : undefined;
  return {
    framesDecoded: r.framesDecoded,
    ...(r.expected ? { framesExpected: r.expected.frames, expectedFrom: r.expected.from } : {}),
    partial, ...(r.errors.length ? { decodeErrors: r.errors } : {}), ...(problem ? { problem } : {}),
  };
}

function audioDecode(path: string, info: AudioInfo): InputDecode {
  const decoded = +info.decodedSeconds.toFixed(3);
  const e = info.expected;
  if (!e) return { secondsDecoded: decoded, partial: false };
  const partial = e.seconds - info.decodedSeconds > Math.max(0.1, 0.02 * e.seconds);
  return {
    secondsDecoded: decoded, secondsExpected: +e.seconds.toFixed(3), expectedFrom: e.from, partial,
    ...(partial ? { problem: `${path} is partial: ${decoded} s of ${+e.seconds.toFixed(3)} s decoded (expected from ${e.from})` } : {}),
  };
}

const AUDIO = new Set(['.wav', '.wave', '.mp3', '.ogg', '.oga', '.opus', '.flac', '.m4a', '.aac', '.aif', '.aiff', '.wma']);
const IMAGES = new Set(['.png', '.jpg', '.jpeg', '.bmp', '.gif', '.webp', '.tif', '.tiff']);

/**
 * Whether `path` is a glob of images (`*`, `?` or a `[…]` class in its last part) rather than a path
 * that exists as written: a file whose name holds brackets is that file.
 */
export function isImageGlob(path: string): boolean {
  return !existsSync(path) && isGlob(path);
}

/** A glob's pattern, checked before anything is created (E_BAD_ARGUMENT for a class such as [z-a]). */
export function checkImageGlob(path: string): void {
  if (isImageGlob(path)) globToRegExp(basename(path), path);
}

/** Standard input (`-`), a `lavfi:` graph or a URL: no file, directory or glob, whatever its characters (`setpts=2*N/24/TB`). */
export function isStreamSpec(path: string): boolean {
  return path === '-' || path.startsWith('lavfi:') || /^[a-z][a-z0-9+.-]*:\/\//i.test(path);
}

/** video unless the path is a directory or glob (images) or has an audio extension. */
export function detectKind(path: string): MediaKind {
  if (!isStreamSpec(path) && (existsSync(path) ? statSync(path).isDirectory() : isGlob(path))) return 'images';
  const ext = extname(path).toLowerCase();
  if (AUDIO.has(ext)) return 'audio';
  if (IMAGES.has(ext)) return 'images';
  return 'video';
}

/** How far reading a video or audio input has come (a decode progress event's body): about once a second while it decodes. */
export type InputProgress = { unit: 'frames' | 'seconds'; decoded: number; expected?: number; elapsedMs: number };

/**
 * Read the input (`onProgress` hears how far a video or audio decode has come, about once a second).
 * A video without --frames is decoded into memory only up to `maxSamples` frames
 * (default: 1/4 of the free memory, at most 100,000 frames; pipelines/resources.ts): past that it
 * stops with E_RESOURCE, so an input that never ends (standard input, a URL) cannot grow without bound.
 */
export function loadInput(spec: InputSpec, o: { maxSamples?: number; onProgress?: (p: InputProgress) => void; progressMs?: number } = {}): Observable<LoadedInput> {
  switch (spec.kind) {
    case 'video':
      return defer(() => {
        let report: DecodeReport | undefined;
        const cap = spec.frames !== undefined ? Infinity : o.maxSamples ?? inputSampleCap(spec.width * spec.height * (spec.gray ? 1 : 3));
        const onProgress = o.onProgress && (({ frames, ...p }: DecodeProgress) => o.onProgress!({ unit: 'frames', decoded: frames, ...p }));
        return videoFrames$(spec.path, { ...spec, onReport: (r) => (report = r), ...(onProgress ? { onProgress, progressMs: o.progressMs } : {}) }).pipe(
          reduce((all: Frame[], f: Frame) => {
            if (all.length >= cap) throw inputCapError(spec.path === '-' ? 'standard input' : spec.path, cap, f.data.length);
            all.push(f);
            return all;
          }, []),
          map((frames: Frame[]): LoadedInput => ({
            vectors: frames.map((f) => f.data),
            shape: { kind: 'video', width: frames[0].width, height: frames[0].height, channels: frames[0].channels, fps: spec.fps ?? 12 },
            notes: [],
            decode: videoDecode(spec.path, report),
          })),
        );
      });
    case 'audio':
      return defer(() => readAudioSeconds(spec.path, {
        rate: spec.rate, chunkSeconds: spec.chunkSeconds, partial: spec.partial, maxChunks: spec.maxChunks, expectLength: true,
        ...(o.onProgress ? { onProgress: ({ seconds, ...p }: AudioProgress) => o.onProgress!({ unit: 'seconds', decoded: seconds, ...p }), progressMs: o.progressMs } : {}),
      })).pipe(
        map(({ chunks, info }): LoadedInput => ({
          decode: audioDecode(spec.path, info),
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

/**
 * One sample of the run's kind and shape read from a file (for recall --from <file>). A file of
 * another kind (a WAV for a video run, a video for an audio run) is refused with E_INPUT_INVALID
 * saying what it holds, before anything decodes it.
 */
export async function readOneSample(path: string, shape: MediaShape): Promise<Float32Array> {
  if (existsSync(path) && statSync(path).isFile()) { // not lavfi:, a URL or -
    const info = await probeContainer(path);
    const lack = missingStream(path, info, shape.kind === 'audio' ? 'audio' : 'video');
    if (lack) {
      const want = shape.kind === 'audio' ? 'an audio file for this audio run' : `a video or an image for this ${shape.kind === 'video' ? 'video' : 'image'} run`;
      throw new EngramError('E_INPUT_INVALID',
        `${lack}; --from FILE is the state recall starts from and must be a file of the run's kind: ${want} (or --from noise, uniform or frame:I)`);
    }
  }
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
