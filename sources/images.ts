/**
 * A directory (or a glob such as `dir/*.png`) of still images as a stream of samples, in natural name
 * order (frame2 before frame10). ffmpeg decodes each image and resizes it to the common size with area
 * averaging; images are decoded one at a time, so memory holds one image whatever the directory size.
 * With `watch`, the stream stays open and emits images that appear later, once fully written.
 * With `onUnreadable`, an image that cannot be decoded is reported there and skipped.
 *
 *   images$('shots/', { width: 32, height: 32, gray: true })
 *   --a.png--b.png--c.png-|
 *   images$('shots/', { …, watch: true })
 *   --a.png--b.png-------------d.png (written later)------…   (until unsubscribed)
 */
import { type FSWatcher, accessSync, constants, existsSync, readdirSync, statSync, watch } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { Observable, lastValueFrom, toArray } from 'rxjs';
import { EngramError } from '../errors.ts';
import { ffmpegToStdout, parseContainerInfo, stderrTail, type FfmpegProcess } from '../media/ffmpeg.ts';
import type { Sample } from './sample.ts';
import { fileKindOf, memorizeAs, missingStream } from './streams.ts';

export const IMAGE_EXTENSIONS = ['png', 'jpg', 'jpeg', 'bmp', 'gif', 'webp', 'tif', 'tiff'] as const;

export type ImageSample = Sample & {
  path: string;
  originalSize: { width: number; height: number };
  /** Images already found and waiting to be decoded after this one (0: the batch found so far is complete). */
  queued: number;
};

export type ImageStreamOptions = {
  width: number;
  height: number;
  gray: boolean;
  /** keep the stream open and emit images added later */
  watch?: boolean;
  /** how often (ms) a watched directory is rescanned; a new file must keep its size this long. Default 500. */
  pollMs?: number;
  /**
   * An image that cannot be decoded (damaged, not an image after all, gone or unreadable by the
   * time it is read) is passed here and skipped, and the stream goes on; without it, it ends the
   * stream with that error.
   */
  onUnreadable?: (path: string, error: EngramError) => void;
};

export type ImagesInfo = {
  count: number;
  /** how many images were not already width x height */
  resized: number;
  /** original sizes ("WxH") and how many images had each */
  sizes: Record<string, number>;
};

const BYTE_TO_UNIT = Float32Array.from({ length: 256 }, (_, i) => i / 255);
const ACCEPTED = IMAGE_EXTENSIONS.map((e) => `.${e}`).join(', ');

