/**
 * Audio files as a stream of fixed-length mono chunks ("seconds"), samples in [−1, 1].
 *
 * A plain WAV already at the target rate is decoded in-process by wav-decoder. Everything else (mp3,
 * ogg, flac, m4a, extensible-header WAV, WAV at another rate) is transcoded by ffmpeg to 16-bit mono
 * PCM WAV at the target rate first, then decoded the same way: ffmpeg does all resampling and
 * format handling, so there is exactly one decoder of samples in JS.
 *
 *   audioSeconds$('clip.mp3', { rate: 22050, chunkSeconds: 1 })
 *   --s0--s1--s2-|        (each a Float32Array of 22050 samples)
 *
 * An input that may never end (a URL, `lavfi:`, standard input: sources/live.ts) cannot be read
 * whole first. `audioChunks` streams it instead: ffmpeg writes raw mono float32 at the target rate
 * and each chunk is handed on as soon as its last sample has come.
 *
 *   audioChunks('lavfi:sine=frequency=440', { rate: 8000, chunkSeconds: 0.25, realtime: true })
 *   --s0--s1--s2--…         (one every 0.25 s, each 2000 samples)
 */
import { open, readFile, stat } from 'node:fs/promises';
import { endianness } from 'node:os';
import { Observable } from 'rxjs';
import { decode as decodeWavBytes } from 'wav-decoder';
import { EngramError, isEngramError } from '../errors.ts';
import { ffmpegCommand, ffmpegToBuffer, pipeFfmpeg, probeContainer, type FfmpegFailure } from '../media/ffmpeg.ts';
import type { Sample } from './sample.ts';
import { fileKindOf, memorizeAs, missingStream } from './streams.ts';
import { ffmpegInput, ioTimeoutOptions, type Input } from './video.ts';

export type AudioOptions = {
  /** target sample rate in Hz; default 22050 */
  rate?: number;
  /** chunk length in seconds; default 1 */
  chunkSeconds?: number;
  /** what to do with a trailing chunk shorter than chunkSeconds; default 'drop' */
  partial?: 'drop' | 'pad';
  /** stop after this many chunks */
  maxChunks?: number;
  /** called once with the decoding report, before the first chunk is emitted */
  onInfo?: (info: AudioInfo) => void;
  /** Find how long the file says it is (info.expected): a WAV's header, else ffmpeg's report of the container. */
  expectLength?: boolean;
  /**
   * Called while ffmpeg transcodes, at most every `progressMs` (default 1000; never for a decode that
   * ends sooner, nor for a WAV read in-process), with the seconds of sound so far and, when known
   * (expectLength), how many the file says it holds.
   */
  onProgress?: (p: AudioProgress) => void;
  progressMs?: number;
};

/** How far an audio decode has come. */
export type AudioProgress = { seconds: number; expected?: number; elapsedMs: number };

export type AudioInfo = {
  sampleRate: number;
  chunks: number;
  samplesPerChunk: number;
  /** samples of a trailing partial chunk that were dropped ('drop') */
  dropped: number;
  /** zeros appended to complete the trailing partial chunk ('pad') */
  padded: number;
  /** maxChunks stopped reading before the end of the input */
  truncated: boolean;
  decodedVia: 'wav-decoder' | 'ffmpeg';
  /** Seconds of sound decoded (before chunking). */
  decodedSeconds: number;
  /** With expectLength: the seconds the file says it holds (at most maxChunks chunks' worth), and where that came from. */
  expected?: { seconds: number; from: string };
};

/** Chunks of `path`, one per emission. Unsubscribing stops a running ffmpeg. */
export function audioSeconds$(path: string, opts: AudioOptions = {}): Observable<Sample> {
  return new Observable<Sample>((subscriber) => {
    const abort = new AbortController();
    decodeChunks(path, opts, abort.signal).then(
      ({ chunks, info }) => {
        if (abort.signal.aborted) return;
        opts.onInfo?.(info);
        for (const chunk of chunks) {
          if (subscriber.closed) return;
          subscriber.next(chunk);
        }
        subscriber.complete();
      },
      (err) => subscriber.error(err),
    );
    return () => abort.abort();
  });
}

