/**
 * engram doctor's judgement (pipelines/doctor.ts `assess`), from facts: what it reports with and
 * without the OpenBLAS addon, and the exact command it gives for each missing piece per platform.
 */
import { describe, expect, it } from 'vitest';
import { assess, hasLavfi, installCommand, osFamilyOf, type DoctorFacts } from '../../pipelines/doctor.ts';
import { formatDoctor, summaryOf } from '../../cli/doctor.ts';

const GiB = 2 ** 30;
const FAST = {
  name: 'wasm-blas' as const, tfBackend: 'wasm-blas', device: 'CPU', blas: 'OpenBLAS 0.3.21', threads: 2,
  skipped: [{ name: 'tensorflow-gpu' as const, reason: '@tensorflow/tfjs-node-gpu is not installed or its native library is missing (x)' }],
};
const PLAIN = { ...FAST, name: 'wasm' as const, tfBackend: 'wasm', blas: null, threads: 1, skipped: [...FAST.skipped, { name: 'wasm-blas' as const, reason: 'the OpenBLAS addon is not available (not built)' }] };

function facts(over: Partial<DoctorFacts> = {}): DoctorFacts {
  return {
    node: 'v20.20.0', platform: 'linux', arch: 'x64', osName: 'Debian GNU/Linux 12 (bookworm)', family: 'debian', root: false, sudo: true,
    backend: { ok: true, info: FAST },
    addon: { path: '/x/engram_blas.node', built: true, loaded: true, disabled: false, error: '', blas: { config: 'OpenBLAS 0.3.21', corename: 'Zen', threads: 2 } },
    build: { compiler: true, make: true, python: true, openblas: true },
    ffmpeg: { ok: true, path: '/usr/bin/ffmpeg', source: 'PATH', version: '5.1.9', encoders: ['libx264', 'mpeg4', 'ffv1', 'gif', 'png'], lavfi: true },
    fonts: { dirs: ['/usr/share/fonts'], dejavu: true },
    memory: { total: 24 * GiB, free: 20 * GiB },
    disk: { path: '/work', free: 80 * GiB },
    espeak: '/usr/bin/espeak-ng',
    ...over,
  };
}
/** A fresh Debian machine: Node, npm and a compiler, no OpenBLAS, so no addon. */
const FRESH: Partial<DoctorFacts> = {
  backend: { ok: true, info: PLAIN },
  addon: { path: '/x/engram_blas.node', built: false, loaded: false, disabled: false, error: "Cannot find module '/x/engram_blas.node'" },
  build: { compiler: true, make: true, python: true, openblas: false },
};
const check = (f: DoctorFacts, name: string) => assess(f).checks.find((c) => c.name === name)!;