export function images$(input: string, opts: ImageStreamOptions): Observable<ImageSample> {
  return new Observable<ImageSample>((subscriber) => {
    checkOptions(input, opts);
    const target = resolveInput(input);
    const pollMs = opts.pollMs ?? 500;
    const seen = new Set<string>();
    const queue: string[] = [];
    let index = 0;
    let closed = false;
    let busy = false;
    let child: FfmpegProcess | undefined;
    let watcher: FSWatcher | undefined;
    let timer: NodeJS.Timeout | undefined;
    const stop = () => {
      closed = true;
      child?.kill('SIGKILL');
      watcher?.close();
      clearInterval(timer);
    };

    const enqueue = (names: string[]) => {
      for (const name of names.sort(naturalCompare)) {
        seen.add(name);
        queue.push(name);
      }
      void pump();
    };
    // One decode at a time keeps order and bounds memory.
    const pump = async () => {
      if (busy) return;
      busy = true;
      try {
        while (queue.length > 0 && !closed) {
          const path = join(target.dir, queue.shift()!);
          let image: Awaited<ReturnType<typeof decodeImage>>;
          try {
            image = await decodeImage(path, opts, (c) => (child = c));
          } catch (e) {
            if (closed || !opts.onUnreadable || !(e instanceof EngramError)) throw e;
            opts.onUnreadable(path, e);
            continue;
          }
          if (closed) return;
          subscriber.next({ index, timestamp: index, path, ...image, queued: queue.length });
          index++;
        }
        if (!opts.watch && !closed) subscriber.complete();
      } catch (e) {
        if (!closed) subscriber.error(e);
      } finally {
        busy = false;
      }
    };

    const initial = listMatching(target);
    if (initial.length === 0 && !opts.watch) {
      if (target.glob) throw noImagesForGlob(input, { ...target, glob: target.glob });
      throw new EngramError(
        'E_INPUT_EMPTY',
        `no images in ${input}: expected files ending in ${ACCEPTED} (any case); add images there or point to another directory or glob`,
      );
    }
    enqueue(initial);
    if (!opts.watch) return stop;

    // A new file is decoded only after its size and mtime stayed put for pollMs, so a file still
    // being written (or copied) is never decoded half-way. fs.watch only makes us notice sooner; the
    // poll is what works everywhere (network mounts, some containers).
    const pending = new Map<string, { size: number; mtimeMs: number; since: number }>();
    const observe = (name: string) => {
      try {
        const st = statSync(join(target.dir, name));
        const last = pending.get(name);
        if (!st.isFile()) pending.delete(name);
        else if (!last || last.size !== st.size || last.mtimeMs !== st.mtimeMs) {
          pending.set(name, { size: st.size, mtimeMs: st.mtimeMs, since: Date.now() });
        }
      } catch {
        pending.delete(name); // renamed away or deleted meanwhile
      }
    };
    const scan = () => {
      if (closed) return;
      let names: string[];
      try {
        names = readdirSync(target.dir);
      } catch {
        return; // the directory vanished for a moment; keep waiting for it
      }
      for (const name of names) if (!seen.has(name) && target.match(name)) observe(name);
    };
    const poll = () => {
      scan();
      const now = Date.now();
      const ready = [...pending].filter(([, s]) => s.size > 0 && now - s.since >= pollMs).map(([name]) => name);
      for (const name of ready) pending.delete(name);
      if (ready.length > 0) enqueue(ready);
    };
    try {
      watcher = watch(target.dir, () => scan());
      watcher.on('error', () => watcher?.close()); // the poll carries on alone
    } catch {
      // fs.watch is unsupported here: the poll carries on alone
    }
    timer = setInterval(poll, pollMs);
    scan();
    return stop;
  });
}

/** All images of a directory or glob, with how many were resized (for "k of N images were resized"). */
export async function readImages(
  input: string,
  opts: Omit<ImageStreamOptions, 'watch' | 'pollMs'>,
): Promise<{ samples: ImageSample[]; info: ImagesInfo }> {
  const samples = await lastValueFrom(images$(input, { ...opts, watch: false }).pipe(toArray()));
  const sizes: Record<string, number> = {};
  let resized = 0;
  for (const { originalSize: s } of samples) {
    const key = `${s.width}x${s.height}`;
    sizes[key] = (sizes[key] ?? 0) + 1;
    if (s.width !== opts.width || s.height !== opts.height) resized++;
  }
  return { samples, info: { count: samples.length, resized, sizes } };
}

/** Names compared with digit runs as numbers: frame2 < frame10. Deterministic (no locale). */
export function naturalCompare(a: string, b: string): number {
  const as = a.split(/(\d+)/);
  const bs = b.split(/(\d+)/);
  for (let i = 0; i < Math.min(as.length, bs.length); i++) {
    const x = as[i];
    const y = bs[i];
    if (x === y) continue;
    if (i % 2 === 1) {
      // split() with a capture group puts the digit runs at odd positions
      const xn = x.replace(/^0+/, '');
      const yn = y.replace(/^0+/, '');
      if (xn.length !== yn.length) return xn.length - yn.length;
      if (xn !== yn) return xn < yn ? -1 : 1;
      continue; // same number, different leading zeros: let the plain comparison below decide
    }
    return x < y ? -1 : 1;
  }
  return as.length - bs.length || (a < b ? -1 : a > b ? 1 : 0);
}

type Target = { dir: string; match: (name: string) => boolean; /** the glob's own pattern, when the input is a glob */ glob?: RegExp };

function isImageName(name: string): boolean {
  return !name.startsWith('.') && (IMAGE_EXTENSIONS as readonly string[]).includes(extname(name).slice(1).toLowerCase());
}