/** All chunks of `path` plus the report of how it was decoded and what happened to the tail. */
export function readAudioSeconds(path: string, opts: AudioOptions = {}): Promise<{ chunks: Sample[]; info: AudioInfo }> {
  return decodeChunks(path, opts);
}

async function decodeChunks(path: string, opts: AudioOptions, signal?: AbortSignal): Promise<{ chunks: Sample[]; info: AudioInfo }> {
  const { rate, chunkSeconds, partial, maxChunks } = checkOptions(path, opts);
  const samplesPerChunk = Math.round(rate * chunkSeconds);
  const head = await readHead(path);
  const format = parseWavFormat(head);
  // a WAV says its length in its header; anything else, in ffmpeg's report of the container (asked alongside)
  const declared = opts.expectLength ? declaredSeconds(path, format) : undefined;
  const maxSeconds = maxChunks === undefined ? undefined : maxChunks * chunkSeconds;
  let promised = maxSeconds;
  void declared?.then((d) => (promised = d ? Math.min(d.seconds, maxSeconds ?? Infinity) : promised));
  const t0 = Date.now();
  let last = t0;
  // ffmpeg writes 16-bit mono PCM after a 44-byte header: 2 bytes a sample
  const progress = opts.onProgress && ((bytes: number) => {
    const now = Date.now();
    if (now - last < (opts.progressMs ?? 1000)) return;
    last = now;
    opts.onProgress!({ seconds: Math.max(0, bytes - 44) / 2 / rate, ...(promised !== undefined ? { expected: promised } : {}), elapsedMs: now - t0 });
  });
  const { mono, decodedVia } = await decodeMono(path, head, format, rate, maxSeconds, signal, progress || undefined);

  if (mono.length === 0) {
    throw new EngramError('E_INPUT_EMPTY', `${path} has no samples; choose an audio file that contains sound`);
  }
  const full = Math.floor(mono.length / samplesPerChunk);
  const rest = mono.length - full * samplesPerChunk;
  const truncated = maxChunks !== undefined && (full > maxChunks || (full === maxChunks && rest > 0));
  const withTail = !truncated && rest > 0 && partial === 'pad';
  const count = Math.min(full + (withTail ? 1 : 0), maxChunks ?? Infinity);
  if (count === 0) {
    throw new EngramError(
      'E_INPUT_EMPTY',
      `${path} is ${(mono.length / rate).toFixed(3)} s long, shorter than one ${chunkSeconds} s chunk; pass --partial pad or a shorter --chunk-seconds`,
    );
  }

  const chunks: Sample[] = [];
  for (let index = 0; index < count; index++) {
    const start = index * samplesPerChunk;
    const data = new Float32Array(samplesPerChunk); // a copy (zero-filled past the end when padding)
    data.set(mono.subarray(start, start + samplesPerChunk));
    chunks.push({ index, timestamp: start / rate, data });
  }
  const info: AudioInfo = {
    sampleRate: rate,
    chunks: count,
    samplesPerChunk,
    dropped: !truncated && rest > 0 && !withTail ? rest : 0,
    padded: withTail ? samplesPerChunk - rest : 0,
    truncated,
    decodedVia,
    decodedSeconds: mono.length / rate,
  };
  const said = await declared;
  if (said) {
    const cap = maxChunks === undefined ? Infinity : maxChunks * chunkSeconds;
    info.expected = said.seconds > cap ? { seconds: cap, from: `--frames ${maxChunks} chunks of ${chunkSeconds} s (the file has ${+said.seconds.toFixed(3)} s)` } : said;
  }
  return { chunks, info };
}

