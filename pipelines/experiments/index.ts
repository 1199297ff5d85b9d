/** The experiments `engram reproduce` knows, in the order `all` runs them. */
import type { Experiment } from '../reproduce.ts';
import { assocMargins, assocSpikes } from './assoc.ts';
import { catapult, singleExample } from './theory.ts';

export const EXPERIMENTS: Experiment[] = [singleExample, assocSpikes, assocMargins, catapult];
