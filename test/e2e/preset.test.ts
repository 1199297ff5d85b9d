/** --preset paper fills in the research's network and optimizer for the input's kind; options given explicitly win. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../..');
const tmp = mkdtempSync(join(tmpdir(), 'engram-preset-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function memorize(name: string, extra: string[]) {
  const out = join(tmp, name);
  const r = spawnSync(process.execPath, [join(root, 'bin/engram.mjs'), 'memorize', 'lavfi:life=s=16x16:ratio=0.5:seed=3:r=10', '--size', '16x16', '--frames', '4',
    '--max-steps', '2', '--recall-steps', '50', '--no-recovery', '--monitor-every', '0', '--stability-every', '0', '--out', out, '--quiet', ...extra], { encoding: 'utf8', timeout: 180_000 });
  const start = readFileSync(join(out, 'events.jsonl'), 'utf8').split('\n').map((l) => (l ? JSON.parse(l) : null)).find((e) => e?.kind === 'run-start');
  return { r, config: start.config, dataset: readFileSync(join(out, 'events.jsonl'), 'utf8').split('\n').map((l) => (l ? JSON.parse(l) : null)).find((e) => e?.kind === 'dataset') };
}

describe('--preset paper', () => {
  it('video: FC width 1024, depth 16, selu, adam 1e-4, trained by gradient', () => {
    const { r, config, dataset } = memorize('paper', ['--preset', 'paper']);
    expect(r.status, r.stderr).toBe(0);
    expect(config.model).toMatchObject({ width: 1024, depth: 16, activation: 'selu' });
    expect(config.optimizer).toMatchObject({ name: 'adam', lr: 1e-4 });
    expect(config.fit).toBe('gradient');
    expect(dataset.fit.method).toBe('gradient');
  }, 180_000);

  it('explicit options win over the preset', () => {
    const { r, config } = memorize('override', ['--preset', 'paper', '--width', '64', '--depth', '3', '--lr', '1e-3']);
    expect(r.status, r.stderr).toBe(0);
    expect(config.model).toMatchObject({ width: 64, depth: 3, activation: 'selu' });
    expect(config.optimizer).toMatchObject({ name: 'adam', lr: 1e-3 });
  }, 180_000);

  it('an unknown preset is a bad argument (exit 2)', () => {
    const r = spawnSync(process.execPath, [join(root, 'bin/engram.mjs'), 'memorize', 'lavfi:testsrc2=s=8x8:d=1', '--preset', 'fast', '--out', join(tmp, 'bad')], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--preset must be paper \(got 'fast'\)/);
  });
});
