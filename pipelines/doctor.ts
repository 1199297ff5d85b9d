/**
 * doctor: what this machine gives engram, and for each missing piece the command that adds it.
 *
 * Two halves, so the judgement can be tested on any machine: `gatherFacts()` looks (loads the
 * backend the way every command does, runs ffmpeg, reads /etc/os-release, looks for fonts, a C
 * compiler and OpenBLAS) and `assess(facts)` turns what it saw into checks, each with its status,
 * what was found, what a missing piece costs and the exact command that adds it on this platform.
 * Nothing here writes a file or installs anything: `npm run setup` installs, doctor only says.
 */
import { existsSync, readFileSync, readdirSync, statfsSync } from 'node:fs';
import { arch, freemem, platform, totalmem } from 'node:os';
import { join } from 'node:path';
import { selectBackend, type BackendInfo } from '../engine/backend.ts';
import { ADDON_PATH, blasLoadError, loadBlasAddon } from '../engine/native-blas.ts';
import { ffmpegEncoders, ffmpegFormats, ffmpegVersion, findOnPath, resolveFfmpeg } from '../media/ffmpeg.ts';
import { FONT_DIRS } from '../sinks/plot.ts';
import { formatBytes } from './resources.ts';

/** Package-manager families engram knows the package names of (Debian/Ubuntu is the tested one). */
export type OsFamily = 'debian' | 'fedora' | 'arch' | 'alpine' | 'macos' | 'other';

export interface DoctorFacts {
  node: string;
  platform: string;
  arch: string;
  /** e.g. "Debian GNU/Linux 12 (bookworm)". */
  osName: string;
  family: OsFamily;
  root: boolean;
  sudo: boolean;
  backend: { ok: true; info: BackendInfo } | { ok: false; error: string };
  /** --backend / ENGRAM_BACKEND, when one was named. */
  requestedBackend?: string;
  addon: {
    path: string;
    built: boolean;
    loaded: boolean;
    /** ENGRAM_NATIVE=off */
    disabled: boolean;
    error: string;
    blas?: { config: string; corename: string; threads: number };
  };
  /** What building the addon needs. */
  build: { compiler: boolean; make: boolean; python: boolean; openblas: boolean };
  ffmpeg: { ok: true; path: string; source: string; version: string; encoders: string[]; lavfi: boolean } | { ok: false; error: string };
  /** FFMPEG_PATH, when set: it wins over PATH, so installing ffmpeg does not help while it points elsewhere. */
  ffmpegPathEnv?: string;
  fonts: { dirs: string[]; dejavu: boolean };
  memory: { total: number; free: number };
  disk: { path: string; free: number } | null;
  espeak: string | null;
}

export type CheckStatus = 'ok' | 'warn' | 'fail';

export interface DoctorCheck {
  name: 'node' | 'backend' | 'blas' | 'ffmpeg' | 'fonts' | 'memory' | 'disk' | 'espeak-ng';
  status: CheckStatus;
  /** What was found, one line. */
  found: string;
  /** What is lost while it is missing (warn, fail). */
  impact?: string;
  /** The command that adds it here, or what to do where no command is known. */
  fix?: string;
  /** engram cannot run without it: a failed required check makes doctor exit 1. */
  required: boolean;
}

export interface DoctorReport {
  kind: 'doctor';
  /** Every required check passed: engram can run here. */
  ok: boolean;
  machine: { node: string; platform: string; arch: string; os: string; family: OsFamily };
  checks: DoctorCheck[];
}

/** The encoders engram's sinks use: H.264 for MP4 (MPEG-4 Part 2 when missing), FFV1 for the demo's clip, GIF and PNG. */
export const ENCODERS = ['libx264', 'mpeg4', 'ffv1', 'gif', 'png'] as const;

