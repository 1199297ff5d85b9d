/** The experiments `engram reproduce` knows, in the order `all` runs them. */
import type { Experiment } from '../reproduce.ts';
import { assocMargins, assocSpikes } from './assoc.ts';
import { digitCapacity, digitCycles } from './digits.ts';

export const EXPERIMENTS: Experiment[] = [digitCycles, digitCapacity, assocSpikes, assocMargins];
