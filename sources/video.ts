/**
 * Video files as a stream of frames. ffmpeg scales and converts to gray or rgb24 and writes raw bytes
 * to stdout; we cut them into frames. Memory stays bounded by one frame plus the pipe buffers, for any
 * video length, because each frame is handed on synchronously as soon as it is complete.
 *
 *   videoFrames$('clip.mp4', { width: 32, height: 32, gray: true })
 *   --f0--f1--f2--…--fN-|
 */
import { existsSync } from 'node:fs';
import { Transform, type Readable } from 'node:stream';
import { Observable, lastValueFrom, toArray } from 'rxjs';
import { EngramError } from '../errors.ts';
import { ffmpegCommand, pipeFfmpeg, probeContainer, type ContainerInfo, type FfmpegFailure } from '../media/ffmpeg.ts';
import { fileKindOf, memorizeAs, missingStream } from './streams.ts';

/** One decoded frame: values in [0,1], channel-interleaved (HWC); `timestamp` in seconds. */
export type Frame = { index: number; timestamp: number; width: number; height: number; channels: 1 | 3; data: Float32Array };

export type VideoFrameOptions = {
  width: number;
  height: number;
  gray: boolean;
  /** Stop after this many frames. */
  frames?: number;
  /** Resample to this rate first (also the rate timestamps count in). */
  fps?: number;
  /** Seconds to skip at the start. */
  start?: number;
  /** Seconds to read. */
  duration?: number;
  /**
   * Called once the whole input has been decoded (not when the consumer stops early) with how many
   * frames came out, how many the container promised (files only) and ffmpeg's decode errors.
   */
  onReport?: (report: DecodeReport) => void;
  /**
   * Called while decoding, at most every `progressMs` (default 1000; never for a decode that ends
   * sooner), with the frames decoded so far and, when known, how many the input promises.
   */
  onProgress?: (p: DecodeProgress) => void;
  progressMs?: number;
  /** Read the input at its own frame rate (ffmpeg's `-re`): a `lavfi:` graph then plays like a camera. */
  realtime?: boolean;
  /**
   * URLs only: fail when the connection delivers nothing for this long instead of waiting forever
   * (ffmpeg's `-rw_timeout` for tcp, http(s) and rtmp(s), udp's `-timeout`; other protocols: none).
   */
  ioTimeoutMs?: number;
  /** At most this much of the input is read to learn its streams before decoding starts (ffmpeg's `-analyzeduration`; its default is 5 s). */
  analyzeMs?: number;
  /** Aborting kills ffmpeg at once and ends the frames quietly, even while waiting for input that does not come. */
  signal?: AbortSignal;
};

/** How far a decode has come: frames so far, what the input promises (when known), time since it started. */
export type DecodeProgress = { frames: number; expected?: number; elapsedMs: number };

/** How completely an input decoded (see `partialDecode`). */
export type DecodeReport = {
  framesDecoded: number;
  /** What the container promised, lowered by --start, --duration, --fps and --frames; absent when unknown (stdin, URL, lavfi, no duration). */
  expected?: { frames: number; from: string };
  /** ffmpeg's decode errors (distinct lines, at most 5), e.g. "Invalid NAL unit size", "partial file". */
  errors: string[];
};

const BYTE_TO_UNIT = Float32Array.from({ length: 256 }, (_, i) => i / 255);

/** How to pipe a video into engram, for messages about standard input. */
export const PIPE_EXAMPLE = 'e.g. cat clip.mp4 | engram memorize - or ffmpeg -i clip.mov -f nut - | engram memorize -';

export type Input = {
  input: string | Readable;
  options: string[];
  label: string;
  file: boolean;
  /** Standard input: the bytes that came through so far, and letting go of it. */
  stdin?: { bytes: () => number; release: () => void };
};

/**
 * Where frames come from: a file, `-` (standard input), a URL ffmpeg can open, or `lavfi:GRAPH`
 * (an ffmpeg filter source such as `lavfi:testsrc2=s=64x64:d=2`). Audio's streaming decode
 * (`audioChunks`) reads its inputs the same way, with `what` 'audio'.
 */