describe('engram doctor', () => {
  it('with the addon: every check passes and nothing is to add', () => {
    const r = assess(facts());
    expect(r.ok).toBe(true);
    expect(r.checks.map((c) => [c.name, c.status])).toEqual([
      ['node', 'ok'], ['backend', 'ok'], ['blas', 'ok'], ['ffmpeg', 'ok'], ['fonts', 'ok'], ['memory', 'ok'], ['disk', 'ok'], ['espeak-ng', 'ok'],
    ]);
    expect(r.checks.every((c) => c.fix === undefined)).toBe(true);
    expect(check(facts(), 'blas').found).toContain('2 thread(s)');
    expect(check(facts(), 'backend').found).toMatch(/^wasm-blas on CPU, 2 thread\(s\); skipped tensorflow-gpu \(not installed\)/);
    expect(summaryOf(r)).toBe('engram runs here with everything it can use');
  });

  it('without the addon (a fresh Debian machine): plain wasm, and the one line that adds the fast path', () => {
    const f = facts(FRESH);
    const r = assess(f);
    expect(r.ok).toBe(true); // engram runs, slowly
    expect(check(f, 'backend')).toMatchObject({ status: 'warn', required: true });
    expect(check(f, 'backend').found).toContain('wasm-blas (no OpenBLAS addon, see blas)');
    const blas = check(f, 'blas');
    expect(blas.status).toBe('warn');
    expect(blas.found).toBe('the OpenBLAS addon is not built (no OpenBLAS development files)');
    expect(blas.impact).toMatch(/10–40× slower/);
    expect(blas.fix).toBe('sudo apt-get update && sudo apt-get install -y libopenblas-dev && npm run build:native');
    expect(summaryOf(r)).toBe('engram runs here; 1 optional piece missing: blas');
    const text = formatDoctor(r).join('\n');
    expect(text).toMatch(/! blas +the OpenBLAS addon is not built/);
    expect(text).toContain('fix: sudo apt-get update && sudo apt-get install -y libopenblas-dev && npm run build:native');
    expect(text).toMatch(/impact: the fast CPU path is off: training 10–40× slower/);
  });

  it('names every missing build piece, and no sudo for root', () => {
    const f = facts({ ...FRESH, root: true, build: { compiler: false, make: false, python: false, openblas: false } });
    expect(check(f, 'blas').found).toContain('no OpenBLAS development files');
    expect(check(f, 'blas').fix).toBe('apt-get update && apt-get install -y build-essential python3 libopenblas-dev && npm run build:native');
    const compilerOnly = facts({ ...FRESH, build: { compiler: false, make: true, python: true, openblas: true } });
    expect(check(compilerOnly, 'blas').found).toContain('no C compiler or make');
    expect(check(compilerOnly, 'blas').fix).toBe('sudo apt-get update && sudo apt-get install -y build-essential && npm run build:native');
    // not root and no sudo (a container's user): a command for root, said so
    expect(check(facts({ ...FRESH, sudo: false }), 'blas').fix).toBe('as root: apt-get update && apt-get install -y libopenblas-dev; then, as yourself, npm run build:native');
    // everything is there but the addon was never built (ENGRAM_SKIP_NATIVE, --ignore-scripts) or its build failed: rebuild
    const rebuild = facts({ ...FRESH, build: { compiler: true, make: true, python: true, openblas: true } });
    expect(check(rebuild, 'blas').found).toBe('the OpenBLAS addon is not built (everything its build needs is here)');
    expect(check(rebuild, 'blas').fix).toBe('npm run build:native');
  });

  it('a built addon that does not load (OpenBLAS removed since) reinstalls OpenBLAS; ENGRAM_NATIVE=off says to unset it', () => {
    const broken = facts({ ...FRESH, addon: { path: '/x', built: true, loaded: false, disabled: false, error: 'libopenblas.so.0: cannot open shared object file' } });
    expect(check(broken, 'blas').found).toContain('built but does not load (libopenblas.so.0');
    expect(check(broken, 'blas').fix).toContain('libopenblas-dev && npm run build:native');
    const off = facts({ ...FRESH, addon: { path: '/x', built: true, loaded: false, disabled: true, error: 'disabled by ENGRAM_NATIVE=off' } });
    expect(check(off, 'blas').found).toBe('the OpenBLAS addon is switched off (ENGRAM_NATIVE=off)');
    expect(check(off, 'blas').fix).toBe('unset ENGRAM_NATIVE (it is off)');
    const offAndMissing = facts({ ...FRESH, addon: { ...FRESH.addon!, disabled: true } });
    expect(check(offAndMissing, 'blas').found).toBe('the OpenBLAS addon is switched off (ENGRAM_NATIVE=off), and not built either');
    expect(check(offAndMissing, 'blas').fix).toBe('sudo apt-get update && sudo apt-get install -y libopenblas-dev && npm run build:native, and unset ENGRAM_NATIVE');
  });

  it('gives other platforms their own package names, and plain words where it knows none', () => {
    expect(check(facts({ ...FRESH, family: 'fedora' }), 'blas').fix).toBe('sudo dnf install -y openblas-devel && npm run build:native');
    expect(check(facts({ ...FRESH, family: 'alpine', root: true }), 'blas').fix).toBe('apk add openblas-dev && npm run build:native');
    expect(check(facts({ ...FRESH, family: 'other' }), 'blas').fix).toMatch(/^install a C compiler, make, python3 and OpenBLAS .* then run `npm run build:native`$/);
    expect(installCommand({ family: 'macos', root: false, sudo: true }, ['ffmpeg', 'espeak'])).toBe('brew install ffmpeg espeak-ng');
    expect(installCommand({ family: 'macos', root: false, sudo: true }, ['openblas'])).toBeNull();
  });

  it('reads the family from /etc/os-release', () => {
    expect(osFamilyOf('ID=ubuntu\nID_LIKE=debian\nPRETTY_NAME="Ubuntu 24.04 LTS"\n', 'linux')).toEqual({ family: 'debian', name: 'Ubuntu 24.04 LTS' });
    expect(osFamilyOf('ID="rocky"\nID_LIKE="rhel centos fedora"\nNAME="Rocky Linux"\n', 'linux').family).toBe('fedora');
    expect(osFamilyOf('ID=alpine\n', 'linux').family).toBe('alpine');
    expect(osFamilyOf('ID=arch\n', 'linux').family).toBe('arch');
    expect(osFamilyOf('ID=nixos\n', 'linux').family).toBe('other');
    expect(osFamilyOf('', 'darwin').family).toBe('macos');
  });

  it('finds lavfi in the -formats list of FFmpeg up to 6.0 and from 6.1 on (a third flag column)', () => {
    expect(hasLavfi(' D. = Demuxing supported\n .E = Muxing supported\n --\n D  lavfi           Libavfilter virtual input device\n')).toBe(true);
    expect(hasLavfi(' D.. = Demuxing supported\n ..d = Is a device\n ---\n D d lavfi           Libavfilter virtual input device\n')).toBe(true);
    expect(hasLavfi(' D  lavf_x  something\n  E mp4  MP4\n')).toBe(false);
  });

  it('a backend on tensorflow needs the addon only for the certificate', () => {
    const tfBackend = { ...FAST, name: 'tensorflow' as const, tfBackend: 'tensorflow', blas: 'libtensorflow (Eigen)' };
    const f = facts({ ...FRESH, backend: { ok: true, info: tfBackend } });
    expect(check(f, 'backend').status).toBe('ok');
    expect(check(f, 'blas').impact).toBe('dense eigenproblems (the certificate) are limited to 256×256 and solved in JavaScript');
  });

  it('FFMPEG_PATH wins over PATH: its fix is FFMPEG_PATH, not installing ffmpeg', () => {
    const f = facts({ ffmpeg: { ok: false, error: 'FFMPEG_PATH points to /x, which does not exist' }, ffmpegPathEnv: '/x' });
    expect(check(f, 'ffmpeg').fix).toBe('point FFMPEG_PATH (now /x) at a full ffmpeg build, or unset it');
  });

  it('no ffmpeg, or one without lavfi or FFV1, is a failure engram cannot run past; no libx264 only a warning', () => {
    const none = facts({ ffmpeg: { ok: false, error: 'ffmpeg not found' } });
    expect(assess(none).ok).toBe(false);
    expect(check(none, 'ffmpeg')).toMatchObject({ status: 'fail', required: true, fix: 'sudo apt-get update && sudo apt-get install -y ffmpeg' });
    const noX264 = facts({ ffmpeg: { ok: true, path: '/f', source: 'PATH', version: '4', encoders: ['mpeg4', 'ffv1', 'gif', 'png'], lavfi: true } });
    expect(assess(noX264).ok).toBe(true);
    expect(check(noX264, 'ffmpeg')).toMatchObject({ status: 'warn', required: false });
    expect(check(noX264, 'ffmpeg').impact).toContain('MPEG-4 Part 2');
    const noLavfi = facts({ ffmpeg: { ok: true, path: '/f', source: 'PATH', version: '4', encoders: ['libx264', 'mpeg4', 'gif', 'png'], lavfi: false } });
    expect(assess(noLavfi).ok).toBe(false);
    expect(check(noLavfi, 'ffmpeg').impact).toContain("the demo's clip");
  });

  it('no fonts, little memory or disk and no espeak-ng are warnings with their fixes', () => {
    const f = facts({ fonts: { dirs: [], dejavu: false }, memory: { total: GiB, free: 0.2 * GiB }, disk: { path: '/w', free: 0.1 * GiB }, espeak: null });
    const r = assess(f);
    expect(r.ok).toBe(true);
    expect(check(f, 'fonts')).toMatchObject({ status: 'warn', impact: 'plots render without labels', fix: 'sudo apt-get update && sudo apt-get install -y fonts-dejavu-core' });
    expect(check(f, 'memory').status).toBe('warn');
    expect(check(f, 'disk').status).toBe('warn');
    expect(check(f, 'espeak-ng')).toMatchObject({ status: 'warn', fix: 'sudo apt-get update && sudo apt-get install -y espeak-ng' });
    expect(summaryOf(r)).toBe('engram runs here; 4 optional pieces missing: fonts, memory, disk, espeak-ng');
  });

  it('a backend that cannot start fails the report', () => {
    const f = facts({ backend: { ok: false, error: "backend 'tensorflow' is not available here" }, requestedBackend: 'tensorflow' });
    expect(assess(f).ok).toBe(false);
    expect(check(f, 'backend')).toMatchObject({ status: 'fail', required: true });
    expect(summaryOf(assess(f))).toBe('engram cannot run here: backend not usable');
    expect(check(f, 'backend').fix).toBe('drop --backend and unset ENGRAM_BACKEND (it asks for tensorflow) to take the first backend that loads');
  });
});