type Piece = 'compiler' | 'python' | 'openblas' | 'fonts' | 'ffmpeg' | 'espeak';
const PACKAGES: Record<Piece, Partial<Record<OsFamily, string>>> = {
  compiler: { debian: 'build-essential', fedora: 'gcc gcc-c++ make', arch: 'base-devel', alpine: 'build-base' },
  python: { debian: 'python3', fedora: 'python3', arch: 'python', alpine: 'python3' },
  openblas: { debian: 'libopenblas-dev', fedora: 'openblas-devel', arch: 'openblas', alpine: 'openblas-dev' },
  fonts: { debian: 'fonts-dejavu-core', fedora: 'dejavu-sans-fonts', arch: 'ttf-dejavu', alpine: 'font-dejavu' },
  ffmpeg: { debian: 'ffmpeg', fedora: 'ffmpeg-free', arch: 'ffmpeg', alpine: 'ffmpeg', macos: 'ffmpeg' },
  espeak: { debian: 'espeak-ng', fedora: 'espeak-ng', arch: 'espeak-ng', alpine: 'espeak-ng', macos: 'espeak-ng' },
};
const INSTALL: Record<Exclude<OsFamily, 'other'>, string> = {
  debian: 'apt-get install -y', fedora: 'dnf install -y', arch: 'pacman -S --needed', alpine: 'apk add', macos: 'brew install',
};

/** The one command that installs these pieces here, or null where engram knows no package names. */
export function installCommand(f: Pick<DoctorFacts, 'family' | 'root' | 'sudo'>, pieces: Piece[]): string | null {
  if (f.family === 'other') return null;
  const names = pieces.map((p) => PACKAGES[p][f.family]);
  if (names.some((n) => n === undefined)) return null;
  // not root: through sudo where there is one; else the command is one for root to run
  const asRoot = f.family !== 'macos' && !f.root && !f.sudo ? 'as root: ' : '';
  const sudo = f.family !== 'macos' && !f.root && f.sudo ? 'sudo ' : '';
  const update = f.family === 'debian' ? `${sudo}apt-get update && ` : '';
  return `${asRoot}${update}${sudo}${INSTALL[f.family]} ${names.join(' ')}`;
}

/**
 * Whether `ffmpeg -formats` lists the lavfi input device. Up to FFmpeg 6.0 its flag columns are
 * "DE" (` D  lavfi`); 6.1 added a third, d for devices (` D d lavfi`).
 */
export function hasLavfi(formats: string): boolean {
  return /^\s*D[E.]?(\s*d)?\s+lavfi\s/m.test(formats);
}

/** The family of /etc/os-release's ID and ID_LIKE. */
export function osFamilyOf(osRelease: string, plat: string = platform()): { family: OsFamily; name: string } {
  if (plat === 'darwin') return { family: 'macos', name: 'macOS' };
  const field = (k: string) => osRelease.match(new RegExp(`^${k}="?([^"\\n]*)"?`, 'm'))?.[1] ?? '';
  const ids = `${field('ID')} ${field('ID_LIKE')}`.toLowerCase().split(/\s+/);
  const name = field('PRETTY_NAME') || field('NAME') || plat;
  const family: OsFamily = ids.some((i) => i === 'debian' || i === 'ubuntu') ? 'debian'
    : ids.some((i) => ['fedora', 'rhel', 'centos'].includes(i)) ? 'fedora'
    : ids.includes('arch') ? 'arch'
    : ids.includes('alpine') ? 'alpine'
    : 'other';
  return { family, name };
}

const onPath = (name: string): string | null => findOnPath(name) ?? null;

/** Where the linker looks for -lopenblas (the unversioned libopenblas.so comes with the dev package). */
const LIB_DIRS = ['/usr/lib', '/usr/lib64', '/usr/local/lib', `/usr/lib/${arch() === 'x64' ? 'x86_64' : arch() === 'arm64' ? 'aarch64' : arch()}-linux-gnu`, '/opt/homebrew/lib', '/usr/local/opt/openblas/lib'];

/** Whether a file whose name matches `name` is in `dir` or up to `depth` folders below it. */
function hasFile(dir: string, name: RegExp, depth = 3): boolean {
  if (depth < 0) return false;
  try {
    return readdirSync(dir, { withFileTypes: true })
      .some((e) => (e.isFile() && name.test(e.name)) || (e.isDirectory() && hasFile(join(dir, e.name), name, depth - 1)));
  } catch {
    return false;
  }
}

