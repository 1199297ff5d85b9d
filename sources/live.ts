/**
 * Live inputs, ones that may never end: a network stream (reconnected when it drops), a `lavfi:`
 * graph played in real time (like a camera or a microphone), standard input, or a directory that
 * images keep arriving in. Each connection is one decode (`videoFrames`, `audioChunks`); this file
 * only adds the events around them, the stall timer and the backoff between attempts, in one loop
 * that video and audio share. Items are handed on as they arrive, never buffered.
 *
 *   liveVideo$('http://cam:8080/feed', { width: 32, height: 32, gray: true })
 *   --connected(1)--f0--f1--f2--gap(ended, 250 ms)----connected(2)--f3--f4--…
 *
 *   liveAudio$('udp://127.0.0.1:5000', { rate: 16000, chunkSeconds: 0.5 })
 *   --connected(1)--s0--s1--gap(broke, 250 ms; 3100 samples discarded)----connected(2)--s2--…
 *
 *   liveImages$('shots/', { width: 32, height: 32, gray: true })
 *   --connected(1)--a.png--b.png---------c.png---skipped(d.png)----e.png--…   (until unsubscribed)
 */
import { existsSync, statSync } from 'node:fs';
import { Observable } from 'rxjs';
import { EngramError } from '../errors.ts';
import { resolveFfmpeg } from '../media/ffmpeg.ts';
import { audioChunks, checkOptions as checkAudioOptions } from './audio.ts';
import { images$, type ImageSample } from './images.ts';
import type { Sample } from './sample.ts';
import { checkOptions, videoFrames, type Frame } from './video.ts';

/** One item of the stream: a video frame, an audio chunk or an image. */
export type LiveFrameItem<F = Frame> = {
  kind: 'frame';
  /** `frame.index` counts across reconnects; `frame.timestamp` is seconds since the source started (wall clock, at arrival). */
  frame: F;
  arrivedMs: number;
};

/** A connection delivered its first item; attempt 1 is the first connection. */
export type ConnectedItem = { kind: 'connected'; attempt: number; at: number };

/**
 * The source dropped or could not connect; the next attempt follows after `retryInMs`. The gap that
 * uses up `maxAttempts` has `retryInMs` 0: the observable errors right after it.
 */
export type GapItem = {
  kind: 'gap';
  reason: string;
  attempt: number;
  retryInMs: number;
  at: number;
  /** Audio: the samples of the incomplete chunk the drop cut off, discarded (the reason says so too); absent when there were none. */
  discardedSamples?: number;
};

/** What `liveVideo$` and `liveAudio$` emit. */
export type LiveItem<F = Frame> = LiveFrameItem<F> | ConnectedItem | GapItem;

/**
 * A new image in a watched directory that could not be decoded (damaged, not an image after all,
 * removed before it was read): a warning, the stream goes on. `reason` is the error's message.
 */
export type SkippedItem = { kind: 'skipped'; path: string; code: string; reason: string; at: number };

/** What `liveImages$` emits: a directory never drops, so it has no gaps; an unreadable image is `skipped`. */
export type LiveImageItem = LiveFrameItem<ImageSample> | ConnectedItem | SkippedItem;

/** How a live stream is kept up: reconnection, the stall timer, the clock. Shared by video and audio. */
export interface LiveOptions {
  reconnect?: {
    /** The first wait after a drop or failed attempt (default 250 ms). */
    firstMs?: number;
    /** The longest wait (default 8000 ms). */
    maxMs?: number;
    /** Each failed attempt in a row multiplies the wait by this (default 2). */
    factor?: number;
    /** Give up (E_INPUT_UNREADABLE) after this many failed attempts in a row (default Infinity). */
    maxAttempts?: number;
  };
  /** No data for this long after connecting or since the last data: the source is taken as dropped (default 5000). */
  stallMs?: number;
  /** The clock for `at`, `arrivedMs` and timestamps (default Date.now). */
  now?: () => number;
}

export interface LiveVideoOptions extends LiveOptions {
  width: number;
  height: number;
  gray: boolean;
  fps?: number;
}

export interface LiveAudioOptions extends LiveOptions {
  /** Sample rate in Hz (default 22050, as audio files). */
  rate?: number;
  /** Seconds of sound a chunk (default 1); a chunk is emitted when its last sample has come. */
  chunkSeconds?: number;
}

export interface LiveImagesOptions {
  width: number;
  height: number;
  gray: boolean;
  /** How often (ms) the directory is rescanned; a new file must keep its size this long before it is read (default 500). */
  pollMs?: number;
  /** The clock for `at`, `arrivedMs` and timestamps (default Date.now). */
  now?: () => number;
}