function resolveInput(input: string): Target {
  if (existsSync(input)) {
    if (statSync(input).isDirectory()) return { dir: input, match: isImageName };
    const only = basename(input); // a single image file: a glob that matches one name
    return { dir: dirname(input), match: (name) => name === only };
  }
  const pattern = basename(input);
  if (!isGlob(pattern)) {
    throw new EngramError('E_INPUT_MISSING', `image directory not found: ${input}; check the path, or pass a directory or a glob such as dir/*.png`);
  }
  const dir = dirname(input);
  if (isGlob(dir) && !existsSync(dir)) { // a folder named "Photos [2024]" is a folder
    throw new EngramError('E_BAD_ARGUMENT', `cannot read ${input}: wildcards (*, ? and [...]) are only allowed in the last part of the path, e.g. dir/*.png`);
  }
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new EngramError('E_INPUT_MISSING', `image directory not found: ${dir} (from ${input}); check the path`);
  }
  const re = globToRegExp(pattern, input);
  return { dir, match: (name) => isImageName(name) && re.test(name), glob: re };
}

/** What a glob may hold, said in messages. */
export const GLOB_SYNTAX = '* matches any characters, ? one character, [abc] or [a-z] one of a set, [!abc] one not in it';

/** The parts of a glob: `*`, `?` and a closed class `[…]` (a `]` first in the class is literal); anything else is literal text. */
function globTokens(pattern: string): ({ lit: string } | { any: true } | { one: true } | { set: string; not: boolean })[] {
  const out: ReturnType<typeof globTokens> = [];
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*') out.push({ any: true });
    else if (c === '?') out.push({ one: true });
    else if (c === '[') {
      const not = pattern[i + 1] === '!' || pattern[i + 1] === '^';
      const first = i + 1 + (not ? 1 : 0);
      const close = pattern.indexOf(']', first + 1); // a ']' right after '[' or '[!' belongs to the set
      if (close < 0) out.push({ lit: c });
      else {
        out.push({ set: pattern.slice(first, close), not });
        i = close;
      }
    } else out.push({ lit: c });
  }
  return out;
}

/** Whether `pattern` holds a wildcard: `*`, `?` or a closed class `[…]`. */
export function isGlob(pattern: string): boolean {
  return globTokens(pattern).some((t) => !('lit' in t));
}

/** One path segment's glob as a RegExp: `*`, `?`, `[abc]`, `[a-z]`, `[!a]` (or `[^a]`); everything else literal. */
export function globToRegExp(pattern: string, label = pattern): RegExp {
  const lit = (s: string) => s.replace(/[.+^${}()|[\]\\*?]/g, (c) => `\\${c}`);
  const inSet = (c: string) => c.replace(/[\\\]\[^-]/g, (x) => `\\${x}`);
  const body = globTokens(pattern).map((t) => {
    if ('lit' in t) return lit(t.lit);
    if ('any' in t) return '[^/]*';
    if ('one' in t) return '[^/]';
    // ranges (a-z) stay ranges; every other character of the set is literal
    const set = t.set.replace(/(.)-(.)|./gs, (m, a?: string, b?: string) => (a !== undefined ? `${inSet(a)}-${inSet(b!)}` : inSet(m)));
    return t.not ? `[^${set}]` : `[${set}]`;
  }).join('');
  try {
    return new RegExp(`^${body}$`);
  } catch {
    // a range out of order, e.g. [z-a]
    throw new EngramError('E_BAD_ARGUMENT', `cannot read ${label}: a [...] class of the glob is not valid (a range must go up, as in [a-z]); fix the pattern: ${GLOB_SYNTAX}`);
  }
}

function listMatching(target: Target): string[] {
  return readdirSync(target.dir, { withFileTypes: true })
    .filter((d) => !d.isDirectory() && target.match(d.name))
    .map((d) => d.name);
}

