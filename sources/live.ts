/**
 * Video frames from a live input, one that may never end: a network stream (reconnected when it
 * drops), a `lavfi:` graph played in real time (like a camera), or standard input. Each connection
 * is one `videoFrames` decode; this file only adds the events around them, the stall timer and the
 * backoff between attempts. Frames are handed on as they arrive, never buffered.
 *
 *   liveVideo$('http://cam:8080/feed', { width: 32, height: 32, gray: true })
 *   --connected(1)--f0--f1--f2--gap(ended, 250 ms)----connected(2)--f3--f4--…
 */
import { Observable } from 'rxjs';
import { EngramError } from '../errors.ts';
import { resolveFfmpeg } from '../media/ffmpeg.ts';
import { checkOptions, videoFrames, type Frame } from './video.ts';

export type LiveItem =
  /** `frame.index` counts across reconnects; `frame.timestamp` is seconds since the source started (wall clock). */
  | { kind: 'frame'; frame: Frame; arrivedMs: number }
  /** A connection delivered its first frame; attempt 1 is the first connection. */
  | { kind: 'connected'; attempt: number; at: number }
  /**
   * The source dropped or could not connect; the next attempt follows after `retryInMs`. The gap that
   * uses up `maxAttempts` has `retryInMs` 0: the observable errors right after it.
   */
  | { kind: 'gap'; reason: string; attempt: number; retryInMs: number; at: number };

export interface LiveVideoOptions {
  width: number;
  height: number;
  gray: boolean;
  fps?: number;
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
  /** No frame for this long after connecting or since the last frame: the source is taken as dropped (default 5000). */
  stallMs?: number;
  /** The clock for `at`, `arrivedMs` and timestamps (default Date.now). */
  now?: () => number;
}

/** The URL schemes that are reconnected when they drop. */
export const NETWORK_SCHEMES = ['udp', 'tcp', 'http', 'https', 'rtsp', 'rtsps', 'rtmp', 'rtmps', 'srt', 'rtp'];

type LiveKind = 'network' | 'lavfi' | 'stdin';

/** What kind of live input `path` is; anything else (a file) is refused. */
function liveKind(path: string): LiveKind {
  if (path === '-') return 'stdin';
  if (path.startsWith('lavfi:')) return 'lavfi';
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(path)?.[1].toLowerCase();
  if (scheme && NETWORK_SCHEMES.includes(scheme)) return 'network';
  if (scheme) {
    throw new EngramError('E_BAD_ARGUMENT',
      `${path} is not a live input: ${scheme}:// is not a stream protocol; a live input is a URL (${NETWORK_SCHEMES.map((s) => `${s}://`).join(', ')}), lavfi:GRAPH or - (standard input)`);
  }
  throw new EngramError('E_BAD_ARGUMENT',
    `${path} is a file, not a live input: memorize it without --live, or play it live with lavfi:movie=${path} ` +
    `(or pipe it in real time: ffmpeg -re -i ${path} -f nut - | engram memorize --live -)`);
}

const secs = (ms: number) => `${+(ms / 1000).toFixed(3)} s`;

function checkLiveOptions(path: string, o: LiveVideoOptions): Required<NonNullable<LiveVideoOptions['reconnect']>> & { stallMs: number } {
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
export function liveVideo$(path: string, o: LiveVideoOptions): Observable<LiveItem> {
  return new Observable<LiveItem>((subscriber) => {
    const stop = new AbortController();
    run(path, o, stop.signal, (item) => subscriber.next(item)).then(
      () => !stop.signal.aborted && subscriber.complete(),
      (e: unknown) => !stop.signal.aborted && subscriber.error(e),
    );
    return () => stop.abort();
  });
}

async function run(path: string, o: LiveVideoOptions, stop: AbortSignal, emit: (item: LiveItem) => void): Promise<void> {
  const kind = liveKind(path);
  const r = checkLiveOptions(path, o);
  const decode = { width: o.width, height: o.height, gray: o.gray, ...(o.fps !== undefined ? { fps: o.fps } : {}) };
  checkOptions(path, decode);
  resolveFfmpeg(); // ffmpeg missing is an error, not a connection to retry
  // A dead connection fails in ffmpeg too where it can. The first frame must come within stallMs, so
  // ffmpeg studies the stream for 1 s (a quarter of stallMs when that is shorter) before decoding: its
  // default, 5 s, would use up all of the default stallMs, and a live source wants its frames soon.
  const network = { ioTimeoutMs: r.stallMs, analyzeMs: Math.min(1000, r.stallMs / 4) };
  const now = o.now ?? Date.now;
  const t0 = now();
  let index = 0;
  let attempt = 0;
  let failures = 0; // failed attempts in a row
  let waits = 0; // gaps since the last connection that delivered frames: the backoff's exponent
  while (!stop.aborted) {
    attempt++;
    const conn = new AbortController();
    const hangUp = () => conn.abort();
    stop.addEventListener('abort', hangUp, { once: true });
    let stalled = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const arm = () => {
      if (kind !== 'network') return;
      clearTimeout(timer);
      timer = setTimeout(() => {
        stalled = true;
        conn.abort();
      }, r.stallMs);
    };
    let frames = 0;
    let reason: string;
    try {
      arm();
      const source = videoFrames(path, { ...decode, realtime: kind === 'lavfi', signal: conn.signal, ...(kind === 'network' ? network : {}) });
      for await (const frame of source) {
        if (conn.signal.aborted) break;
        arm();
        const at = now();
        if (frames++ === 0) emit({ kind: 'connected', attempt, at });
        frame.index = index++;
        frame.timestamp = (at - t0) / 1000;
        emit({ kind: 'frame', frame, arrivedMs: at });
        if (conn.signal.aborted) break;
      }
      reason = stalled ? `no data for ${secs(r.stallMs)}` : frames ? 'the stream ended' : 'the stream ended before its first frame';
    } catch (e) {
      if (kind !== 'network' || !(e instanceof EngramError) || !(e.code === 'E_FFMPEG' || e.code === 'E_INPUT_EMPTY')) throw e;
      const last = ffmpegLastLine(e);
      reason = e.code === 'E_INPUT_EMPTY' ? 'the stream ended before its first frame' : frames ? `the stream broke: ${last}` : `could not connect: ${last}`;
    } finally {
      clearTimeout(timer);
      stop.removeEventListener('abort', hangUp);
    }
    if (stop.aborted || kind !== 'network') return;

    if (frames > 0) {
      failures = 0;
      waits = 0;
    } else {
      failures++;
    }
    const at = now();
    if (failures >= r.maxAttempts) {
      emit({ kind: 'gap', reason, attempt, retryInMs: 0, at });
      throw new EngramError('E_INPUT_UNREADABLE',
        `could not read the live stream ${path}: ${failures} attempt${failures === 1 ? '' : 's'} in a row failed (the last: ${reason}); ` +
        `check that the server is up and sends video to this address (ffmpeg -i ${path} shows what it sends), that host and port are right and no firewall is in the way`);
    }
    const retryInMs = Math.min(r.maxMs, r.firstMs * r.factor ** waits++);
    emit({ kind: 'gap', reason, attempt, retryInMs, at });
    await sleep(retryInMs, stop);
  }
}
