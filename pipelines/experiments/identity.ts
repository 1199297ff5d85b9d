/**
 * identity (docs/math.md §9), through `engram identity`: train fully connected nets and U-Nets of
 * growing depth on one natural image, then probe each away from it. The research: a deep FC net
 * learns the constant map (it returns the training image whatever it is given), a shallow CNN the
 * identity (it follows its input).
 */
import type { EngramEvent, IdentityEvent } from '../../events.ts';
import { identityHeatmap } from '../../sinks/plots/identity.ts';
import { identityRun, rhoGrid, type IdentityConfig } from '../identity.ts';
import type { Experiment, ExperimentOutcome } from '../reproduce.ts';
import { fmt, footageClip, sized } from './common.ts';

type Plan = { fcDepths: number[]; cnnDepths: number[]; size: number; width: number; channels: number; maxSteps: number; rhos: number; probes: number };

const PLANS: Record<'toy' | 'quick' | 'full', Plan> = {
  toy: { fcDepths: [1, 3], cnnDepths: [1], size: 8, width: 64, channels: 4, maxSteps: 150, rhos: 5, probes: 2 },
  quick: { fcDepths: [1, 2, 4, 8], cnnDepths: [1, 2, 3], size: 16, width: 512, channels: 16, maxSteps: 1500, rhos: 11, probes: 8 },
  full: { fcDepths: [1, 2, 4, 8, 16], cnnDepths: [1, 2, 3, 4, 5], size: 32, width: 1024, channels: 32, maxSteps: 5000, rhos: 21, probes: 16 },
};