export function ffmpegInput(path: string, what: 'video' | 'audio' = 'video'): Input {
  if (path === '-') {
    // counted on the way through, so an empty standard input is told from one that holds no video
    let bytes = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        bytes += chunk.length;
        done(null, chunk);
      },
    });
    process.stdin.pipe(meter);
    return {
      input: meter, options: [], label: 'standard input', file: false,
      stdin: { bytes: () => bytes, release: () => process.stdin.unpipe(meter) },
    };
  }
  if (path.startsWith('lavfi:')) {
    const example = what === 'audio' ? 'lavfi:sine=frequency=440:d=2' : 'lavfi:testsrc2=s=64x64:d=2';
    if (!path.slice(6).trim()) throw new EngramError('E_BAD_ARGUMENT', `'${path}' names no filter graph; give one after lavfi:, e.g. ${example}`);
    return { input: path.slice(6), options: ['-f', 'lavfi'], label: path, file: false };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(path)) return { input: path, options: [], label: path, file: false };
  if (!existsSync(path)) throw new EngramError('E_INPUT_MISSING', `${what} file not found: ${path}; check the path and try again`);
  return { input: path, options: ['-nostdin'], label: path, file: true };
}

/**
 * Decode to frames, pulled one at a time: ffmpeg's stdout is read only as fast as the consumer takes
 * frames (the pipe's backpressure stops ffmpeg), so memory stays bounded for any input length.
 * Breaking out of the loop kills ffmpeg.
 */
export async function* videoFrames(path: string, opts: VideoFrameOptions): AsyncGenerator<Frame> {
  checkOptions(path, opts);
  if (opts.signal?.aborted) return;
  const src = ffmpegInput(path);
  // what the container promises, asked alongside the decode (only when someone wants the report)
  const container = (opts.onReport || opts.onProgress) && src.file ? probeContainer(path) : undefined;
  const t0 = Date.now();
  let lastProgress = t0;
  let promised = opts.frames;
  void container?.then((info) => (promised = expectedFrames(info, opts)?.frames ?? promised));
  const { width, height } = opts;
  const channels = opts.gray ? 1 : 3;
  const frameBytes = width * height * channels;
  const filters = [
    ...(opts.fps ? [`fps=${opts.fps}`] : []),
    `scale=${width}:${height}:flags=area`,
    `format=${opts.gray ? 'gray' : 'rgb24'}`,
  ];
  const cmd = ffmpegCommand(src.input)
    .inputOptions([
      ...src.options, '-hide_banner', '-loglevel', 'error',
      ...(opts.realtime ? ['-re'] : []),
      ...(opts.ioTimeoutMs !== undefined ? ioTimeoutOptions(path, opts.ioTimeoutMs) : []),
      ...(opts.analyzeMs !== undefined ? ['-analyzeduration', String(Math.max(1, Math.round(opts.analyzeMs * 1000)))] : []),
      ...(opts.start !== undefined ? ['-ss', String(opts.start)] : []),
      ...(opts.duration !== undefined ? ['-t', String(opts.duration)] : []),
    ])
    .outputOptions(['-an', '-sn', '-vf', filters.join(','), '-f', 'rawvideo'])
    .outputOptions(opts.frames !== undefined ? ['-frames:v', String(opts.frames)] : []);

  // The process can exit before its last bytes have come through the pipe: the loop reads the pipe
  // to its end, then waits for the exit. pipeFfmpeg kills ffmpeg when the signal aborts (even while
  // fluent-ffmpeg is still starting it) and destroys the pipe, which ends the loop below.
  const run = pipeFfmpeg(cmd, { highWaterMark: Math.max(frameBytes * 4, 1 << 16), signal: opts.signal });

  let pending = Buffer.alloc(frameBytes);
  let filled = 0;
  let index = 0;
  const rate = opts.fps;
  try {
    for await (const chunk of run.out as AsyncIterable<Buffer>) {
      let offset = 0;
      while (offset < chunk.length) {
        const n = Math.min(frameBytes - filled, chunk.length - offset);
        chunk.copy(pending, filled, offset, offset + n);
        filled += n;
        offset += n;
        if (filled === frameBytes) {
          const data = new Float32Array(frameBytes);
          for (let i = 0; i < frameBytes; i++) data[i] = BYTE_TO_UNIT[pending[i]];
          const timestamp = (opts.start ?? 0) + (rate ? index / rate : index);
          yield { index: index++, timestamp, width, height, channels, data };
          if (opts.onProgress) {
            const now = Date.now();
            if (now - lastProgress >= (opts.progressMs ?? 1000)) {
              lastProgress = now;
              opts.onProgress({ frames: index, ...(promised !== undefined ? { expected: promised } : {}), elapsedMs: now - t0 });
            }
          }
          pending = Buffer.alloc(frameBytes);
          filled = 0;
        }
      }
    }
    if (opts.signal?.aborted) return;
    await run.exited;
    if (run.failure || index === 0) throw await decodeFailure(path, src, opts, run.failure, container);
    if (opts.onReport) {
      const info = container ? await container : undefined;
      const expected = info ? expectedFrames(info, opts) : undefined;
      opts.onReport({ framesDecoded: index, ...(expected ? { expected } : {}), errors: decodeErrors(run.stderr) });
    }
  } catch (e) {
    if (!opts.signal?.aborted) throw e;
  } finally {
    run.close();
    src.stdin?.release();
  }
}

