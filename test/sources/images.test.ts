import { execFile, execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EngramError } from '../../errors.ts';
import { resolveFfmpeg } from '../../media/ffmpeg.ts';
import { encodePng } from '../../sinks/png.ts';
import { type ImageSample, images$, naturalCompare, readImages } from '../../sources/images.ts';
import { grayPixels, tempDirs, writeGray } from '../fixtures/images.ts';

const tmp = tempDirs('engram-images-');
const { freshDir } = tmp;

const toBytes = (s: ImageSample) => Array.from(s.data, (v) => Math.round(v * 255));

async function errorOf(p: Promise<unknown>): Promise<EngramError> {
  const e = await p.then(() => undefined, (err: unknown) => err);
  expect(e).toBeInstanceOf(EngramError);
  return e as EngramError;
}

describe('readImages', () => {
  it('reads a directory in natural name order with exact gray pixels', async () => {
    const dir = freshDir();
    const names = ['img10.png', 'img2.png', 'img1.png', 'img11.png', 'img3.png'];
    const pixels = new Map(names.map((name, i) => [name, writeGray(join(dir, name), 8, 8, i)]));
    writeFileSync(join(dir, 'notes.txt'), 'not an image');
    writeGray(join(dir, '.hidden.png'), 8, 8, 99);

    const { samples, info } = await readImages(dir, { width: 8, height: 8, gray: true });
    expect(samples.map((s) => s.path)).toEqual(['img1.png', 'img2.png', 'img3.png', 'img10.png', 'img11.png'].map((f) => join(dir, f)));
    samples.forEach((s, i) => {
      expect(s.index).toBe(i);
      expect(s.timestamp).toBe(i);
      expect(s.originalSize).toEqual({ width: 8, height: 8 });
      expect(s.queued).toBe(4 - i); // the rest of the batch found so far, still to decode
      expect(toBytes(s)).toEqual(Array.from(pixels.get(s.path.slice(dir.length + 1))!));
    });
    expect(info).toEqual({ count: 5, resized: 0, sizes: { '8x8': 5 } });
  });

  it('reads RGB exactly when asked for rgb', async () => {
    const dir = freshDir();
    const px = Uint8Array.from({ length: 4 * 3 * 3 }, (_, k) => (k * 23) % 256);
    writeFileSync(join(dir, 'a.png'), encodePng(px, 4, 3, 3));
    const { samples } = await readImages(dir, { width: 4, height: 3, gray: false });
    expect(toBytes(samples[0])).toEqual(Array.from(px));
  });

  it('resizes mixed sizes (any extension case) and counts them', async () => {
    const dir = freshDir();
    for (let i = 0; i < 3; i++) writeGray(join(dir, `small${i}.png`), 8, 8, i);
    // flat images stay flat under area averaging, so the resized values are known exactly
    writeFileSync(join(dir, 'big0.png'), encodePng(new Uint8Array(16 * 12).fill(200), 16, 12, 1));
    writeFileSync(join(dir, 'big1.PNG'), encodePng(new Uint8Array(16 * 12).fill(40), 16, 12, 1));

    const { samples, info } = await readImages(dir, { width: 8, height: 8, gray: true });
    expect(info).toEqual({ count: 5, resized: 2, sizes: { '8x8': 3, '16x12': 2 } });
    expect(samples.map((s) => s.data.length)).toEqual([64, 64, 64, 64, 64]);
    expect(samples[0].originalSize).toEqual({ width: 16, height: 12 });
    expect(new Set(toBytes(samples[0]))).toEqual(new Set([200]));
    expect(new Set(toBytes(samples[1]))).toEqual(new Set([40]));
  });

  it('decodes jpg, gif, bmp, webp and tiff made by ffmpeg, with their original size', async () => {
    const dir = freshDir();
    const exts = ['jpg', 'gif', 'bmp', 'webp', 'tiff'];
    for (const ext of exts) {
      execFileSync(resolveFfmpeg().path, ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc2=s=20x10', '-frames:v', '1', join(dir, `a.${ext}`)]);
    }
    const { samples, info } = await readImages(dir, { width: 5, height: 5, gray: false });
    expect(samples).toHaveLength(exts.length);
    expect(info.sizes).toEqual({ '20x10': exts.length });
    for (const s of samples) expect(s.data.length).toBe(75);
  });

  it('selects a subset with a glob', async () => {
    const dir = freshDir();
    for (const name of ['img1.png', 'img2.png', 'img10.png', 'img11.png', 'other1.png']) writeGray(join(dir, name), 4, 4, 1);
    const { samples } = await readImages(join(dir, 'img1*.png'), { width: 4, height: 4, gray: true });
    expect(samples.map((s) => s.path)).toEqual(['img1.png', 'img10.png', 'img11.png'].map((f) => join(dir, f)));
    const one = await readImages(join(dir, 'img?.png'), { width: 4, height: 4, gray: true });
    expect(one.info.count).toBe(2);
  });

  it('selects with [abc], [a-z] and [!a] classes; a file named with brackets is that file', async () => {
    const dir = freshDir();
    for (const name of ['a.png', 'b.png', 'c.png', 'x1.png', 'x9.png', 'xz.png', '[ab].png']) writeGray(join(dir, name), 4, 4, 1);
    const names = async (glob: string) => (await readImages(join(dir, glob), { width: 4, height: 4, gray: true })).samples.map((s) => s.path.slice(dir.length + 1));
    expect(await names('[ab].png')).toEqual(['[ab].png']); // it exists as written: the literal file wins
    expect(await names('[bc].png')).toEqual(['b.png', 'c.png']);
    expect(await names('x[0-9].png')).toEqual(['x1.png', 'x9.png']);
    expect(await names('[!abc[]*.png')).toEqual(['x1.png', 'x9.png', 'xz.png']);
    expect(await names('x[^0-8].png')).toEqual(['x9.png', 'xz.png']);
    expect(await names('[]c].png')).toEqual(['c.png']); // a ']' first in a class is one of its characters
    // a folder whose name has brackets is that folder, globbed inside
    const photos = join(dir, 'Photos [2024]');
    mkdirSync(photos);
    writeGray(join(photos, 'p1.png'), 4, 4, 2);
    expect((await readImages(join(photos, '*.png'), { width: 4, height: 4, gray: true })).samples.map((s) => s.path)).toEqual([join(photos, 'p1.png')]);
  });

  it('says "no files match" for a glob that matches nothing, and which files match when none is an image', async () => {
    const dir = freshDir();
    writeGray(join(dir, 'a.png'), 4, 4, 1);
    writeFileSync(join(dir, 'notes.txt'), 'x');
    let e = await errorOf(readImages(join(dir, '[x-z].png'), { width: 4, height: 4, gray: true }));
    expect(e.code).toBe('E_INPUT_EMPTY');
    expect(e.message).toContain(`no files match ${join(dir, '[x-z].png')}`);
    expect(e.message).toMatch(/\[abc\] or \[a-z\].*\[!abc\]/);
    e = await errorOf(readImages(join(dir, '[mn]otes.*'), { width: 4, height: 4, gray: true }));
    expect(e.message).toMatch(/1 file matches .*\(e\.g\. notes\.txt\) but none is an image/);
    e = await errorOf(readImages(join(dir, '[z-a].png'), { width: 4, height: 4, gray: true }));
    expect(e.code).toBe('E_BAD_ARGUMENT');
    expect(e.message).toContain('[z-a].png');
  });

  it('rejects an empty directory and one with no images (E_INPUT_EMPTY, naming it and the extensions)', async () => {
    const empty = freshDir();
    let e = await errorOf(readImages(empty, { width: 4, height: 4, gray: true }));
    expect(e.code).toBe('E_INPUT_EMPTY');
    expect(e.message).toContain(empty);
    expect(e.message).toContain('.png');

    const texts = freshDir();
    writeFileSync(join(texts, 'a.txt'), 'x');
    writeFileSync(join(texts, 'b.txt'), 'y');
    e = await errorOf(readImages(texts, { width: 4, height: 4, gray: true }));
    expect(e.code).toBe('E_INPUT_EMPTY');
    expect(e.message).toContain('.jpeg');

    e = await errorOf(readImages(join(texts, '*.png'), { width: 4, height: 4, gray: true }));
    expect(e.code).toBe('E_INPUT_EMPTY');
  });

  it('rejects a missing directory (E_INPUT_MISSING)', async () => {
    const missing = join(tmp.root, 'no-such-dir');
    let e = await errorOf(readImages(missing, { width: 4, height: 4, gray: true }));
    expect(e.code).toBe('E_INPUT_MISSING');
    expect(e.message).toContain(missing);
    e = await errorOf(readImages(join(missing, '*.png'), { width: 4, height: 4, gray: true }));
    expect(e.code).toBe('E_INPUT_MISSING');
  });

  it('names a corrupt image in an E_FFMPEG error', async () => {
    const dir = freshDir();
    writeGray(join(dir, 'a.png'), 4, 4, 1);
    writeFileSync(join(dir, 'b.png'), 'this is not a png');
    const e = await errorOf(readImages(dir, { width: 4, height: 4, gray: true }));
    expect(e.code).toBe('E_FFMPEG');
    expect(e.message).toContain(join(dir, 'b.png'));
  });

  it('sorts names naturally', () => {
    expect(['f10', 'f2', 'f1', 'f02', 'g', 'f'].sort(naturalCompare)).toEqual(['f', 'f1', 'f02', 'f2', 'f10', 'g']);
  });
});

/** A stream's values as they arrive; `atLeast(n)` resolves once n have come, and rejects on the stream's error. */
function collect<T>() {
  const got: T[] = [];
  let failed: unknown;
  const waiters: { n: number; resolve: () => void; reject: (e: unknown) => void }[] = [];
  const settle = () => {
    for (const w of [...waiters]) {
      if (failed !== undefined) w.reject(failed);
      else if (got.length >= w.n) w.resolve();
      else continue;
      waiters.splice(waiters.indexOf(w), 1);
    }
  };
  return {
    got,
    observer: { next: (v: T) => (got.push(v), settle()), error: (e: unknown) => ((failed = e), settle()) },
    atLeast: (n: number) => new Promise<void>((resolve, reject) => (waiters.push({ n, resolve, reject }), settle())),
  };
}

// The watcher's poll (setInterval) and its "kept its size for pollMs" rule (Date.now) run on fake
// timers, so the test decides when a poll happens; ffmpeg and fs.watch stay real. Nothing here waits
// for a duration: it waits for the images themselves.
describe('images$ with watch', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'Date'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('emits existing images, then new ones once fully written; unsubscribing stops it', async () => {
    const dir = freshDir();
    const a = writeGray(join(dir, 'a1.png'), 8, 8, 1);
    writeGray(join(dir, 'a2.png'), 8, 8, 2);
    const c = collect<ImageSample>();
    const sub = images$(dir, { width: 8, height: 8, gray: true, watch: true, pollMs: 100 }).subscribe(c.observer);
    await c.atLeast(2);
    expect(toBytes(c.got[0])).toEqual(Array.from(a));

    // written under a dotfile name, then renamed into place
    const b = grayPixels(8, 8, 3);
    writeFileSync(join(dir, '.a3.png.tmp'), encodePng(b, 8, 8, 1));
    writeFileSync(join(dir, 'readme.txt'), 'ignored');
    renameSync(join(dir, '.a3.png.tmp'), join(dir, 'a3.png'));
    vi.advanceTimersByTime(100); // a poll sees a3.png (if fs.watch has not already)
    vi.advanceTimersByTime(100); // a poll finds it kept its size for pollMs: decode it
    await c.atLeast(3);
    expect(c.got[2].path).toBe(join(dir, 'a3.png'));
    expect(c.got[2].index).toBe(2);
    expect(toBytes(c.got[2])).toEqual(Array.from(b));

    // written slowly in pieces, with pauses shorter than the poll: decoded only once complete.
    // A complete image m.png appears alongside; it is decoded while a4.png is still half written,
    // and a watcher that took a4.png then would fail on it (or emit it) before m.png.
    const px = grayPixels(16, 16, 4);
    const bytes = encodePng(px, 16, 16, 1);
    const fd = openSync(join(dir, 'a4.png'), 'w');
    const piece = Math.ceil(bytes.length / 6);
    writeSync(fd, bytes.subarray(0, piece));
    writeGray(join(dir, 'm.png'), 8, 8, 6);
    vi.advanceTimersByTime(100); // a poll sees both
    writeSync(fd, bytes.subarray(piece, 2 * piece));
    vi.advanceTimersByTime(100); // a poll: m.png kept its size, a4.png did not
    await c.atLeast(4);
    expect(c.got[3].path).toBe(join(dir, 'm.png'));
    for (let off = 2 * piece; off < bytes.length; off += piece) {
      writeSync(fd, bytes.subarray(off, off + piece));
      vi.advanceTimersByTime(40);
    }
    closeSync(fd);
    vi.advanceTimersByTime(200); // one poll sees the final size, the next finds it unchanged
    await c.atLeast(5);
    expect(c.got[4].path).toBe(join(dir, 'a4.png'));
    expect(c.got[4].originalSize).toEqual({ width: 16, height: 16 });

    // unsubscribed: no poll is left to find a5.png
    sub.unsubscribe();
    expect(vi.getTimerCount()).toBe(0);
    writeGray(join(dir, 'a5.png'), 8, 8, 5);
    vi.advanceTimersByTime(1000);
    expect(c.got).toHaveLength(5);
  });

  it('waits on an empty directory instead of failing', async () => {
    const dir = freshDir();
    const c = collect<ImageSample>();
    const sub = images$(dir, { width: 4, height: 4, gray: true, watch: true, pollMs: 50 }).subscribe(c.observer);
    vi.advanceTimersByTime(200); // polls of an empty directory: no error
    writeGray(join(dir, 'x.png'), 4, 4, 1);
    vi.advanceTimersByTime(100);
    await c.atLeast(1);
    expect(c.got).toHaveLength(1);
    sub.unsubscribe();
  });

  it('does not hold the process open after unsubscribing', async () => {
    const dir = freshDir();
    writeGray(join(dir, 'a.png'), 4, 4, 1);
    writeGray(join(dir, 'b.png'), 4, 4, 2);
    const script = join(dir, 'watch-once.ts');
    // Unsubscribing after two images must leave nothing (watcher, timer, ffmpeg) keeping it alive.
    writeFileSync(
      script,
      `import { images$ } from ${JSON.stringify(resolve('sources/images.ts'))};
let n = 0;
const sub = images$(${JSON.stringify(dir)}, { width: 4, height: 4, gray: true, watch: true, pollMs: 50 }).subscribe(() => {
  if (++n === 2) {
    sub.unsubscribe();
    console.log('done');
  }
});
`,
    );
    const result = await new Promise<{ code: number | null; signal: string | null; stdout: string }>((done) => {
      const child = execFile(resolve('node_modules/.bin/tsx'), [script], { cwd: resolve('.'), timeout: 60_000 } /* only a child that never exits reaches this */, (_err, stdout) =>
        done({ code: child.exitCode, signal: child.signalCode, stdout }),
      );
    });
    expect(result).toEqual({ code: 0, signal: null, stdout: 'done\n' });
  });
});
