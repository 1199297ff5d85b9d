/**
 * `engram identity --arch fc|cnn --depth L[,L2,…|A-B]`: train each network on one image, probe it
 * with x_ρ and say whether it learned the identity or the constant map (docs/math.md §9); prints the table
 * and writes events.jsonl, identity.txt, identity.csv and the heatmap identity.png to the run dir.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { EngramError } from '../errors.ts';
import type { IdentityEvent } from '../events.ts';
import { checkNetOptions } from '../pipelines/config-checks.ts';
import { formatIdentitySummary, formatIdentityTable, identityRun, identitySpec, rhoGrid, type IdentityArch, type IdentityConfig } from '../pipelines/identity.ts';
import { checkRunDir, newRunId } from '../pipelines/run-dir.ts';
import { num, parseSize, type Parsed } from './args.ts';
import { execute, presenterOf } from './execute.ts';
import type { StartBackend } from './main.ts';

/** The ρ grid's finest resolution (0.001): more points would only take longer. */
const MAX_RHOS = 1001;

const bad = (message: string) => new EngramError('E_BAD_ARGUMENT', message);

/** "1,2,4", "1-4" or a mix ("1-3,6"), each a positive integer. */
export function parseDepths(v: string): number[] {
  const out: number[] = [];
  for (const part of v.split(',')) {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
    const [a, b] = m ? [Number(m[1]), Number(m[2] ?? m[1])] : [0, 0];
    if (!m || a < 1 || b < a || b - a > 64) throw bad(`--depth must be positive integers like 2, 1,2,4 or 1-4 (got '${v}')`);
    for (let d = a; d <= b; d++) if (!out.includes(d)) out.push(d);
  }
  return out;
}

export function parseArchs(v: string): IdentityArch[] {
  const out: IdentityArch[] = [];
  for (const a of v.split(',').map((s) => s.trim())) {
    const arch = a === 'unet' ? 'cnn' : a;
    if (arch !== 'fc' && arch !== 'cnn') throw bad(`--arch must be fc, cnn (a U-Net) or both as fc,cnn (got '${v}')`);
    if (!out.includes(arch)) out.push(arch);
  }
  return out;
}

export async function identityCommand(args: Parsed, argv: string[], startBackend: StartBackend): Promise<number> {
  const rest = args.positionals;
  if (rest.length) throw bad(`identity takes no positional input (got '${rest[0]}'); pass an image with --input FILE`);
  const v = args.values;
  if (args.flags.gray && args.flags.rgb) throw bad('--gray and --rgb exclude each other; pick one');
  const id = newRunId('identity');
  const cfg: IdentityConfig = {
    runId: id, command: ['engram', ...argv].join(' '), outDir: v.out ?? join('runs', id),
    archs: parseArchs(v.arch!), depths: parseDepths(v.depth!),
    input: v.input!,
    image: { ...parseSize(v.size!), gray: !args.flags.rgb },
    fc: { width: num('width', v.width, { int: true, min: 1 }), activation: v.activation ?? 'relu' },
    cnn: { channels: num('channels', v.channels, { int: true, min: 1 }), activation: v.activation ?? 'leaky_relu' },
    bias: !args.flags['no-bias'], init: v.init!,
    optimizer: {
      name: v.optimizer as IdentityConfig['optimizer']['name'], lr: num('lr', v.lr, { min: 0 }),
      weightDecay: v['weight-decay'] === undefined ? undefined : num('weight-decay', v['weight-decay'], { min: 0 }),
    },
    lossTarget: num('loss-target', v['loss-target'], { min: 0 }),
    maxSteps: num('max-steps', v['max-steps'], { int: true, min: 1 }),
    rhos: rhoGrid(num('rhos', v.rhos, { int: true, min: 2, max: MAX_RHOS })),
    perRho: num('probes', v.probes, { int: true, min: 1, max: 10_000 }),
    seed: num('seed', v.seed, { int: true, min: 0 }),
    force: args.flags.force,
  };
  checkNetOptions(cfg.optimizer, cfg.archs.flatMap((arch) => cfg.depths.map((depth) => identitySpec(cfg, arch, depth))));
  if (!cfg.input.startsWith('lavfi:') && !/^[a-z][a-z0-9+.-]*:\/\//i.test(cfg.input) && !existsSync(cfg.input)) {
    throw new EngramError('E_INPUT_MISSING', `--input ${cfg.input} does not exist; pass an image or video file, or lavfi:GRAPH`);
  }
  checkRunDir(cfg.outDir, args.flags.force);
  const backend = await startBackend(args);
  const presenter = presenterOf(args);
  if (presenter === 'lines') {
    console.log(`identity probe on ${cfg.input} at ${cfg.image.width}x${cfg.image.height}${cfg.image.gray ? ' gray' : ' rgb'}: ` +
      `${cfg.archs.join(', ')} at depth ${cfg.depths.join(', ')}; ${cfg.rhos.length} ρ × ${cfg.perRho} probes; ` +
      `${cfg.optimizer.name} lr ${cfg.optimizer.lr}, loss target ${cfg.lossTarget}, at most ${cfg.maxSteps} steps`);
  }
  return execute({
    presenter,
    start: () => identityRun(cfg, backend),
    commands: [],
    line: (e) => (e.kind === 'identity' ? '\n' + formatIdentityTable(e) : e.kind === 'log' || e.kind === 'artifact' ? undefined : null),
    summary: (_view, events) => '\n' + formatIdentitySummary(events.filter((e): e is IdentityEvent => e.kind === 'identity')) + '\n' +
      ['identity.txt', 'identity.csv', 'identity.png', 'input.png', 'events.jsonl'].map((f) => `  ${join(cfg.outDir, f)}`).join('\n'),
    stopped: () => `stopped; ${cfg.outDir} keeps the probes finished so far in events.jsonl (engram plot ${cfg.outDir} draws them)`,
  });
}