const secs = (x: number) => `${+x.toFixed(3)} s`;

/** The ffmpeg input options that make a URL whose connection delivers nothing for `ms` fail (see `ioTimeoutMs`). */
export function ioTimeoutOptions(path: string, ms: number): string[] {
  const micros = String(Math.max(1, Math.round(ms * 1000)));
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(path)?.[1].toLowerCase();
  if (scheme === 'udp') return ['-timeout', micros];
  if (scheme && ['tcp', 'http', 'https', 'rtmp', 'rtmps'].includes(scheme)) return ['-rw_timeout', micros];
  return [];
}

/**
 * Why an input gave no frames, said by its cause: an empty standard input, a file with no video
 * stream (an audio file: --kind audio), a --start past the end (with the file's duration), a
 * --start/--duration window that holds no frame; else ffmpeg's own words.
 */
async function decodeFailure(
  path: string,
  src: Input,
  opts: VideoFrameOptions,
  failure: FfmpegFailure | null,
  container: Promise<ContainerInfo> | undefined,
): Promise<EngramError> {
  const cause = failure ? { cause: failure.err } : {};
  const bytes = src.stdin?.bytes();
  if (bytes === 0) {
    return new EngramError('E_INPUT_EMPTY', `standard input was empty (0 bytes): nothing was piped into engram memorize -; pipe a video into it, ${PIPE_EXAMPLE}`, cause);
  }
  const info = src.file ? await (container ?? probeContainer(path)) : undefined;
  const lack = info && missingStream(src.label, info, 'video');
  if (lack) return new EngramError('E_INPUT_INVALID', `${lack}; ${memorizeAs(fileKindOf(info))}`, cause);
  if (src.stdin && failure && /does not contain any stream/i.test(failure.detail)) {
    return new EngramError('E_INPUT_INVALID',
      `standard input holds no video stream (${bytes} bytes read; ffmpeg: ${failure.detail.split('\n').pop()}); pipe a video into it, ${PIPE_EXAMPLE}. ` +
      'Audio is read from files only: save it to a file and memorize that with --kind audio', cause);
  }
  if (failure) {
    const what = src.stdin ? `standard input (${bytes} bytes read)` : src.label;
    const fix = src.stdin ? `Check that what is piped in is a video, ${PIPE_EXAMPLE}.` : 'Check that it is a readable video.';
    return new EngramError('E_FFMPEG', `ffmpeg could not decode ${what}:\n${failure.detail}\n${fix}`, cause);
  }
  if (opts.start !== undefined) {
    const length = info?.duration;
    if (length === undefined) {
      return new EngramError('E_INPUT_EMPTY',
        `no frames decoded from ${src.label} after --start ${secs(opts.start)}: the input is probably shorter than that; lower --start (or drop it to read from the beginning)`);
    }
    if (opts.start >= length) {
      return new EngramError('E_INPUT_EMPTY',
        `--start ${secs(opts.start)} is past the end of ${src.label}, which is ${secs(length)} long: no frames to memorize; ` +
        `pass a --start below ${secs(length)} (or drop --start to read from the beginning)`);
    }
    const fps = opts.fps ?? info?.fps;
    const rate = `${secs(length)} long${fps ? `, ${+fps.toFixed(3)} fps: a frame every ${secs(1 / fps)}` : ''}`;
    if (opts.duration === undefined) {
      const last = fps ? Math.max(0, length - 1 / fps) : undefined;
      return new EngramError('E_INPUT_EMPTY',
        `--start ${secs(opts.start)} is past the last frame of ${src.label} (${rate}): no frames to memorize; ` +
        `pass an earlier --start${last !== undefined ? ` (below ${secs(last)})` : ''}, or drop --start to read from the beginning`);
    }
    return new EngramError('E_INPUT_EMPTY',
      `--start ${secs(opts.start)} with --duration ${secs(opts.duration)} selects no frame of ${src.label} (${rate}); ` +
      `pass a longer --duration${fps ? ` (at least ${secs(1 / fps)})` : ''} or an earlier --start`);
  }
  if (opts.duration !== undefined) {
    return new EngramError('E_INPUT_EMPTY', `--duration ${secs(opts.duration)} selects no frame of ${src.label}; pass a longer --duration`);
  }
  return new EngramError('E_INPUT_EMPTY', `no frames decoded from ${src.label}; check that it is a video with at least one frame (ffmpeg -i ${src.file ? path : 'FILE'} lists its streams)`);
}

