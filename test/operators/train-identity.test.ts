/**
 * The identity probe's training on one example, now the train operator over the FC/U-Net trainer:
 * it reaches the loss target (or the cap) after as many steps, with the same loss, as the bare
 * loop it replaced (fixtures/assoc-identity-before.json, recorded from `identityRun` on the same
 * input before the change), and says 'diverged' the way that loop did.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { lastValueFrom } from 'rxjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../engine/backend.ts';
import { createFcModel, type Model, type NetSpec } from '../../engine/model.ts';
import { createUnetModel } from '../../engine/unet.ts';
import { unitVector } from '../../engine/vectors.ts';
import type { IdentityEvent } from '../../events.ts';
import { fitExample, identitySpec, type IdentityArch, type IdentityConfig } from '../../pipelines/identity.ts';
import { readOneSample } from '../../pipelines/inputs.ts';

beforeAll(async () => {
  await selectBackend();
});

const before = JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures/assoc-identity-before.json'), 'utf8')) as {
  identity: { arch: IdentityArch; depth: number; train: Omit<IdentityEvent['train'], 'wallMs'> }[];
};

/** The configuration the fixture was recorded with. */
const cfg: Omit<IdentityConfig, 'outDir' | 'command' | 'archs' | 'depths' | 'rhos' | 'perRho' | 'force'> = {
  runId: 'r', input: 'lavfi:testsrc2=s=320x240:d=1', image: { width: 8, height: 8, gray: false },
  fc: { width: 64, activation: 'relu' }, cnn: { channels: 4, activation: 'leaky_relu' }, bias: true, init: 'torch',
  optimizer: { name: 'adam', lr: 1e-3 }, lossTarget: 1e-4, maxSteps: 400, seed: 1,
};
const net = (arch: IdentityArch, xhat: Float32Array, over: Partial<typeof cfg> = {}): Model<NetSpec> => {
  const spec = identitySpec({ ...cfg, ...over }, arch, 1);
  return spec.kind === 'fc' ? createFcModel(spec, unitVector(xhat)) : createUnetModel(spec);
};

describe('identity: training on one example through the train operator', () => {
  it.each(['fc', 'cnn'] as IdentityArch[])('%s: the same steps, loss and reason as before', async (arch) => {
    const xhat = await readOneSample(cfg.input, { kind: 'images', width: 8, height: 8, channels: 3, fps: 1 });
    const want = before.identity.find((r) => r.arch === arch)!.train;
    const model = net(arch, xhat);
    try {
      const got = await lastValueFrom(fitExample(model, xhat, cfg));
      expect(got.reason).toBe(want.reason);
      expect(got.steps).toBe(want.steps);
      expect(got.loss).toBeCloseTo(want.loss, 6);
      if (got.reason === 'loss-target') expect(got.loss).toBeLessThanOrEqual(cfg.lossTarget);
    } finally {
      model.dispose();
    }
  });

  it('a learning rate that blows up is reported as diverged, with the non-finite loss and the finite steps before it', async () => {
    const xhat = Float32Array.from({ length: 8 * 8 * 3 }, (_, i) => (i % 7) / 7);
    const model = net('fc', xhat, { optimizer: { name: 'gd', lr: 1e30 } });
    try {
      const got = await lastValueFrom(fitExample(model, xhat, { ...cfg, optimizer: { name: 'gd', lr: 1e30 } }));
      expect(got.reason).toBe('diverged');
      expect(Number.isFinite(got.loss)).toBe(false);
      expect(got.steps).toBeGreaterThanOrEqual(1);
      expect(got.steps).toBeLessThan(cfg.maxSteps);
    } finally {
      model.dispose();
    }
  });
});
