/**
 * `engram doctor` as a user runs it: with this machine's addon (built in CI's first leg, hidden in
 * its second) and with the addon switched off, a missing ffmpeg, and a bad argument.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ADDON_PATH, loadBlasAddon } from '../../engine/native-blas.ts';
import type { DoctorReport } from '../../pipelines/doctor.ts';

const root = join(import.meta.dirname, '../..');
const engram = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  spawnSync(process.execPath, [join(root, 'bin/engram.mjs'), 'doctor', ...args], {
    encoding: 'utf8', cwd: root, timeout: 120_000, env: { ...process.env, ENGRAM_BACKEND: '', ...env },
  });
const reportOf = (stdout: string) => JSON.parse(stdout.trim().split('\n')[0]) as DoctorReport;
const status = (r: DoctorReport, name: string) => r.checks.find((c) => c.name === name)!;
/** The addon loads (built, not switched off): what a machine after `npm run setup` has. */
const addonHere = loadBlasAddon() !== null;

describe('engram doctor', () => {
  it(`reports this machine (${addonHere ? 'with' : 'without'} the OpenBLAS addon) and exits 0`, () => {
    const r = engram(['--json']);
    expect(r.stderr).not.toMatch(/E_[A-Z]+:|internal error/);
    expect(r.status).toBe(0);
    const report = reportOf(r.stdout);
    expect(report).toMatchObject({ kind: 'doctor', ok: true });
    expect(report.checks.map((c) => c.name)).toEqual(['node', 'backend', 'blas', 'ffmpeg', 'fonts', 'memory', 'disk', 'espeak-ng']);
    const blas = status(report, 'blas');
    if (addonHere) {
      expect(blas.status).toBe('ok');
      expect(blas.found).toMatch(/OpenBLAS .*\d+ thread\(s\)/);
      expect(status(report, 'backend').found).toMatch(/^(wasm-blas|tensorflow|tensorflow-gpu) on /);
    } else {
      expect(blas.status).toBe('warn');
      expect(blas.found).toMatch(/not built|does not load|switched off/);
      expect(blas.fix).toMatch(/npm run build:native$/);
    }
    expect(status(report, 'ffmpeg')).toMatchObject({ status: expect.stringMatching(/ok|warn/) });
    expect(status(report, 'ffmpeg').found).toMatch(/encoders .*ffv1/);

    const plain = engram([]);
    expect(plain.status).toBe(0);
    expect(plain.stdout).toMatch(/^engram doctor: what this machine gives engram\n/);
    expect(plain.stdout).toMatch(/^ {2}[✓!] blas /m);
    expect(plain.stdout.trim().split('\n').at(-1)).toMatch(/^engram runs here/);
  });

  it('without the addon: the backend is plain wasm and the blas line says how to get the fast path', () => {
    const r = engram(['--json'], { ENGRAM_NATIVE: 'off' });
    expect(r.status).toBe(0);
    const report = reportOf(r.stdout);
    const backend = status(report, 'backend');
    if (!/^tensorflow/.test(backend.found)) {
      expect(backend.status).toBe('warn');
      expect(backend.found).toMatch(/^wasm on .*, 1 thread\(s\); skipped .*wasm-blas \(no OpenBLAS addon, see blas\)/);
    }
    const blas = status(report, 'blas');
    expect(blas.status).toBe('warn');
    if (existsSync(ADDON_PATH)) expect(blas.fix).toBe('unset ENGRAM_NATIVE (it is off)');
    else expect(blas.fix).toMatch(/npm run build:native, and unset ENGRAM_NATIVE$/);
    const quiet = engram(['--quiet'], { ENGRAM_NATIVE: 'off' });
    expect(quiet.stdout.trim()).toMatch(/^engram runs here; \d optional pieces? missing: .*blas/);
  });

  it('an ffmpeg that is not there fails with E_FFMPEG (exit 1) after the whole report', () => {
    const r = engram([], { FFMPEG_PATH: '/nonexistent/ffmpeg' });
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/^ {2}✗ ffmpeg +FFMPEG_PATH points to \/nonexistent\/ffmpeg/m);
    expect(r.stdout).toMatch(/^ {2}[✓!] espeak-ng/m); // the report goes on past the failure
    expect(r.stderr).toMatch(/^engram: E_FFMPEG: engram cannot run here: ffmpeg: FFMPEG_PATH points to/m);
    const j = engram(['--json'], { FFMPEG_PATH: '/nonexistent/ffmpeg' });
    expect(j.status).toBe(1);
    const lines = j.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines[0]).toMatchObject({ kind: 'doctor', ok: false });
    expect(lines.at(-1)).toMatchObject({ kind: 'error', code: 'E_FFMPEG' });
  });

  it('takes no input, and a backend name that is none is a usage error (exit 2)', () => {
    const r = engram(['clip.mp4']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/E_BAD_ARGUMENT: doctor takes no input/);
    const env = engram([], { ENGRAM_BACKEND: 'bogus' });
    expect(env.status).toBe(2);
    expect(env.stderr).toMatch(/^engram: E_BAD_ARGUMENT: ENGRAM_BACKEND must be one of .* \(got 'bogus'\)/m);
  });
});