/** The same frames as an Observable. Unsubscribing kills ffmpeg. */
export function videoFrames$(path: string, opts: VideoFrameOptions): Observable<Frame> {
  return new Observable<Frame>((subscriber) => {
    let it: AsyncGenerator<Frame>;
    try {
      it = videoFrames(path, opts);
    } catch (e) {
      subscriber.error(e);
      return;
    }
    let stopped = false;
    (async () => {
      try {
        for await (const f of it) {
          if (stopped) return;
          subscriber.next(f);
        }
        subscriber.complete();
      } catch (e) {
        if (!stopped) subscriber.error(e);
      }
    })();
    return () => {
      stopped = true;
      void it.return(undefined);
    };
  });
}

/** All frames of `path` in memory; for short clips and tests. */
export function readVideoFrames(path: string, opts: VideoFrameOptions): Promise<Frame[]> {
  return lastValueFrom(videoFrames$(path, opts).pipe(toArray()));
}

/**
 * The frames a container promises for these options: its duration (less --start, at most --duration)
 * times the frame rate (--fps, else the stream's), at most --frames. Undefined when the container
 * gives no duration or rate.
 */
export function expectedFrames(info: ContainerInfo, opts: Pick<VideoFrameOptions, 'fps' | 'start' | 'duration' | 'frames'>): DecodeReport['expected'] {
  const fps = opts.fps ?? info.fps;
  if (info.duration === undefined || fps === undefined) return undefined;
  let seconds = Math.max(0, info.duration - (opts.start ?? 0));
  if (opts.duration !== undefined) seconds = Math.min(seconds, opts.duration);
  const frames = Math.round(seconds * fps);
  const secs = `${+seconds.toFixed(3)} s`;
  const from = `the container's duration ${+info.duration.toFixed(3)} s` +
    (opts.start !== undefined || opts.duration !== undefined ? ` (${secs} after --start/--duration)` : '') +
    ` × ${+fps.toFixed(3)} fps${opts.fps !== undefined ? ' (--fps)' : ''}`;
  if (opts.frames !== undefined && opts.frames < frames) return { frames: opts.frames, from: `--frames ${opts.frames} (the container has ~${frames})` };
  return { frames, from };
}

/**
 * Whether `r` is a partial decode: fewer frames than expected, beyond rounding of duration × fps
 * (1 frame, or 2% of the expectation when that is more).
 */
export function partialDecode(r: DecodeReport): boolean {
  if (!r.expected) return false;
  return r.expected.frames - r.framesDecoded > Math.max(1, 0.02 * r.expected.frames);
}

/** ffmpeg's error lines (it runs at -loglevel error), without the "[h264 @ 0x…]" addresses, distinct, at most `max`. */
export function decodeErrors(stderr: string, max = 5): string[] {
  const lines = stderr.split(/\r?\n/).map((l) => l.replace(/ @ 0x[0-9a-f]+\]/i, ']').trim().replace(/\.$/, '')).filter(Boolean);
  return [...new Set(lines)].slice(0, max);
}

/** The checks `videoFrames` makes of its size and rate options (E_BAD_ARGUMENT), for callers that want them up front. */
export function checkOptions(path: string, opts: VideoFrameOptions): void {
  const positiveInt = (v: number | undefined) => v === undefined || (Number.isInteger(v) && v > 0);
  if (!positiveInt(opts.width) || !positiveInt(opts.height) || !positiveInt(opts.frames)) {
    throw new EngramError(
      'E_BAD_ARGUMENT',
      `cannot decode ${path} at ${opts.width}x${opts.height}${opts.frames !== undefined ? `, ${opts.frames} frames` : ''}: width, height and frames must be positive integers`,
    );
  }
  if (opts.fps !== undefined && !(opts.fps > 0)) {
    throw new EngramError('E_BAD_ARGUMENT', `cannot decode ${path} at fps ${opts.fps}: fps must be a positive number`);
  }
}
