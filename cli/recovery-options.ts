/** The recovery monitor's command-line options (memorize/demo): levels, trials, iteration cap, or off. */
import type { RecoveryConfig } from '../pipelines/recovery-stage.ts';
import { num, type Parsed } from './args.ts';
import { EngramError } from '../errors.ts';

function levels(name: string, v: string | undefined, max?: number): number[] | undefined {
  if (v === undefined) return undefined;
  if (v.trim() === '') return [];
  return v.split(',').map((s) => {
    const x = num(name, s.trim(), { min: 0 });
    if (max !== undefined && x > max) throw new EngramError('E_BAD_ARGUMENT', `--${name} values must be at most ${max} (got '${s}')`);
    return x;
  });
}

export function recoveryFromArgs(args: Parsed, seed: number, sigma: number): RecoveryConfig | false {
  const v = args.values;
  if (args.flags['no-recovery']) return false;
  const squares = levels('square-levels', v['square-levels']);
  if (squares?.some((k) => !Number.isInteger(k))) throw new EngramError('E_BAD_ARGUMENT', `--square-levels are numbers of squares, integers (got '${v['square-levels']}')`);
  return {
    seed, sigma,
    trials: num('recovery-trials', v['recovery-trials'], { int: true, min: 1 }),
    probes: num('recovery-trials', v['recovery-trials'], { int: true, min: 1 }),
    maxIterations: num('recovery-steps', v['recovery-steps'], { int: true, min: 1 }),
    noise: levels('noise-levels', v['noise-levels']),
    squares,
    mask: levels('mask-levels', v['mask-levels'], 1),
  };
}