/** Look at this machine. Loads the backend (as every command does) and runs ffmpeg twice; writes nothing. */
export async function gatherFacts(requestedBackend?: string): Promise<DoctorFacts> {
  let osRelease = '';
  try {
    osRelease = readFileSync('/etc/os-release', 'utf8');
  } catch {
    // not Linux, or a minimal image
  }
  const { family, name } = osFamilyOf(osRelease);
  let backend: DoctorFacts['backend'];
  try {
    backend = { ok: true, info: await selectBackend(requestedBackend) };
  } catch (e) {
    backend = { ok: false, error: e instanceof Error ? e.message : String(e) };
  }
  const loaded = loadBlasAddon();
  const addon: DoctorFacts['addon'] = {
    path: ADDON_PATH, built: existsSync(ADDON_PATH), loaded: loaded !== null,
    disabled: process.env.ENGRAM_NATIVE === 'off', error: blasLoadError(),
    ...(loaded ? { blas: loaded.info() } : {}),
  };
  let ffmpeg: DoctorFacts['ffmpeg'];
  try {
    const r = resolveFfmpeg();
    const version = ffmpegVersion();
    const built = ffmpegEncoders();
    const encoders = ENCODERS.filter((e) => built.has(e));
    ffmpeg = { ok: true, path: r.path, source: r.source, version, encoders, lavfi: hasLavfi(ffmpegFormats()) };
  } catch (e) {
    ffmpeg = { ok: false, error: (e instanceof Error ? e.message : String(e)).split('\n')[0] };
  }
  let disk: DoctorFacts['disk'] = null;
  try {
    const s = statfsSync(process.cwd());
    disk = { path: process.cwd(), free: s.bavail * s.bsize };
  } catch {
    // statfs is not available everywhere
  }
  const fontDirs = FONT_DIRS.filter((d) => hasFile(d, /\.(ttf|otf|ttc)$/i));
  return {
    node: process.version, platform: platform(), arch: arch(), osName: name, family,
    root: typeof process.getuid === 'function' && process.getuid() === 0,
    sudo: onPath('sudo') !== null,
    backend,
    ...(requestedBackend ? { requestedBackend } : {}),
    addon,
    build: {
      compiler: (onPath('cc') ?? onPath('gcc') ?? onPath('clang')) !== null && (onPath('g++') ?? onPath('c++') ?? onPath('clang++')) !== null,
      make: onPath('make') !== null,
      python: (onPath('python3') ?? onPath('python')) !== null,
      openblas: LIB_DIRS.some((d) => existsSync(join(d, 'libopenblas.so')) || existsSync(join(d, 'libopenblas.dylib'))),
    },
    ffmpeg,
    ...(process.env.FFMPEG_PATH ? { ffmpegPathEnv: process.env.FFMPEG_PATH } : {}),
    fonts: { dirs: fontDirs, dejavu: fontDirs.some((d) => hasFile(d, /^DejaVuSans\.ttf$/i)) },
    memory: { total: totalmem(), free: freemem() },
    disk,
    espeak: onPath('espeak-ng'),
  };
}

const GiB = 2 ** 30;
/** Below this much free memory or disk, doctor warns: the demo and small runs need a few hundred MiB. */
export const LOW_SPACE = GiB;

/** The fast CPU path: what the addon needs that is missing, and the command for all of it. */
function blasFix(f: DoctorFacts): string {
  if (f.addon.disabled && f.addon.built) return 'unset ENGRAM_NATIVE (it is off)';
  const missing: Piece[] = [];
  if (!f.build.compiler || !f.build.make) missing.push('compiler');
  if (!f.build.python) missing.push('python');
  if (!f.build.openblas || (f.addon.built && !f.addon.disabled)) missing.push('openblas'); // built but not loading: OpenBLAS itself went missing
  const install = missing.length ? installCommand(f, missing) : '';
  if (install === null) {
    return 'install a C compiler, make, python3 and OpenBLAS (its development files: libopenblas.so) with this system\'s package manager, then run `npm run build:native`';
  }
  // root installs; the build is the user's own (in their checkout)
  const build = !install ? 'npm run build:native' : `${install}${install.startsWith('as root: ') ? '; then, as yourself,' : ' &&'} npm run build:native`;
  return f.addon.disabled ? `${build}, and unset ENGRAM_NATIVE` : build;
}

