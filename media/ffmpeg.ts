/**
 * Finding and running ffmpeg: the one place that starts it. Everything media-related runs ffmpeg
 * through the functions here so the binary is resolved once, the same way everywhere, and failures
 * read the same. Outside sinks/, ffmpeg writes only to a pipe (`pipeFfmpeg`, `ffmpegCommand(…).pipe()`,
 * `ffmpegToBuffer`, `ffmpegToStdout`); `runFfmpeg` runs a command to the files it names, for sinks/.
 *
 * Only ffmpeg itself is used: `@ffmpeg-installer/ffmpeg` ships no ffprobe, so nothing here may need it.
 * What a container says about itself (duration, frame rate) is read from `ffmpeg -i FILE`'s report
 * instead (`probeContainer`).
 */
import { execFile, execFileSync, type ChildProcess, type ExecFileException } from 'node:child_process';
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, delimiter, dirname, join, resolve } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import ffmpeg from 'fluent-ffmpeg';
import { EngramError } from '../errors.ts';

export type FfmpegSource = 'FFMPEG_PATH' | 'PATH' | '@ffmpeg-installer/ffmpeg';
export type ResolvedFfmpeg = { path: string; source: FfmpegSource };
export type FfmpegCommand = ffmpeg.FfmpegCommand;
/** A running ffmpeg started by `ffmpegToStdout` (to kill it). */
export type FfmpegProcess = ChildProcess;

let resolved: ResolvedFfmpeg | undefined;

/** Which ffmpeg to run: `FFMPEG_PATH`, else `ffmpeg` on PATH, else the bundled binary. Cached. */
export function resolveFfmpeg(): ResolvedFfmpeg {
  resolved ??= findFfmpeg();
  return resolved;
}

function findFfmpeg(): ResolvedFfmpeg {
  const fromEnv = process.env.FFMPEG_PATH;
  if (fromEnv) {
    if (!existsSync(fromEnv)) {
      throw new EngramError(
        'E_FFMPEG',
        `FFMPEG_PATH points to ${fromEnv}, which does not exist; fix FFMPEG_PATH or unset it to use ffmpeg from PATH or the bundled binary`,
      );
    }
    return { path: fromEnv, source: 'FFMPEG_PATH' };
  }
  const onPath = findOnPath(process.platform === 'win32' ? 'ffmpeg.exe' : 'ffmpeg');
  if (onPath) return { path: onPath, source: 'PATH' };
  try {
    const installer = createRequire(import.meta.url)('@ffmpeg-installer/ffmpeg') as { path: string };
    if (existsSync(installer.path)) return { path: installer.path, source: '@ffmpeg-installer/ffmpeg' };
  } catch {
    // The installer throws when there is no binary for this platform; fall through to the error.
  }
  throw new EngramError(
    'E_FFMPEG',
    'ffmpeg not found: FFMPEG_PATH is unset, no ffmpeg on PATH, and @ffmpeg-installer/ffmpeg has no binary for this platform; install ffmpeg or set FFMPEG_PATH',
  );
}

/** The executable `name` on PATH (ffmpeg here; engram doctor asks for compilers and espeak-ng too). */
export function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // Missing or not executable: keep looking.
    }
  }
  return undefined;
}

/** A fluent-ffmpeg command bound to the resolved binary. */
export function ffmpegCommand(input?: string | Readable): FfmpegCommand {
  // fluent-ffmpeg keeps the path in a module-global cache; setting it every time is cheap and keeps
  // it right even if someone else set it meanwhile.
  ffmpeg.setFfmpegPath(resolveFfmpeg().path);
  return ffmpeg(input);
}

/** The last few non-empty lines of ffmpeg's stderr: where it says what went wrong. */
export function stderrTail(stderr: string | null | undefined, lines = 6): string {
  return (stderr ?? '')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean)
    .slice(-lines)
    .join('\n');
}

/** Run a command to completion; failure becomes E_FFMPEG saying `what` failed and why. */
export function runFfmpeg(cmd: FfmpegCommand, what: string, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    // a run stopped meanwhile (Ctrl-C, SIGTERM) takes ffmpeg down with it: no process outlives engram
    // (stopped before ffmpeg was spawned: it is killed as it starts)
    if (signal?.aborted) return reject(new EngramError('E_FFMPEG', `stopped before ${what}`));
    signal?.addEventListener('abort', () => cmd.kill('SIGKILL'), { once: true });
    cmd
      .on('start', () => signal?.aborted && cmd.kill('SIGKILL'))
      .on('end', () => resolve())
      .on('error', (err: Error, _stdout: string | null, stderr: string | null) => {
        const detail = stderrTail(stderr) || err.message;
        reject(new EngramError('E_FFMPEG', `ffmpeg failed while ${what}:\n${detail}`, { cause: err }));
      })
      .run();
  });
}