/** Why a glob found no images: no name matches it at all, or the names it matches are not images. */
function noImagesForGlob(input: string, target: Target & { glob: RegExp }): EngramError {
  const files = readdirSync(target.dir, { withFileTypes: true }).filter((d) => !d.isDirectory());
  const matching = files.filter((d) => target.glob.test(d.name));
  if (matching.length === 0) {
    return new EngramError('E_INPUT_EMPTY',
      `no files match ${input} (${target.dir} holds ${files.length} file${files.length === 1 ? '' : 's'}); check the pattern (${GLOB_SYNTAX}; ` +
      'quote it so the shell passes it on) or point to a directory');
  }
  return new EngramError('E_INPUT_EMPTY',
    `${matching.length} file${matching.length === 1 ? ' matches' : 's match'} ${input} (e.g. ${matching[0].name}) but none is an image: expected names ending in ${ACCEPTED} (any case); ` +
    'change the pattern or add images');
}

/** Decode one image to width x height gray/rgb24 values in [0,1]; its original size from ffmpeg's log. */
function decodeImage(
  path: string,
  opts: ImageStreamOptions,
  onSpawn: (c: FfmpegProcess) => void,
): Promise<Pick<ImageSample, 'data' | 'originalSize'>> {
  const fmt = opts.gray ? 'gray' : 'rgb24';
  const bytes = opts.width * opts.height * (opts.gray ? 1 : 3);
  try {
    accessSync(path, constants.R_OK);
  } catch (e) {
    return Promise.reject(new EngramError('E_INPUT_UNREADABLE', `cannot read image ${path}: ${(e as Error).message}; check its permissions`, { cause: e }));
  }
  // image2 would read '%d' in a name as a frame-number pattern; gif has its own demuxer and no patterns.
  const literal = path.includes('%') && extname(path).toLowerCase() !== '.gif' ? ['-f', 'image2', '-pattern_type', 'none'] : [];
  const args = [
    '-hide_banner', '-nostdin', ...literal, '-i', `file:${resolve(path)}`, // file: so ':' in a name is no protocol
    '-frames:v', '1', '-vf', `scale=${opts.width}:${opts.height}:flags=area,format=${fmt}`,
    '-f', 'rawvideo', '-pix_fmt', fmt,
  ];
  return new Promise((resolvePromise, reject) => {
    const c = ffmpegToStdout(args, { maxBuffer: bytes + (1 << 20) }, (err, stdout, stderr) => {
      const log = stderr.toString();
      if (err || stdout.length !== bytes) {
        // ffmpeg lists the input's streams (no -loglevel here): a sound file is told by what it is
        const info = parseContainerInfo(log);
        const lack = missingStream(path, info, 'video');
        if (lack) {
          reject(new EngramError('E_INPUT_INVALID', `${lack}; ${fileKindOf(info) === 'audio' ? `${memorizeAs('audio')}, or ` : ''}remove it from the images`, { cause: err }));
          return;
        }
        const detail = stderrTail(log) || err?.message || `ffmpeg produced ${stdout.length} bytes, expected ${bytes}`;
        reject(new EngramError('E_FFMPEG', `ffmpeg could not decode image ${path}:\n${detail}\nCheck that it is a readable image, or remove it.`, { cause: err }));
        return;
      }
      const data = new Float32Array(bytes);
      for (let i = 0; i < bytes; i++) data[i] = BYTE_TO_UNIT[stdout[i]];
      // "Stream #0:0: Video: png, rgb24(pc), 20x10 [SAR 1:1 …]": the first size on the input's line.
      const m = /Stream #0:\d+[^\n]*?: Video: [^\n]*?, (\d+)x(\d+)/.exec(log);
      resolvePromise({ data, originalSize: m ? { width: Number(m[1]), height: Number(m[2]) } : { width: 0, height: 0 } });
    });
    onSpawn(c);
  });
}

function checkOptions(input: string, opts: ImageStreamOptions): void {
  const positiveInt = (v: number) => Number.isInteger(v) && v > 0;
  if (!positiveInt(opts.width) || !positiveInt(opts.height)) {
    throw new EngramError('E_BAD_ARGUMENT', `cannot read ${input} at ${opts.width}x${opts.height}: width and height must be positive integers`);
  }
  if (opts.pollMs !== undefined && !(opts.pollMs > 0)) {
    throw new EngramError('E_BAD_ARGUMENT', `cannot watch ${input} every ${opts.pollMs} ms: the poll interval must be positive`);
  }
}
