/** The experiments `engram reproduce` knows, in the order `all` runs them. */
import type { Experiment } from '../reproduce.ts';
import { assocMargins, assocSpikes } from './assoc.ts';
import { digitCapacity, digitCycles } from './digits.ts';
import { identity } from './identity.ts';
import { footage, speech } from './media.ts';
import { basins2d, cycles2d } from './plane.ts';
import { catapult, singleExample } from './theory.ts';

export const EXPERIMENTS: Experiment[] = [
  digitCycles, digitCapacity, basins2d, cycles2d, footage, speech, singleExample, assocSpikes, assocMargins, catapult, identity,
];