/**
 * Run a command whose output is `pipe:1` (no file) and collect it: the bytes ffmpeg wrote once it
 * has exited and its stdout has ended. Failure is E_FFMPEG saying `what` failed and why.
 * `onBytes` hears the running total as output arrives (for progress).
 */
export function ffmpegToBuffer(cmd: FfmpegCommand, what: string, onBytes?: (total: number) => void): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    let exited = false, drained = false, failed = false;
    const settle = () => exited && drained && !failed && resolve(Buffer.concat(chunks));
    cmd
      .on('end', () => {
        exited = true;
        settle();
      })
      .on('error', (err: Error, _stdout: string | null, stderr: string | null) => {
        failed = true;
        const detail = stderrTail(stderr) || err.message;
        reject(new EngramError('E_FFMPEG', `ffmpeg failed while ${what}:\n${detail}`, { cause: err }));
      });
    const out = cmd.pipe();
    out.on('data', (c: Buffer) => {
      chunks.push(c);
      total += c.length;
      onBytes?.(total);
    });
    out.on('end', () => {
      drained = true;
      settle();
    });
  });
}

/** Why a piped ffmpeg failed: its error, and the tail of its stderr (else the error's message). */
export type FfmpegFailure = { err: Error; detail: string };

/** A command running into a pipe (`pipeFfmpeg`): its output, and how the process ended. */
export interface FfmpegPipe {
  /** ffmpeg's output. Ends when ffmpeg does (also when it fails); destroyed by `abort`. */
  readonly out: PassThrough;
  /** Resolves once the process has exited, well or not (never rejects); read `out` to its end first. */
  readonly exited: Promise<void>;
  /** The process has exited ('end' or 'error'). */
  readonly ended: boolean;
  /** Why ffmpeg failed, once `exited` has resolved; null when it ended well, or failed after being abandoned. */
  readonly failure: FfmpegFailure | null;
  /** ffmpeg's stderr, once it has ended well ('' before, and after a failure). */
  readonly stderr: string;
  /** Give up: kill ffmpeg (now, or as soon as fluent-ffmpeg has started it) and destroy `out`. */
  abort(): void;
  /** Done with it (a `finally`): stop listening to the signal, and abort if the process has not exited. */
  close(): void;
}

/**
 * Start `cmd` with its output into a pipe of `highWaterMark` bytes (its backpressure stops ffmpeg)
 * for the caller to read as it comes. `signal` aborting kills ffmpeg and destroys the pipe, which
 * ends the caller's read loop. The caller reads `out` to its end, then awaits `exited` and looks at
 * `failure`, and calls `close()` when done.
 */
export function pipeFfmpeg(cmd: FfmpegCommand, o: { highWaterMark: number; signal?: AbortSignal }): FfmpegPipe {
  let failure: FfmpegFailure | null = null;
  let stderrText = '';
  let ended = false;
  let started = false;
  let abandoned = false;
  // The process can exit before its last bytes have come through the pipe: wait for both.
  const exited = new Promise<void>((resolve) => {
    cmd
      .on('start', () => {
        started = true;
        if (abandoned) cmd.kill('SIGKILL'); // gave up while fluent-ffmpeg was still starting it
      })
      .on('end', (_stdout: string | null, stderr: string | null) => {
        ended = true;
        stderrText = stderr ?? '';
        resolve();
      })
      .on('error', (err: Error, _stdout: string | null, stderr: string | null) => {
        ended = true;
        if (!abandoned) failure = { err, detail: stderrTail(stderr) || err.message };
        out.end();
        resolve();
      });
  });
  const out = new PassThrough({ highWaterMark: o.highWaterMark });
  // aborted while waiting for bytes: kill ffmpeg and end the pipe, which ends the caller's loop
  // (a kill must wait for fluent-ffmpeg to have started the process: 'start' above does it then)
  const abort = () => {
    abandoned = true;
    if (started && !ended) cmd.kill('SIGKILL');
    out.destroy();
  };
  o.signal?.addEventListener('abort', abort, { once: true });
  cmd.pipe(out, { end: true });
  return {
    out,
    exited,
    get ended() { return ended; },
    get failure() { return failure; },
    get stderr() { return stderrText; },
    abort,
    close: () => {
      o.signal?.removeEventListener('abort', abort);
      if (!ended) abort();
    },
  };
}

/** ffmpeg with `args` and its output on standard output (`pipe:1` is appended); both streams as buffers. */
export function ffmpegToStdout(
  args: string[],
  o: { maxBuffer: number },
  done: (err: ExecFileException | null, stdout: Buffer, stderr: Buffer) => void,
): FfmpegProcess {
  return execFile(resolveFfmpeg().path, [...args, 'pipe:1'], { encoding: 'buffer', maxBuffer: o.maxBuffer }, done);
}