/** Mono samples of `path` at `rate`: natively when the WAV allows it, else through ffmpeg. */
async function decodeMono(
  path: string,
  head: Buffer,
  format: WavFormat | undefined,
  rate: number,
  maxSeconds: number | undefined,
  signal: AbortSignal | undefined,
  onBytes?: (total: number) => void,
): Promise<{ mono: Float32Array; decodedVia: AudioInfo['decodedVia'] }> {
  if (format && nativelyDecodable(format) && format.sampleRate === rate) {
    const audio = decodeWav(await readFile(path));
    if (audio) return { mono: mixToMono(audio.channelData), decodedVia: 'wav-decoder' };
    // wav-decoder choked on something the header walk did not catch: let ffmpeg try.
  }
  const audio = decodeWav(await transcode(path, rate, maxSeconds, signal, onBytes));
  if (!audio) throw new EngramError('E_FFMPEG', `ffmpeg's PCM output for ${path} could not be decoded; check the ffmpeg build`);
  return { mono: mixToMono(audio.channelData), decodedVia: 'ffmpeg' };
}

/** The first bytes of `path` (enough for a WAV header), turning fs failures into clear errors. */
async function readHead(path: string): Promise<Buffer> {
  try {
    const st = await stat(path);
    if (st.isDirectory()) throw new EngramError('E_BAD_ARGUMENT', `${path} is a directory; pass an audio file`);
    if (st.size === 0) throw new EngramError('E_INPUT_EMPTY', `${path} is empty (0 bytes); choose an audio file that contains sound`);
    const fh = await open(path, 'r');
    try {
      const buf = Buffer.alloc(Math.min(st.size, 64 * 1024));
      const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
      return buf.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  } catch (e) {
    if (isEngramError(e)) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new EngramError('E_INPUT_MISSING', `audio file not found: ${path}; check the path and try again`, { cause: e });
    if (code === 'EACCES' || code === 'EPERM') {
      throw new EngramError('E_INPUT_UNREADABLE', `cannot read ${path}: permission denied; fix its permissions (e.g. chmod +r) or copy it somewhere readable`, { cause: e });
    }
    throw new EngramError('E_INPUT_UNREADABLE', `cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
}

/** How long `path` says it is: a WAV's data size over its byte rate, else the container's duration per ffmpeg; undefined when neither says. */
async function declaredSeconds(path: string, format: WavFormat | undefined): Promise<{ seconds: number; from: string } | undefined> {
  // 0 and 0xFFFFFFFF are what streaming writers put there when they could not go back to fill it in
  if (format?.dataBytes && format.dataBytes !== 0xffffffff && format.blockAlign > 0 && format.sampleRate > 0) {
    return { seconds: format.dataBytes / format.blockAlign / format.sampleRate, from: `the WAV header's data size (${format.dataBytes} bytes)` };
  }
  if (format) return undefined; // ffmpeg would only estimate a WAV's duration from its size, which proves nothing
  const { duration } = await probeContainer(path);
  return duration === undefined ? undefined : { seconds: duration, from: `the container's duration ${+duration.toFixed(3)} s` };
}

type WavFormat = { formatTag: number; channels: number; sampleRate: number; blockAlign: number; bitsPerSample: number; dataBytes?: number };

/**
 * The fmt chunk of a RIFF/WAVE file (recognised by content, not extension), or undefined when `head`
 * is not one. Returns undefined too for layouts wav-decoder would misread: it ignores RIFF's pad
 * byte after odd-sized chunks, and needs fmt before data.
 */
function parseWavFormat(head: Buffer): WavFormat | undefined {
  if (head.length < 12 || head.toString('latin1', 0, 4) !== 'RIFF' || head.toString('latin1', 8, 12) !== 'WAVE') return undefined;
  let format: WavFormat | undefined;
  for (let pos = 12; pos + 8 <= head.length; ) {
    const id = head.toString('latin1', pos, pos + 4);
    const size = head.readUInt32LE(pos + 4);
    if (id === 'data') return format && { ...format, dataBytes: size };
    if (size % 2 === 1) return undefined;
    if (id === 'fmt ' && size >= 16 && pos + 24 <= head.length) {
      format = {
        formatTag: head.readUInt16LE(pos + 8),
        channels: head.readUInt16LE(pos + 10),
        sampleRate: head.readUInt32LE(pos + 12),
        blockAlign: head.readUInt16LE(pos + 20),
        bitsPerSample: head.readUInt16LE(pos + 22),
      };
    }
    pos += 8 + size;
  }
  return undefined;
}

/** What wav-decoder reads correctly: integer PCM 8/16/24/32 or float 32/64, consistently framed. */
function nativelyDecodable(f: WavFormat): boolean {
  const depthOk = f.formatTag === 1 ? [8, 16, 24, 32].includes(f.bitsPerSample) : f.formatTag === 3 && [32, 64].includes(f.bitsPerSample);
  return depthOk && f.channels > 0 && f.blockAlign === (f.channels * f.bitsPerSample) / 8;
}

function decodeWav(bytes: Buffer): { channelData: Float32Array[] } | undefined {
  try {
    return decodeWavBytes.sync(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
  } catch {
    return undefined;
  }
}

/** Mean of the channels: keeps [−1, 1] and does not favour either side of a stereo mix. */
function mixToMono(channels: Float32Array[]): Float32Array {
  if (channels.length === 1) return channels[0];
  const out = new Float32Array(channels[0]?.length ?? 0);
  for (const ch of channels) for (let i = 0; i < out.length; i++) out[i] += ch[i];
  for (let i = 0; i < out.length; i++) out[i] /= channels.length;
  return out;
}

/**
 * ffmpeg → 16-bit mono PCM WAV at `rate` on a pipe; returns the bytes. ffmpeg cannot seek back in a
 * pipe to write the RIFF and data sizes, so they are filled in here.
 */
async function transcode(path: string, rate: number, maxSeconds: number | undefined, signal: AbortSignal | undefined, onBytes?: (total: number) => void): Promise<Buffer> {
  // Metadata off and bitexact: no LIST/INFO chunk in the output for wav-decoder to trip over.
  const cmd = ffmpegCommand(path)
    .inputOptions(['-nostdin', '-hide_banner', '-loglevel', 'error'])
    .outputOptions(['-vn', '-sn', '-dn', '-map_metadata', '-1', '-fflags', '+bitexact'])
    .outputOptions(['-ac', '1', '-ar', String(rate), '-c:a', 'pcm_s16le', '-f', 'wav', '-y'])
    // A second of slack so rounding in ffmpeg's cut can never cost the last requested chunk.
    .outputOptions(maxSeconds === undefined ? [] : ['-t', String(maxSeconds + 1)]);
  const kill = () => cmd.kill('SIGKILL');
  signal?.addEventListener('abort', kill, { once: true });
  try {
    return sealWavSizes(await ffmpegToBuffer(cmd, `decoding ${path} as audio`, onBytes));
  } catch (e) {
    if (isEngramError(e) && e.code === 'E_FFMPEG' && !signal?.aborted) {
      // a video or an image read as audio: say what it is, not ffmpeg's "does not contain any stream"
      const info = await probeContainer(path);
      const lack = missingStream(path, info, 'audio');
      if (lack) throw new EngramError('E_INPUT_INVALID', `${lack}; ${memorizeAs(fileKindOf(info))}`, { cause: e });
      throw new EngramError('E_FFMPEG', `${e.message}\nCheck that ${path} is a complete audio file (mp3, ogg, flac, wav, …).`, { cause: e });
    }
    throw e;
  } finally {
    signal?.removeEventListener('abort', kill);
  }
}

/** The RIFF size and the data chunk's size of a whole WAV held in `wav` (data last), in place. */
function sealWavSizes(wav: Buffer): Buffer {
  if (wav.length < 12 || wav.toString('latin1', 0, 4) !== 'RIFF') return wav;
  wav.writeUInt32LE(wav.length - 8, 4);
  for (let pos = 12; pos + 8 <= wav.length; pos += 8 + wav.readUInt32LE(pos + 4)) {
    if (wav.toString('latin1', pos, pos + 4) === 'data') {
      wav.writeUInt32LE(wav.length - pos - 8, pos + 4);
      break;
    }
  }
  return wav;
}

/** Options of `audioChunks`, a streaming decode of any input ffmpeg can open. */
export type AudioChunkOptions = Pick<AudioOptions, 'rate' | 'chunkSeconds'> & {
  /** Read the input at its own rate (ffmpeg's `-re`): a `lavfi:` graph then plays like a microphone. */
  realtime?: boolean;
  /** URLs only: fail when the connection delivers nothing for this long (as videoFrames' `ioTimeoutMs`). */
  ioTimeoutMs?: number;
  /** At most this much of the input is read to learn its streams (ffmpeg's `-analyzeduration`). */
  analyzeMs?: number;
  /** Aborting kills ffmpeg at once and ends the chunks quietly. */
  signal?: AbortSignal;
  /** Called whenever ffmpeg's output moves, between chunks too (a stall timer listens). */
  onData?: () => void;
  /**
   * Called once when the decode ends (the input ended or broke, or the consumer stopped) with the
   * samples of the incomplete chunk it leaves, which is discarded; not called when there is none.
   */
  onPartial?: (samples: number) => void;
};

/** ffmpeg's float32 in this machine's byte order, so its bytes are a Float32Array as they come. */
const NATIVE_F32 = endianness() === 'LE' ? 'f32le' : 'f32be';

/** How to pipe audio into engram, for messages about standard input. */
const AUDIO_PIPE_EXAMPLE = 'e.g. ffmpeg -re -i talk.mp3 -f wav - | engram …';

/**
 * Mono chunks of `rate`·`chunkSeconds` samples in [−1, 1] (ffmpeg's float output, clamped), decoded
 * as the input comes and pulled one at a time (the pipe's backpressure stops ffmpeg). `timestamp`
 * is the chunk's start in the input's time. Only complete chunks come out: the samples of a last,
 * incomplete one are reported to `onPartial` and dropped. No chunk at all is E_INPUT_EMPTY, ffmpeg
 * failing E_FFMPEG ("ffmpeg could not decode …:" then its words, then what to check). Breaking out
 * of the loop kills ffmpeg.
 */
export async function* audioChunks(path: string, opts: AudioChunkOptions = {}): AsyncGenerator<Sample> {
  const { rate, chunkSeconds } = checkOptions(path, opts);
  if (opts.signal?.aborted) return;
  const src = ffmpegInput(path, 'audio');
  const samplesPerChunk = Math.round(rate * chunkSeconds);
  const chunkBytes = samplesPerChunk * 4;
  const cmd = ffmpegCommand(src.input)
    .inputOptions([
      ...src.options, '-hide_banner', '-loglevel', 'error',
      // Standard input is read as it comes: ffmpeg would otherwise read up to 1 MB before the first
      // sample (it probes a WAV's PCM for a hidden mp3 or DTS stream), 1 minute of 8 kHz 16-bit mono.
      // One packet tells it enough for every format tried (wav, mp3, ogg, flac, aac, mpegts, nut).
      ...(src.stdin ? ['-probesize', '32'] : []),
      ...(opts.realtime ? ['-re'] : []),
      ...(opts.ioTimeoutMs !== undefined ? ioTimeoutOptions(path, opts.ioTimeoutMs) : []),
      ...(opts.analyzeMs !== undefined ? ['-analyzeduration', String(Math.max(1, Math.round(opts.analyzeMs * 1000)))] : []),
    ])
    .outputOptions(['-vn', '-sn', '-dn', '-ac', '1', '-ar', String(rate), '-c:a', `pcm_${NATIVE_F32}`, '-f', NATIVE_F32]);

  // The process handling is pipeFfmpeg's (shared with videoFrames): the process can exit before
  // its last bytes have come through the pipe (wait for both), and a kill must wait for
  // fluent-ffmpeg to have started it.
  const run = pipeFfmpeg(cmd, { highWaterMark: Math.max(chunkBytes * 2, 1 << 16), signal: opts.signal });

  let data = new Float32Array(samplesPerChunk);
  let bytes = new Uint8Array(data.buffer);
  let filled = 0;
  let index = 0;
  try {
    for await (const chunk of run.out as AsyncIterable<Buffer>) {
      opts.onData?.();
      let offset = 0;
      while (offset < chunk.length) {
        const n = Math.min(chunkBytes - filled, chunk.length - offset);
        chunk.copy(bytes, filled, offset, offset + n);
        filled += n;
        offset += n;
        if (filled === chunkBytes) {
          for (let i = 0; i < samplesPerChunk; i++) data[i] = data[i] > 1 ? 1 : data[i] < -1 ? -1 : data[i];
          const sample: Sample = { index, timestamp: (index * samplesPerChunk) / rate, data };
          index++;
          data = new Float32Array(samplesPerChunk);
          bytes = new Uint8Array(data.buffer);
          filled = 0;
          yield sample;
        }
      }
    }
    if (opts.signal?.aborted) return;
    await run.exited;
    if (run.failure || index === 0) throw chunkFailure(src, chunkSeconds, filled / 4 / rate, run.failure);
  } catch (e) {
    if (!opts.signal?.aborted) throw e;
  } finally {
    run.close();
    src.stdin?.release();
    if (filled >= 4) opts.onPartial?.(Math.floor(filled / 4));
  }
}

/** Why a streaming decode gave no chunk: an empty standard input, ffmpeg's own words, or too little sound. */
function chunkFailure(src: Input, chunkSeconds: number, seconds: number, failure: FfmpegFailure | null): EngramError {
  const cause = failure ? { cause: failure.err } : {};
  const bytes = src.stdin?.bytes();
  if (bytes === 0) {
    return new EngramError('E_INPUT_EMPTY', `standard input was empty (0 bytes): nothing was piped into engram; pipe audio into it, ${AUDIO_PIPE_EXAMPLE}`, cause);
  }
  const what = src.stdin ? `standard input (${bytes} bytes read)` : src.label;
  if (failure) {
    const fix = src.stdin ? `Check that what is piped in is audio, ${AUDIO_PIPE_EXAMPLE}.` : `Check that ${src.label} carries audio (ffmpeg -i ${src.label} lists its streams).`;
    return new EngramError('E_FFMPEG', `ffmpeg could not decode ${what} as audio:\n${failure.detail}\n${fix}`, cause);
  }
  return new EngramError('E_INPUT_EMPTY',
    `${what} ended after ${+seconds.toFixed(3)} s of sound, less than one ${chunkSeconds} s chunk: no chunk to memorize; give it more sound or pass a shorter --chunk-seconds`);
}

/** The checks of rate, chunk length and the other options (E_BAD_ARGUMENT), for callers that want them up front. */
export function checkOptions(path: string, opts: AudioOptions): { rate: number; chunkSeconds: number; partial: 'drop' | 'pad'; maxChunks?: number } {
  const rate = opts.rate ?? 22050;
  const chunkSeconds = opts.chunkSeconds ?? 1;
  const partial = opts.partial ?? 'drop';
  const bad = (what: string) => new EngramError('E_BAD_ARGUMENT', `cannot read ${path}: ${what}`);
  if (!Number.isInteger(rate) || rate < 1 || rate > 768_000) throw bad(`sample rate ${rate} must be a whole number of Hz between 1 and 768000`);
  if (!Number.isFinite(chunkSeconds) || chunkSeconds <= 0) throw bad(`--chunk-seconds ${chunkSeconds} must be a positive number`);
  if (Math.round(rate * chunkSeconds) < 1) throw bad(`--chunk-seconds ${chunkSeconds} is less than one sample at ${rate} Hz; make it longer`);
  if (partial !== 'drop' && partial !== 'pad') throw bad(`--partial ${String(partial)} must be 'drop' or 'pad'`);
  if (opts.maxChunks !== undefined && !(Number.isInteger(opts.maxChunks) && opts.maxChunks > 0)) {
    throw bad(`max chunks ${opts.maxChunks} must be a positive integer`);
  }
  return { rate, chunkSeconds, partial, maxChunks: opts.maxChunks };
}