/** Judge what was seen. Pure: the same facts give the same checks. */
export function assess(f: DoctorFacts): DoctorReport {
  const checks: DoctorCheck[] = [];
  const major = Number(f.node.replace(/^v/, '').split('.')[0]);
  checks.push(major >= 20
    ? { name: 'node', status: 'ok', found: `${f.node} on ${f.osName} (${f.platform} ${f.arch})`, required: true }
    : { name: 'node', status: 'fail', found: `${f.node} on ${f.osName}`, impact: 'engram needs Node 20 or newer', fix: 'install Node 20 or newer (https://nodejs.org or your package manager)', required: true });

  const fast = f.backend.ok && ['wasm-blas', 'tensorflow', 'tensorflow-gpu'].includes(f.backend.info.name);
  if (!f.backend.ok) {
    checks.push({
      name: 'backend', status: 'fail', found: f.backend.error, impact: 'nothing can train',
      fix: f.requestedBackend ? `drop --backend and unset ENGRAM_BACKEND (it asks for ${f.requestedBackend}) to take the first backend that loads` : 'reinstall the packages: npm ci',
      required: true,
    });
  } else {
    const b = f.backend.info;
    const why = (r: string) => (/is not installed/.test(r) ? 'not installed' : /OpenBLAS addon/.test(r) ? 'no OpenBLAS addon, see blas' : r.length > 80 ? `${r.slice(0, 77)}…` : r);
    const skipped = b.skipped.length ? `; skipped ${b.skipped.map((s) => `${s.name} (${why(s.reason)})`).join(', ')}` : '';
    checks.push({
      name: 'backend', status: fast ? 'ok' : 'warn', found: `${b.name} on ${b.device}, ${b.threads} thread(s)${skipped}`,
      ...(fast ? {} : { impact: `training runs on ${b.name === 'cpu' ? 'the pure-JavaScript cpu backend' : 'plain wasm'}, 10–40× slower than the OpenBLAS path (see blas)` }),
      required: true,
    });
  }

  const blas = f.addon.blas;
  if (f.addon.loaded && blas) {
    checks.push({ name: 'blas', status: 'ok', found: `OpenBLAS addon ${f.addon.path}: ${blas.config.trim()} (${blas.corename}), ${blas.threads} thread(s)`, required: false });
  } else {
    const why = f.addon.disabled ? `the OpenBLAS addon is switched off (ENGRAM_NATIVE=off)${f.addon.built ? '' : ', and not built either'}`
      : f.addon.built ? `the OpenBLAS addon is built but does not load (${f.addon.error})`
      : `the OpenBLAS addon is not built (${!f.build.openblas ? 'no OpenBLAS development files' : !f.build.compiler || !f.build.make ? 'no C compiler or make' : !f.build.python ? 'no python3 for node-gyp' : 'everything its build needs is here'})`;
    checks.push({
      name: 'blas', status: 'warn', found: why,
      impact: fast
        ? 'dense eigenproblems (the certificate) are limited to 256×256 and solved in JavaScript'
        : 'the fast CPU path is off: training 10–40× slower, and dense eigenproblems (the certificate) limited to 256×256 in JavaScript',
      fix: blasFix(f), required: false,
    });
  }

  const pointedAt = f.ffmpegPathEnv ? `point FFMPEG_PATH (now ${f.ffmpegPathEnv}) at a full ffmpeg build, or unset it` : null;
  if (!f.ffmpeg.ok) {
    const add = installCommand(f, ['ffmpeg']);
    checks.push({ name: 'ffmpeg', status: 'fail', found: f.ffmpeg.error, impact: 'no video can be read or written, and the demo cannot render its clip', fix: pointedAt ?? add ?? 'install ffmpeg, or set FFMPEG_PATH to an ffmpeg binary', required: true });
  } else {
    const g = f.ffmpeg;
    const lacking = ENCODERS.filter((e) => !g.encoders.includes(e));
    const needed = lacking.filter((e) => e !== 'libx264');
    const found = `${g.version} (${g.path}, from ${g.source}); encoders ${g.encoders.join(' ') || 'none of ' + ENCODERS.join(' ')}${g.lavfi ? '; lavfi' : '; no lavfi'}`;
    const ok = !lacking.length && g.lavfi;
    const add = installCommand(f, ['ffmpeg']);
    checks.push({
      name: 'ffmpeg', status: needed.length || !g.lavfi ? 'fail' : ok ? 'ok' : 'warn', found,
      ...(ok ? {} : {
        impact: [
          needed.length ? `without ${needed.join(', ')} engram cannot write ${needed.map((e) => ({ mpeg4: 'MP4', ffv1: "the demo's clip", gif: 'GIFs', png: 'PNG frames' }[e])).join(', ')}` : '',
          !g.lavfi ? 'without lavfi there is no demo clip and no lavfi: input' : '',
          lacking.includes('libx264') ? 'without libx264 MP4 recordings use MPEG-4 Part 2 (larger, plays everywhere)' : '',
        ].filter(Boolean).join('; '),
        fix: pointedAt ?? `${add ? `${add}, or ` : ''}point FFMPEG_PATH at a full ffmpeg build`,
      }),
      required: needed.length > 0 || !g.lavfi,
    });
  }

  if (f.fonts.dirs.length && f.fonts.dejavu) {
    checks.push({ name: 'fonts', status: 'ok', found: `DejaVu Sans in ${f.fonts.dirs.join(', ')}`, required: false });
  } else {
    const add = installCommand(f, ['fonts']);
    checks.push({
      name: 'fonts', status: 'warn',
      found: f.fonts.dirs.length ? `fonts in ${f.fonts.dirs.join(', ')}, but not DejaVu Sans` : 'no font files found',
      impact: f.fonts.dirs.length ? 'plot labels use another font' : 'plots render without labels',
      fix: add ?? 'install the DejaVu fonts with this system\'s package manager', required: false,
    });
  }

  const mem = `${formatBytes(f.memory.free)} free of ${formatBytes(f.memory.total)}`;
  checks.push(f.memory.free >= LOW_SPACE
    ? { name: 'memory', status: 'ok', found: mem, required: false }
    : { name: 'memory', status: 'warn', found: mem, impact: 'big runs are refused up front (E_RESOURCE); the demo needs about 0.5 GiB', fix: 'close other programs, or run smaller (--size, --width, --frames)', required: false });

  if (f.disk) {
    const d = `${formatBytes(f.disk.free)} free in ${f.disk.path}`;
    checks.push(f.disk.free >= LOW_SPACE
      ? { name: 'disk', status: 'ok', found: d, required: false }
      : { name: 'disk', status: 'warn', found: d, impact: 'checkpoints of wide nets take tens to hundreds of MiB each', fix: 'free some space, or give --out a directory on a bigger disk', required: false });
  }

  checks.push(f.espeak
    ? { name: 'espeak-ng', status: 'ok', found: f.espeak, required: false }
    : { name: 'espeak-ng', status: 'warn', found: 'not found', impact: 'only for the speech examples and tests (they are skipped)', fix: installCommand(f, ['espeak']) ?? 'install espeak-ng with this system\'s package manager', required: false });

  return {
    kind: 'doctor',
    ok: checks.every((c) => !(c.required && c.status === 'fail')),
    machine: { node: f.node, platform: f.platform, arch: f.arch, os: f.osName, family: f.family },
    checks,
  };
}

export async function doctor(requestedBackend?: string): Promise<DoctorReport> {
  return assess(await gatherFacts(requestedBackend));
}
