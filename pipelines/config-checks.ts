/**
 * Checks of a job's network and optimizer options that need the engine to answer (is this a valid
 * spec, does this initializer fit this depth, is this optimizer known), run by the CLI before
 * anything is created. A bad value is E_BAD_ARGUMENT with a message that names the flag.
 */
import { parseInit } from '../engine/initializers.ts';
import { validateSpec, type ModelSpec, type NetSpec } from '../engine/model.ts';
import { withDefaults, type OptimizerSpec } from '../engine/optimizers.ts';
import { EngramError, isEngramError } from '../errors.ts';

/** The FC options a command takes (--width, --depth, --activation, --no-bias, --init, --seed). */
export type FcOptions = Omit<ModelSpec, 'kind' | 'dim'>;

function asBadArgument(check: () => void): void {
  try {
    check();
  } catch (e) {
    throw isEngramError(e) ? e : new EngramError('E_BAD_ARGUMENT', (e as Error).message);
  }
}

/** An FC net of `dim` inputs with these options, trained by this optimizer, can be built. */
export function checkFcOptions(dim: number, model: FcOptions, optimizer: OptimizerSpec): void {
  asBadArgument(() => {
    const spec: NetSpec = { kind: 'fc', dim, ...model };
    validateSpec(spec);
    checkInitFits(spec);
    withDefaults(optimizer);
  });
}

/** The optimizer is known and every one of `specs` can be built. */
export function checkNetOptions(optimizer: OptimizerSpec, specs: NetSpec[]): void {
  asBadArgument(() => {
    withDefaults(optimizer);
    for (const spec of specs) {
      validateSpec(spec);
      checkInitFits(spec);
    }
  });
}

/** --init rank1 builds the one hidden layer of an FC net (engine/initializers.ts; validateSpec refuses it for the CNN). */
function checkInitFits(spec: NetSpec): void {
  if (spec.kind === 'fc' && parseInit(spec.init).kind === 'rank1' && spec.depth !== 1) throw new Error('--init rank1 needs --depth 1 (a single hidden layer)');
}