/** The first line of `ffmpeg -version`, without its prefix and copyright: e.g. "5.1.9-0+deb12u1" (throws when it cannot run). */
export function ffmpegVersion(): string {
  return execFileSync(resolveFfmpeg().path, ['-hide_banner', '-version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 20_000 })
    .split('\n')[0].replace(/^ffmpeg version\s+/, '').replace(/\s+Copyright.*$/, '');
}

/** `ffmpeg -formats`: the containers and devices this ffmpeg can read and write (throws when it cannot run). */
export function ffmpegFormats(): string {
  return execFileSync(resolveFfmpeg().path, ['-hide_banner', '-formats'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 20_000 });
}

/** The names of the encoders this ffmpeg was built with, from `ffmpeg -encoders` (throws when it cannot run). */
export function ffmpegEncoders(): Set<string> {
  const list = execFileSync(resolveFfmpeg().path, ['-hide_banner', '-encoders'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  // each encoder is a line of six flag characters (type V/A/S first), then its name
  return new Set([...list.matchAll(/^\s*[VAS][A-Z.]{5}\s+(\S+)/gm)].map((m) => m[1]));
}

/**
 * The temporary name an output is written under before it is renamed into place. It keeps the
 * extension last because ffmpeg picks the container from it. (sinks/partials.ts hands these out.)
 */
export function partialPathFor(path: string): string {
  const name = basename(path);
  const dot = name.lastIndexOf('.');
  const [stem, ext] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ''];
  // absolute: a relative name ffmpeg is given as its output must not start with a dash (it would read it as an option)
  return join(resolve(dirname(path)), `.${stem}.partial${ext}`);
}

/** One stream of a container as `ffmpeg -i` lists it ("Stream #0:0: Audio: pcm_s16le, …"). */
export interface ContainerStream {
  type: 'video' | 'audio' | 'subtitle' | 'data' | 'attachment';
  /** The codec's name, e.g. h264, pcm_s16le, png. */
  codec: string;
  /** A video stream that is a cover picture (`attached pic`), not moving pictures. */
  picture?: boolean;
}

/** What a container says about itself: its duration and the first video stream's frame rate, where it says them. */
export interface ContainerInfo {
  /** Seconds, from the container (`Duration:`); absent when ffmpeg prints N/A. */
  duration?: number;
  /** Frames per second of the first video stream (not a cover picture): its average rate, else its time-base guess (tbr). */
  fps?: number;
  /** The demuxer ffmpeg chose ("Input #0, wav, from …"), e.g. wav, png_pipe, "mov,mp4,m4a,3gp,3g2,mj2"; absent when ffmpeg could not read the input. */
  format?: string;
  /** The streams it holds, in order; absent when ffmpeg listed none (it could not read the input). */
  streams?: ContainerStream[];
}

/**
 * Ask ffmpeg what `path`'s container says, without decoding it: `ffmpeg -i FILE` with no output
 * reads the header, prints the input's description and exits. Works with the bundled ffmpeg alone
 * (no ffprobe). Never fails: a file ffmpeg cannot describe gives `{}`.
 */
export function probeContainer(path: string): Promise<ContainerInfo> {
  return new Promise((resolve) => {
    execFile(resolveFfmpeg().path, ['-hide_banner', '-nostdin', '-i', path], { encoding: 'utf8', timeout: 30_000, maxBuffer: 1 << 20 },
      (_err, _stdout, stderr) => resolve(parseContainerInfo(stderr ?? '')));
  });
}

/** The fields of `ffmpeg -i`'s input description (see probeContainer). */
export function parseContainerInfo(report: string): ContainerInfo {
  const info: ContainerInfo = {};
  const input = /^Input #0, (.+?), from /m.exec(report);
  if (input) info.format = input[1];
  const streams = [...report.matchAll(/^\s*Stream #0:\d+.*?: (Video|Audio|Subtitle|Data|Attachment): ([^\s,]+)(.*)$/gm)].map((m): ContainerStream => {
    const type = m[1].toLowerCase() as ContainerStream['type'];
    return { type, codec: m[2], ...(type === 'video' && m[3].includes('attached pic') ? { picture: true } : {}) };
  });
  if (streams.length) info.streams = streams;
  const d = /Duration:\s*(\d+):(\d+):(\d+(?:\.\d+)?)/.exec(report);
  if (d) info.duration = Number(d[1]) * 3600 + Number(d[2]) * 60 + Number(d[3]);
  const video = report.split(/\r?\n/).find((l) => /Stream #\d+:\d+.*: Video:/.test(l) && !l.includes('attached pic'));
  const rate = (unit: string) => {
    const m = new RegExp(`(\\d+(?:\\.\\d+)?)(k?) ${unit}\\b`).exec(video ?? '');
    return m ? Number(m[1]) * (m[2] ? 1000 : 1) : undefined;
  };
  const fps = rate('fps') ?? rate('tbr');
  if (fps !== undefined && fps > 0) info.fps = fps;
  return info;
}