/** The URL schemes that are reconnected when they drop. */
export const NETWORK_SCHEMES = ['udp', 'tcp', 'http', 'https', 'rtsp', 'rtsps', 'rtmp', 'rtmps', 'srt', 'rtp'];

type LiveKind = 'network' | 'lavfi' | 'stdin';

/** What kind of live input `path` is; anything else (a file) is refused. */
function liveKind(path: string, carries: 'video' | 'audio'): LiveKind {
  if (path === '-') return 'stdin';
  if (path.startsWith('lavfi:')) return 'lavfi';
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(path)?.[1].toLowerCase();
  if (scheme && NETWORK_SCHEMES.includes(scheme)) return 'network';
  if (scheme) {
    throw new EngramError('E_BAD_ARGUMENT',
      `${path} is not a live input: ${scheme}:// is not a stream protocol; a live input is a URL (${NETWORK_SCHEMES.map((s) => `${s}://`).join(', ')}), lavfi:GRAPH or - (standard input)`);
  }
  const pipe = carries === 'video' ? `ffmpeg -re -i ${path} -f nut -` : `ffmpeg -re -i ${path} -f wav -`;
  const graph = carries === 'video' ? `lavfi:movie=${path}` : `lavfi:amovie=${path}`;
  throw new EngramError('E_BAD_ARGUMENT',
    `${path} is a file, not a live input: memorize it without --live, or play it live with ${graph} ` +
    `(or pipe it in real time: ${pipe} | engram memorize --live -)`);
}

const secs = (ms: number) => `${+(ms / 1000).toFixed(3)} s`;

function checkLiveOptions(path: string, o: LiveOptions): Required<NonNullable<LiveOptions['reconnect']>> & { stallMs: number } {
  const r = { firstMs: 250, factor: 2, maxAttempts: Infinity, ...o.reconnect, maxMs: o.reconnect?.maxMs ?? Math.max(8000, o.reconnect?.firstMs ?? 0) };
  const stallMs = o.stallMs ?? 5000;
  const bad = (what: string) => new EngramError('E_BAD_ARGUMENT', `cannot play ${path} live: ${what}`);
  if (!(r.firstMs >= 0) || !(r.maxMs >= r.firstMs)) throw bad(`reconnect firstMs ${r.firstMs} and maxMs ${r.maxMs} must be numbers with 0 <= firstMs <= maxMs`);
  if (!(r.factor >= 1)) throw bad(`reconnect factor ${r.factor} must be at least 1`);
  if (!(r.maxAttempts >= 1) || (r.maxAttempts !== Infinity && !Number.isInteger(r.maxAttempts))) throw bad(`reconnect maxAttempts ${r.maxAttempts} must be a positive integer (or Infinity)`);
  if (!(stallMs > 0)) throw bad(`stallMs ${stallMs} must be a positive number`);
  return { ...r, stallMs };
}

/** ffmpeg's last words in a decode failure (the line before "Check that …" in E_FFMPEG's message). */
function ffmpegLastLine(e: EngramError): string {
  const lines = e.message.split('\n');
  return (lines.length >= 3 ? lines[lines.length - 2] : lines[lines.length - 1]).trim();
}

/** Wait `ms`, or less when `signal` aborts (the timer is cleared then). */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * Frames from a live input, with `connected` and `gap` events around them. Network inputs reconnect
 * with exponential backoff; `lavfi:` (played with `-re`) and `-` complete when they end. A file is
 * refused (E_BAD_ARGUMENT). Unsubscribing kills ffmpeg at once and cancels a pending reconnect.
 */
export function liveVideo$(path: string, o: LiveVideoOptions): Observable<LiveItem<Frame>> {
  const decode = { width: o.width, height: o.height, gray: o.gray, ...(o.fps !== undefined ? { fps: o.fps } : {}) };
  return live$(path, o, {
    carries: 'video',
    unit: 'frame',
    check: () => checkOptions(path, decode),
    connect: (c) => videoFrames(path, { ...decode, realtime: c.realtime, signal: c.signal, ...c.network }),
  });
}

/**
 * Mono chunks of `rate`·`chunkSeconds` samples (`frame.data`, a Float32Array in [−1, 1]) from a live
 * input, with the same `connected` and `gap` events as `liveVideo$`, on the same loop: a network
 * input reconnects with exponential backoff, `lavfi:` (e.g. `lavfi:sine=frequency=440`, played with
 * `-re`) and `-` (any audio ffmpeg can read from a pipe, e.g. a WAV stream) complete when they end.
 * A file is refused (E_BAD_ARGUMENT). `frame.index` counts chunks across reconnects.
 *
 * A chunk is emitted when its last sample has come; a drop that cuts one short discards it, said in
 * the gap's `discardedSamples` and its reason (the next connection starts a fresh chunk: the sound
 * of the gap is missing, not spliced). The partial chunk at the end of a `lavfi:` or `-` input is
 * discarded the same way, silently. The stall timer hears every byte, so a chunk longer than
 * `stallMs` does not count as a stall. `frame.timestamp` is when the chunk's last sample came.
 * Standard input starts at once for most formats; a WAV starts once its first 64 KB have come
 * (ffmpeg's WAV reader looks that far ahead: 2 s of 16 kHz 16-bit mono), NUT at once.
 *
 *   liveAudio$('lavfi:sine=frequency=440', { rate: 8000, chunkSeconds: 0.25 })
 *   --connected(1)--s0--s1--s2--…           (one every 0.25 s)
 */
export function liveAudio$(path: string, o: LiveAudioOptions): Observable<LiveItem<Sample>> {
  const decode = { ...(o.rate !== undefined ? { rate: o.rate } : {}), ...(o.chunkSeconds !== undefined ? { chunkSeconds: o.chunkSeconds } : {}) };
  return live$(path, o, {
    carries: 'audio',
    unit: 'chunk',
    check: () => checkAudioOptions(path, decode),
    connect: (c) => audioChunks(path, { ...decode, realtime: c.realtime, signal: c.signal, ...c.network, onData: c.alive, onPartial: c.discarded }),
  });
}

/** How the shared loop decodes one kind of live input. */
interface LiveDecoder<F extends { index: number; timestamp: number }> {
  /** What the stream carries, and what one item of it is called, for reasons and messages. */
  carries: 'video' | 'audio';
  unit: 'frame' | 'chunk';
  /** The decode options' checks (E_BAD_ARGUMENT), made before the first attempt. */
  check: () => unknown;
  /**
   * One connection's items. `alive` may be called whenever data comes (it rearms the stall timer,
   * as each item does); `discarded` hears the samples of an incomplete item the connection's end
   * left (audio).
   */
  connect: (c: {
    realtime: boolean;
    signal: AbortSignal;
    network: { ioTimeoutMs?: number; analyzeMs?: number };
    alive: () => void;
    discarded: (samples: number) => void;
  }) => AsyncIterable<F>;
}

/** The loop around a decoder: connect, hand items on, and on a drop wait and connect again. */
function live$<F extends { index: number; timestamp: number }>(path: string, o: LiveOptions, decoder: LiveDecoder<F>): Observable<LiveItem<F>> {
  return new Observable<LiveItem<F>>((subscriber) => {
    const stop = new AbortController();
    run(path, o, decoder, stop.signal, (item) => subscriber.next(item)).then(
      () => !stop.signal.aborted && subscriber.complete(),
      (e: unknown) => !stop.signal.aborted && subscriber.error(e),
    );
    return () => stop.abort();
  });
}

async function run<F extends { index: number; timestamp: number }>(
  path: string,
  o: LiveOptions,
  decoder: LiveDecoder<F>,
  stop: AbortSignal,
  emit: (item: LiveItem<F>) => void,
): Promise<void> {
  const kind = liveKind(path, decoder.carries);
  const r = checkLiveOptions(path, o);
  decoder.check();
  resolveFfmpeg(); // ffmpeg missing is an error, not a connection to retry
  const { unit } = decoder;
  // A dead connection fails in ffmpeg too where it can. The first item must come within stallMs, so
  // ffmpeg studies the stream for 1 s (a quarter of stallMs when that is shorter) before decoding: its
  // default, 5 s, would use up all of the default stallMs, and a live source wants its items soon.
  const network = kind === 'network' ? { ioTimeoutMs: r.stallMs, analyzeMs: Math.min(1000, r.stallMs / 4) } : {};
  const now = o.now ?? Date.now;
  const t0 = now();
  let index = 0;
  let attempt = 0;
  let failures = 0; // failed attempts in a row
  let waits = 0; // gaps since the last connection that delivered items: the backoff's exponent
  while (!stop.aborted) {
    attempt++;
    const conn = new AbortController();
    const hangUp = () => conn.abort();
    stop.addEventListener('abort', hangUp, { once: true });
    let stalled = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const arm = () => {
      if (kind !== 'network' || conn.signal.aborted) return;
      clearTimeout(timer);
      timer = setTimeout(() => {
        stalled = true;
        conn.abort();
      }, r.stallMs);
    };
    let items = 0;
    let discarded = 0;
    let reason: string;
    try {
      arm();
      const source = decoder.connect({ realtime: kind === 'lavfi', signal: conn.signal, network, alive: arm, discarded: (n) => (discarded = n) });
      for await (const item of source) {
        if (conn.signal.aborted) break;
        arm();
        const at = now();
        if (items++ === 0) emit({ kind: 'connected', attempt, at });
        item.index = index++;
        item.timestamp = (at - t0) / 1000;
        emit({ kind: 'frame', frame: item, arrivedMs: at });
        if (conn.signal.aborted) break;
      }
      reason = stalled ? `no data for ${secs(r.stallMs)}` : items ? 'the stream ended' : `the stream ended before its first ${unit}`;
    } catch (e) {
      if (kind !== 'network' || !(e instanceof EngramError) || !(e.code === 'E_FFMPEG' || e.code === 'E_INPUT_EMPTY')) throw e;
      const last = ffmpegLastLine(e);
      reason = e.code === 'E_INPUT_EMPTY' ? `the stream ended before its first ${unit}` : items ? `the stream broke: ${last}` : `could not connect: ${last}`;
    } finally {
      clearTimeout(timer);
      stop.removeEventListener('abort', hangUp);
    }
    if (stop.aborted || kind !== 'network') return;

    if (items > 0) {
      failures = 0;
      waits = 0;
    } else {
      failures++;
    }
    const at = now();
    const partial = discarded > 0 ? { discardedSamples: discarded } : {};
    if (discarded > 0) reason += `; the ${unit} it cut short (${discarded} samples) was discarded`;
    if (failures >= r.maxAttempts) {
      emit({ kind: 'gap', reason, attempt, retryInMs: 0, at, ...partial });
      throw new EngramError('E_INPUT_UNREADABLE',
        `could not read the live stream ${path}: ${failures} attempt${failures === 1 ? '' : 's'} in a row failed (the last: ${reason}); ` +
        `check that the server is up and sends ${decoder.carries} to this address (ffmpeg -i ${path} shows what it sends), that host and port are right and no firewall is in the way`);
    }
    const retryInMs = Math.min(r.maxMs, r.firstMs * r.factor ** waits++);
    emit({ kind: 'gap', reason, attempt, retryInMs, at, ...partial });
    await sleep(retryInMs, stop);
  }
}

/**
 * Images from a directory that keeps growing (or a glob in one, e.g. `shots/*.png`): the ones
 * already there, in natural name order, then each new one once it is fully written (its size kept
 * for `pollMs`), decoded and resized to width x height. It is `images$`'s watch mode
 * (`memorize --watch`) with the items of the live streams: a `connected` before the first image,
 * then a `frame` per image (`frame.index` counts images, `frame.timestamp` is seconds since the
 * subscription at arrival, `frame.path` names it). An image that cannot be decoded is a `skipped`
 * item, a warning: the stream goes on. It never ends on its own; a directory that is missing is
 * E_INPUT_MISSING, a file E_BAD_ARGUMENT. Unsubscribing stops the poll timer, the directory
 * watcher and a running ffmpeg.
 *
 *   liveImages$('shots/', { width: 32, height: 32, gray: true, pollMs: 200 })
 *   --connected(1)--a.png--b.png------c.png (written later)---skipped(d.png)---e.png--…
 */
export function liveImages$(dir: string, o: LiveImagesOptions): Observable<LiveImageItem> {
  return new Observable<LiveImageItem>((subscriber) => {
    if (existsSync(dir) && !statSync(dir).isDirectory()) {
      subscriber.error(new EngramError('E_BAD_ARGUMENT',
        `${dir} is a file, not a live input: a live image input is a directory that images are added to (or a glob such as dir/*.png); memorize the image without --live`));
      return;
    }
    const now = o.now ?? Date.now;
    const t0 = now();
    let connected = false;
    const onUnreadable = (path: string, e: EngramError) => subscriber.next({ kind: 'skipped', path, code: e.code, reason: e.message, at: now() });
    const watch = { width: o.width, height: o.height, gray: o.gray, watch: true, onUnreadable, ...(o.pollMs !== undefined ? { pollMs: o.pollMs } : {}) };
    const sub = images$(dir, watch).subscribe({
      next: (image) => {
        const at = now();
        if (!connected) {
          connected = true;
          subscriber.next({ kind: 'connected', attempt: 1, at });
        }
        image.timestamp = (at - t0) / 1000;
        subscriber.next({ kind: 'frame', frame: image, arrivedMs: at });
      },
      error: (e: unknown) => subscriber.error(e),
      complete: () => subscriber.complete(), // not in watch mode: the directory is watched until unsubscribed
    });
    return () => sub.unsubscribe();
  });
}