export const identity: Experiment = {
  name: 'identity',
  title: 'deep fully connected nets learn the constant map, shallow CNNs the identity',
  published: 'networks trained on one image to reproduce it: a deep FC net becomes the constant map (it outputs the training image for any input), a shallow CNN becomes the identity (it follows its input); depth moves both towards the constant map.',
  sizes: sized({
    toy: 'an 8×8 gray frame; FC width 64 at depths 1 and 3, a U-Net of 1 level with 4 channels; 150 Adam steps each',
    quick: 'the first frame of a natural clip at 16×16 gray; FC width 512 at depths 1, 2, 4, 8 and U-Nets of 1–3 levels with 16 channels; Adam 1e-3, at most 1,500 steps or MSE 1e-6; 11 ρ × 8 probes',
    full: 'the same frame at 32×32; FC width 1024 at depths 1–16, U-Nets of 1–5 levels with 32 channels; at most 5,000 steps; 21 ρ × 16 probes',
  }),
  unavailable: (ctx) => (footageClip(ctx.media) ? null : 'no natural footage: pass --media DIR (a directory of video clips; the first frame of the first clip is the training image)'),
  async run(ctx) {
    const plan = PLANS[ctx.size];
    const input = footageClip(ctx.media)!;
    const base = {
      input, image: { width: plan.size, height: plan.size, gray: true },
      fc: { width: plan.width, activation: 'relu' }, cnn: { channels: plan.channels, activation: 'leaky_relu' },
      bias: true, init: 'torch', optimizer: { name: 'adam' as const, lr: 1e-3 }, lossTarget: 1e-6, maxSteps: plan.maxSteps,
      rhos: rhoGrid(plan.rhos), perRho: plan.probes, seed: ctx.seed,
    };
    const command = (arch: string, depths: number[], out: string) =>
      `engram identity --arch ${arch} --depth ${depths.join(',')} --input ${input} --size ${plan.size}x${plan.size} --gray --width ${plan.width} ` +
      `--channels ${plan.channels} --lr 1e-3 --loss-target 1e-6 --max-steps ${plan.maxSteps} --rhos ${plan.rhos} --probes ${plan.probes} --seed ${ctx.seed} --out ${out}`;
    const sweep = async (arch: 'fc' | 'cnn', depths: number[]) => {
      const sub = `${arch}-depths`;
      const events = await ctx.run(sub, command(arch, depths, `${ctx.dir}/runs/${sub}`), (outDir, runId) => {
        const cfg: IdentityConfig = { ...base, runId, outDir, force: ctx.force, archs: [arch], depths, command: command(arch, depths, outDir) };
        return identityRun(cfg, ctx.backend);
      }, { steps: plan.maxSteps });
      return events.filter((e): e is IdentityEvent => e.kind === 'identity');
    };
    const fc = await sweep('fc', plan.fcDepths);
    const cnn = await sweep('cnn', plan.cnnDepths);
    const all: EngramEvent[] = [...fc, ...cnn];
    const heat = await ctx.plot('identity.png', identityHeatmap(all)!);

    const deepFc = fc[fc.length - 1], shallowCnn = cnn[0];
    const fcConst = deepFc.label === 'constant', cnnIdent = shallowCnn.label === 'identity';
    // depth pushes towards the constant map: distance to the constant map does not grow with depth (within 0.05)
    const towards = (es: IdentityEvent[]) => es.every((e, i) => i === 0 || e.distance.constant <= es[i - 1].distance.constant + 0.05);
    const fcTowards = towards(fc);
    const unfit = [...fc, ...cnn].filter((e) => e.train.reason !== 'loss-target');
    const status = fcConst && cnnIdent ? 'agrees' : fcConst || cnnIdent ? 'partly' : 'disagrees';
    const describe = (e: IdentityEvent) => `${e.label} (distance to identity ${fmt(e.distance.identity)}, to constant ${fmt(e.distance.constant)})`;
    return {
      status,
      summary: `FC depth ${deepFc.depth} → ${deepFc.label}, U-Net depth ${shallowCnn.depth} → ${shallowCnn.label}` +
        (status === 'agrees' ? ', as published' : '') + (unfit.length ? `; ${unfit.length} net(s) stopped before the loss target (${unfit.map((e) => `${e.arch} ${e.depth}: MSE ${fmt(e.train.loss)}`).join(', ')})` : '') +
        (ctx.size === 'toy' ? ' (toy size: tiny nets, few steps)' : ''),
      rows: [
        { what: `deep FC (depth ${deepFc.depth})`, published: 'constant map', measured: describe(deepFc), agrees: fcConst ? 'yes' : 'no', why: fcConst ? undefined : deepFc.train.reason !== 'loss-target' ? 'not trained to the loss target' : 'depth of the quick grid' },
        { what: `shallow CNN (depth ${shallowCnn.depth})`, published: 'identity', measured: describe(shallowCnn), agrees: cnnIdent ? 'yes' : 'no', why: cnnIdent ? undefined : shallowCnn.train.reason !== 'loss-target' ? 'not trained to the loss target' : undefined },
        { what: 'FC: deeper → closer to constant', published: 'yes', measured: fc.map((e) => `d${e.depth}: ${fmt(e.distance.constant)}`).join(', '), agrees: fcTowards ? 'yes' : 'no' },
      ],
      measured: {
        input, size: plan.size,
        nets: [...fc, ...cnn].map((e) => ({ arch: e.arch, depth: e.depth, params: e.params, label: e.label, distance: e.distance, train: e.train })),
      },
      blocks: [
        { kind: 'image', file: heat, caption: 'corrI − corrC per net (rows) and probe correlation ρ (columns): blue follows its input (identity), red returns the training image (constant).' },
        {
          kind: 'table', head: ['net', 'parameters', 'trained', 'label', 'to identity', 'to constant'],
          rows: [...fc, ...cnn].map((e) => [`${e.arch} depth ${e.depth}`, String(e.params), `${e.train.steps} steps, MSE ${fmt(e.train.loss)} (${e.train.reason})`, e.label, fmt(e.distance.identity), fmt(e.distance.constant)]),
        },
        { kind: 'paragraph', text: 'Distances are normalized: 0 is exactly that map\'s scores on the same probes, 1 the other map\'s; a net is labeled when one distance is ≤ 0.25.' },
      ],
    } satisfies ExperimentOutcome;
  },
};
