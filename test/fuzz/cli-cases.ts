/**
 * Generators (fast-check arbitraries) of engram command lines: a command (all nine, sometimes a
 * misspelled one or none), flags drawn from that command's own option table in cli/options.ts (valid
 * values, edge values, garbage, negative and huge numbers), options of other commands, misspelled and
 * unknown options, a flag given twice, and inputs: the fuzz's media (cli-contract.ts copies and
 * damages them per case: truncated, bit-flipped, empty, garbage, renamed to the wrong extension, odd
 * paths), damaged run directories, missing paths, directories where a file is expected, stdin, lavfi
 * graphs and URLs. A case is plain data (printable, replayable); cli-contract.ts turns it into files
 * and an argv.
 *
 * Cases stay cheap by construction: every command gets small settings first (baseFlags), and a
 * generated value overrides one only with another small value, a value that must be refused, or a
 * size so huge that the CLI must refuse it up front (E_RESOURCE). Values that would make a valid but
 * long run (--max-steps 1e9, --recall-steps 1e9) are not generated: a run doing what it was told is
 * not a hang.
 */
import fc from 'fast-check';
import { COMMAND_NAMES, COMMANDS, COMMON, optionsOf, type CommandName } from '../../cli/options.ts';

/** How an input or output path is spelled. */
export type PathStyle = 'plain' | 'space' | 'brackets' | 'unicode' | 'dash' | 'dot-dash' | 'star' | 'quote' | 'abs';
export type Damage =
  | { t: 'none' }
  | { t: 'empty' }
  /** Cut at this fraction of the file's length. */
  | { t: 'truncate'; at: number }
  /** One bit flipped at each of these fractions of the file's length. */
  | { t: 'flip'; at: number[]; bit: number }
  /** Replaced by random bytes of the same length. */
  | { t: 'garbage'; seed: number };
export type MediaBase = 'video' | 'wav' | 'png' | 'pngdir';
export type RunDamage =
  | 'none' | 'ckpt-truncated' | 'ckpt-flipped' | 'ckpt-deleted' | 'all-ckpts-deleted' | 'ckpt-empty'
  | 'runjson-truncated' | 'runjson-invalid' | 'runjson-deleted' | 'runjson-running-dead-pid' | 'runjson-empty-object'
  | 'events-truncated' | 'events-empty' | 'events-deleted' | 'events-garbage-line';

export type InputRef =
  /** A copy of a fixture, damaged, named in `style` with extension `ext` ('own' keeps the fixture's). pngdir: `glob` passes DIR/*.png. */
  | { t: 'media'; base: MediaBase; damage: Damage; style: PathStyle; ext: 'own' | '.mp4' | '.wav' | '.png' | '.txt' | ''; glob?: boolean }
  /** A copy of a fixture run directory, damaged. */
  | { t: 'run'; base: 'solved' | 'trained'; damage: RunDamage; at: number; style: PathStyle }
  | { t: 'missing'; style: PathStyle }
  | { t: 'empty-dir'; style: PathStyle }
  /** `-`, with this on stdin. */
  | { t: 'stdin'; content: 'empty' | 'garbage' | 'video' | 'damaged-video' }
  /** Passed as is (lavfi graphs, URLs, odd strings). */
  | { t: 'literal'; value: string };

export type OutWhere = 'fresh' | 'nested-missing' | 'under-file' | 'existing-file' | 'existing-run' | 'empty-dir' | 'nonempty-dir' | 'input';
export type OutRef = { t: 'out'; where: OutWhere; ext: string; style: PathStyle };

export type Value = { t: 'str'; v: string } | InputRef | OutRef;

export interface Flag {
  name: string;
  /** Absent for a boolean flag. */
  value?: Value;
  /** `--name value` or `--name=value`. */
  form: 'space' | 'eq';
  /** `--name` (default) or `-name`. */
  dashes?: 1 | 2;
}

export interface CliCase {
  /** One of the nine, a misspelled one, or '' for none. */
  command: string;
  positionals: InputRef[];
  /** Positionals before the flags (default) or after them. */
  positionalsLast: boolean;
  flags: Flag[];
  /**
   * Sent to the process `afterMs` after it printed its first byte (`from: 'output'`: it is running by
   * then), or after it started (`from: 'start'`: within its first second it is still loading): Ctrl-C's
   * SIGINT, a closed terminal's SIGHUP, kill's SIGTERM.
   */
  signal?: { name: 'SIGINT' | 'SIGTERM' | 'SIGHUP'; afterMs: number; from: 'start' | 'output' };
}

/** The small settings every case starts from (a generated flag given later wins: node's parseArgs keeps the last). */
export function baseFlags(c: CliCase): string[] {
  const resume = c.flags.some((f) => f.name === 'resume');
  const media = c.positionals.find((p): p is Extract<InputRef, { t: 'media' }> => p.t === 'media');
  const audio = media?.base === 'wav' && (media.ext === 'own' || media.ext === '.wav');
  const images = media?.base === 'pngdir' || media?.base === 'png';
  const small = ['--max-steps', '20', '--width', '32', '--monitor-every', '0', '--recall-steps', '200', '--recovery-trials', '1', '--recovery-steps', '50'];
  switch (c.command) {
    case 'demo': return ['--size', '8x8', '--frames', '4', ...small];
    case 'memorize':
      if (resume) return [];
      if (audio) return ['--rate', '4000', ...small];
      if (images) return ['--size', '8x8', ...small];
      return ['--size', '8x8', '--frames', '4', ...small];
    case 'recall': return ['--recall-steps', '200'];
    case 'identity': return ['--size', '8x8', '--max-steps', '20', '--rhos', '3', '--probes', '2'];
    case 'basins': return ['--grid', '10', '--max-steps', '50', '--recall-steps', '50'];
    case 'assoc': return ['--n', '8', '--steps', '20', '--lanczos', '3', '--margins-every', '10'];
    default: return [];
  }
}

// ---------------------------------------------------------------- values

const str = (v: string): Value => ({ t: 'str', v });
const strs = (vs: string[]) => fc.constantFrom(...vs).map(str);
const ints = (min: number, max: number) => fc.integer({ min, max }).map((n) => str(String(n)));

/** Any short string, without NUL (an argv cannot hold one). */
const anyText = fc.oneof(
  fc.string({ maxLength: 8 }),
  fc.string({ unit: 'grapheme', maxLength: 6 }),
  fc.string({ unit: 'binary', maxLength: 6 }),
).map((s) => s.replace(/\0/g, ''));

const GARBAGE_NUMBER = ['', ' ', 'abc', 'NaN', 'Infinity', '-Infinity', '1e999', '-1e999', '0x10', '1,5', '٣', '1_000', '-', '½', '1.5.5', 'null', '[]', '+3', ' 3', '3 ', '00'];
const EDGE_INT = ['0', '-1', '-0', '1.5', '1e-300', '2147483648', '-2147483649', '9007199254740993'];
const EDGE_REAL = ['0', '-1', '-0', '1e-320', '1e308', '-1e308', '5e-324'];

/** Per option: valid values, edge and garbage values, and (for sizes the CLI must refuse up front) huge ones. */
interface ValueSpec { valid: fc.Arbitrary<Value>; edge?: string[]; huge?: string[]; ref?: fc.Arbitrary<Value> }

const ACTIVATIONS = ['relu', 'leaky_relu', 'selu', 'swish', 'cosid', 'sinusoidal', 'sigmoid', 'tanh', 'exp2', 'pow:2', 'pow:3'];
const EIG = ['auto', 'full', 'reduced', 'arnoldi'];
const sizeValid = fc.tuple(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 12 })).map(([w, h]) => str(`${w}x${h}`));
const SIZE_EDGE = ['0x0', '0x8', '-8x8', '8x', 'x8', '8X8', '8x8x8', '8*8', ' 8x8', '8x8 ', '08x08', '1e1x8', '8.5x8', '8×8'];
const SIZE_HUGE = ['4096x4096', '100000x100000', '1x100000000', '65536x65536', '2147483648x1'];

function specOf(command: CommandName, name: string): ValueSpec | null {
  const recallLike = command === 'recall';
  switch (name) {
    // common
    case 'backend': return { valid: strs(['cpu', 'wasm', 'wasm-blas']), edge: ['tensorflow', 'tensorflow-gpu', 'webgl', 'CPU', 'wasm '] };
    // inputs
    case 'kind': return { valid: strs(['video', 'audio', 'images']), edge: ['Video', 'image', 'midi'] };
    case 'size': return { valid: sizeValid, edge: SIZE_EDGE, huge: SIZE_HUGE };
    case 'frames': return { valid: ints(1, 8), edge: EDGE_INT, huge: ['100000000', '1e9'] };
    case 'fps': return { valid: strs(['1', '4', '8', '12.5', '0.5']), edge: ['0', '-1', '0.0001', '1e-300'] };
    case 'start': return { valid: strs(['0', '0.25', '0.5']), edge: ['-1', '100', '1e9', '-0'] };
    case 'duration': return { valid: strs(['0.5', '1', '2']), edge: ['0', '-1', '0.001', '1e9'] };
    case 'rate': return { valid: strs(['1000', '2000', '4000']), edge: ['999', '0', '-8000', '44100.5'], huge: ['100000000'] };
    case 'chunk-seconds': return { valid: strs(['0.25', '0.5', '1']), edge: ['0', '0.0005', '-1', '100'], huge: ['1e6'] };
    case 'partial': return { valid: strs(['drop', 'pad']), edge: ['keep', 'DROP'] };
    // network and training
    case 'width': return { valid: fc.oneof(ints(1, 64), strs(command === 'memorize' || command === 'demo' ? ['auto'] : ['16'])), edge: [...EDGE_INT, 'auto '], huge: ['100000000', '1e9', '4294967296'] };
    case 'depth':
      if (command === 'identity') return { valid: strs(['1', '2', '1,2', '1-2']), edge: ['0', '-1', '2-1', '1-', 'a', '1,,2', '-1-2'] };
      return { valid: ints(1, 3), edge: EDGE_INT, huge: ['100000000'] };
    case 'activation': return { valid: strs(ACTIVATIONS), edge: ['pow:0', 'pow:-1', 'pow:abc', 'pow:', 'pow:1e9', 'RELU', 'gelu', 'relu '] };
    case 'init': return { valid: strs(['torch', 'uniform:0.1', 'uniform:1', 'rank1:0.1,0.1']), edge: ['uniform:5', 'uniform:1e10', 'uniform:0', 'uniform:-1', 'uniform:abc', 'uniform:', 'rank1:1', 'rank1:a,b', 'rank1:1e10,1e10', 'xavier'] };
    case 'preset': return { valid: strs(['paper']), edge: ['Paper', 'fast'] };
    case 'fit': return { valid: strs(['auto', 'solve', 'gradient']), edge: ['closed', 'SOLVE'] };
    case 'optimizer':
      if (command === 'assoc') return { valid: strs(['gd', 'sgd', 'adam']), edge: ['momentum', 'rmsprop', 'ADAM'] };
      return { valid: strs(['gd', 'momentum', 'momentum-wd', 'rmsprop', 'adam']), edge: ['sgd', 'ADAM', 'lbfgs'] };
    case 'lr': return { valid: strs(command === 'assoc' ? ['0.1', '1', '10'] : ['1e-4', '1e-3', '0.01', '0.1']), edge: [...EDGE_REAL, '1e10'] };
    case 'weight-decay': return { valid: strs(['0', '5e-4', '0.01']), edge: ['-1', '1e10', '1e308'] };
    case 'loss-target': return { valid: strs(['1e-8', '1e-3', '0', '1']), edge: ['-1', '1e308', '-0'] };
    case 'max-steps': return { valid: ints(1, command === 'basins' ? 50 : 20), edge: EDGE_INT };
    case 'seed': return { valid: ints(0, 1000), edge: EDGE_INT, huge: ['1e300', '9007199254740993', '4294967296'] };
    case 'batch-size': return { valid: ints(1, command === 'assoc' ? 16 : 8), edge: EDGE_INT, huge: ['1000000000'] };
    case 'checkpoint-every': return { valid: ints(1, 20), edge: EDGE_INT, huge: ['1e12'] };
    case 'stability-every': return { valid: ints(0, 10), edge: EDGE_INT, huge: ['1e12'] };
    case 'objective':
      return { valid: strs(['cycle', 'autoencode']), edge: ['identity', 'Cycle'] };
    case 'eig-method': return { valid: strs(EIG), edge: ['lanczos', 'FULL', ''] };
    case 'monitor-every': return { valid: strs(['auto', '0', '1', '5']), edge: [...EDGE_INT, 'manual'], huge: ['1e12'] };
    case 'monitor-examples': return { valid: ints(1, 3), edge: EDGE_INT, huge: ['1000000000'] };
    case 'from':
      if (recallLike) {
        return {
          valid: strs(['noise', 'gaussian', 'uniform', 'frame:0', 'frame:3']),
          edge: ['frame:999', 'frame:-1', 'frame:', 'frame:1.5', 'frame:abc', 'frame:1e309', 'Noise', 'file'],
          ref: mediaRef,
        };
      }
      return { valid: strs(['noise', 'gaussian', 'uniform']), edge: ['frame:0', 'laplace', 'Noise'] };
    case 'sigma': return { valid: strs(['0', '0.5', '1', '2']), edge: ['-1', '-0', '1e-320'], huge: ['1e308', '1e30'] };
    case 'recall-steps': return { valid: ints(1, command === 'basins' ? 50 : 200), edge: EDGE_INT };
    case 'recovery-trials': return { valid: ints(1, 2), edge: EDGE_INT };
    case 'recovery-steps': return { valid: ints(1, 30), edge: EDGE_INT };
    case 'noise-levels': return { valid: strs(['0.1', '', '0.1,0.5', '0.3']), edge: ['-1', 'a', '0.1,,0.2', '1e9', ',', '1e309'] };
    case 'square-levels': return { valid: strs(['1', '0', '1,2', '']), edge: ['-1', '1000', 'a', '1.5'] };
    case 'mask-levels': return { valid: strs(['0.1', '0.5,1', '0', '']), edge: ['-0.1', '2', 'a', 'NaN'] };
    case 'tries': return { valid: ints(1, 3), edge: EDGE_INT };
    case 'resume': return { valid: runRef, edge: ['', '.', 'runs'], ref: fc.oneof(mediaRef, missingRef, emptyDirRef) };
    case 'out': return { valid: outRef(command), edge: ['', '.', '-', '/'] };
    // assoc
    case 'n': return { valid: ints(2, 16), edge: [...EDGE_INT, '1'], huge: ['100000', '1e9'] };
    case 'm': return { valid: ints(2, 16), edge: [...EDGE_INT, '1'], huge: ['100000'] };
    case 'd': return { valid: ints(2, 16), edge: [...EDGE_INT, '1'], huge: ['100000'] };
    case 'embeddings': return { valid: strs(['orthonormal', 'correlated:0.5', 'sphere', 'correlated:0']), edge: ['correlated:2', 'correlated:-1', 'correlated:', 'correlated:abc', 'random'] };
    case 'frequencies': return { valid: strs(['zipf:1', 'zipf:0', 'zipf:2', 'two:0.3']), edge: ['zipf:-1', 'two:1.5', 'two:0', 'two:1', 'zipf:', 'uniform', 'zipf:1e308', 'two:NaN'] };
    case 'w0': return { valid: strs(['zero', 'randn']), edge: ['ones', 'Zero'] };
    case 'steps': return { valid: ints(1, 50), edge: EDGE_INT };
    case 'margins-every': return { valid: ints(1, 20), edge: EDGE_INT };
    case 'lanczos': return { valid: ints(0, 5), edge: [...EDGE_INT, '1000'] };
    // identity
    case 'arch': return { valid: strs(['fc', 'cnn', 'fc,cnn']), edge: ['rnn', 'fc,', 'FC', 'cnn,cnn'] };
    case 'input': return {
      valid: fc.oneof(strs(['lavfi:testsrc2=s=32x32:d=1', 'lavfi:nullsrc=s=8x8:d=1', 'lavfi:testsrc2=s=8x8']), mediaRef),
      edge: ['lavfi:bogus_filter', 'lavfi:', 'http://127.0.0.1:9/x.png'], ref: fc.oneof(missingRef, emptyDirRef, runRef),
    };
    case 'channels': return { valid: ints(1, 4), edge: EDGE_INT, huge: ['100000', '1e9'] };
    case 'rhos': return { valid: ints(2, 4), edge: [...EDGE_INT, '1'] };
    case 'probes': return { valid: ints(1, 2), edge: EDGE_INT };
    // basins
    case 'points': return {
      valid: strs(['0.2,0.2;0.8,0.3;0.5,0.8', '0.1,0.1;0.9,0.9', '0.5,0.5', '0,0;1,1;0,1;1,0']),
      edge: ['', 'a,b', '0.1;0.2', '0.1,0.2,0.3', '1e309,0', ';', '0.1,0.1;0.1,0.1', 'NaN,0', '0.1,0.1;', ' 0.1 , 0.2 '],
    };
    case 'grid': return { valid: ints(2, 20), edge: [...EDGE_INT, '1'], huge: ['100000', '1e9'] };
    default: return null; // a boolean flag, or an option added since (given generic values)
  }
}

// ---------------------------------------------------------------- inputs

/** A position in a file, as a fraction of its length (uniform: fc.double leans to the extremes). */
const fraction = fc.integer({ min: 0, max: 9999 }).map((n) => n / 10_000);
const styleArb: fc.Arbitrary<PathStyle> = fc.oneof(
  { arbitrary: fc.constant<PathStyle>('plain'), weight: 8 },
  { arbitrary: fc.constantFrom<PathStyle>('space', 'brackets', 'unicode', 'dash', 'dot-dash', 'star', 'quote', 'abs'), weight: 3 },
);
const damageArb: fc.Arbitrary<Damage> = fc.oneof(
  { arbitrary: fc.constant<Damage>({ t: 'none' }), weight: 6 },
  { arbitrary: fc.constant<Damage>({ t: 'empty' }), weight: 1 },
  { arbitrary: fraction.map((at): Damage => ({ t: 'truncate', at })), weight: 2 },
  { arbitrary: fc.record({ at: fc.array(fraction, { minLength: 1, maxLength: 8 }), bit: fc.integer({ min: 0, max: 7 }) }).map((r): Damage => ({ t: 'flip', ...r })), weight: 2 },
  { arbitrary: fc.integer({ min: 0, max: 1e6 }).map((seed): Damage => ({ t: 'garbage', seed })), weight: 1 },
);
const extArb = fc.oneof(
  { arbitrary: fc.constant<'own'>('own'), weight: 8 },
  { arbitrary: fc.constantFrom<'.mp4' | '.wav' | '.png' | '.txt' | ''>('.mp4', '.wav', '.png', '.txt', ''), weight: 2 },
);
export const mediaRef: fc.Arbitrary<InputRef> = fc.record({
  t: fc.constant<'media'>('media'),
  base: fc.constantFrom<MediaBase>('video', 'video', 'wav', 'png', 'pngdir'),
  damage: damageArb, style: styleArb, ext: extArb, glob: fc.boolean(),
});
const RUN_DAMAGES: RunDamage[] = [
  'ckpt-truncated', 'ckpt-flipped', 'ckpt-deleted', 'all-ckpts-deleted', 'ckpt-empty', 'runjson-truncated', 'runjson-invalid', 'runjson-deleted',
  'runjson-running-dead-pid', 'runjson-empty-object', 'events-truncated', 'events-empty', 'events-deleted', 'events-garbage-line',
];
export const runRef: fc.Arbitrary<InputRef> = fc.record({
  t: fc.constant<'run'>('run'),
  base: fc.constantFrom<'solved' | 'trained'>('solved', 'trained'),
  damage: fc.oneof({ arbitrary: fc.constant<RunDamage>('none'), weight: 3 }, { arbitrary: fc.constantFrom(...RUN_DAMAGES), weight: 5 }),
  at: fraction,
  style: styleArb,
});
const missingRef: fc.Arbitrary<InputRef> = styleArb.map((style) => ({ t: 'missing', style }));
const emptyDirRef: fc.Arbitrary<InputRef> = styleArb.map((style) => ({ t: 'empty-dir', style }));
const stdinRef: fc.Arbitrary<InputRef> = fc.constantFrom('empty', 'garbage', 'video', 'damaged-video').map((content) => ({ t: 'stdin', content }) as InputRef);
const literalInputs: fc.Arbitrary<InputRef> = fc.constantFrom(
  'lavfi:testsrc2=s=8x8:d=0.5:r=8', "lavfi:nullsrc=s=8x8:r=8:d=0.5,geq=lum='random(1)*255':cb=128:cr=128", 'lavfi:testsrc2=s=8x8', 'lavfi:life=s=8x8:ratio=0.5',
  'lavfi:bogus_filter', 'lavfi:', 'lavfi:testsrc2=s=8x8:d=0', 'lavfi:sine=frequency=440:duration=1', 'http://127.0.0.1:9/x.mp4', 'file:///nonexistent/x.mp4',
  '', '.', '..', '/', '*.png', 'nothing/*.png', '[', '~', '/dev/null', '/proc/self/status',
).map((value) => ({ t: 'literal', value }) as InputRef);

/** What a command takes as its positional input. */
function positionalArb(command: string): fc.Arbitrary<InputRef> {
  switch (command) {
    case 'memorize': return fc.oneof(
      { arbitrary: mediaRef, weight: 10 }, { arbitrary: literalInputs, weight: 3 }, { arbitrary: stdinRef, weight: 2 },
      { arbitrary: missingRef, weight: 1 }, { arbitrary: emptyDirRef, weight: 1 }, { arbitrary: runRef, weight: 1 },
    );
    case 'recall': case 'inspect': case 'plot': case 'watch': return fc.oneof(
      { arbitrary: runRef, weight: 12 }, { arbitrary: mediaRef, weight: 1 }, { arbitrary: missingRef, weight: 1 },
      { arbitrary: emptyDirRef, weight: 1 }, { arbitrary: literalInputs, weight: 1 }, { arbitrary: stdinRef, weight: 1 },
    );
    default: return fc.oneof(mediaRef, literalInputs, missingRef);
  }
}

const OUT_WHERE: OutWhere[] = ['nested-missing', 'under-file', 'existing-file', 'existing-run', 'empty-dir', 'nonempty-dir', 'input'];
function outRef(command: CommandName): fc.Arbitrary<Value> {
  const exts = command === 'recall' ? ['.mp4', '.gif', '.mkv', '/', '.wav', '.avi', '.png', ''] : ['', '', '/', '.mp4'];
  return fc.record({
    t: fc.constant<'out'>('out'),
    where: fc.oneof({ arbitrary: fc.constant<OutWhere>('fresh'), weight: 6 }, { arbitrary: fc.constantFrom(...OUT_WHERE), weight: 4 }),
    ext: fc.constantFrom(...exts), style: styleArb,
  });
}

// ---------------------------------------------------------------- flags

/** A near miss of a name: one letter dropped, doubled, swapped or changed. */
const misspell = (name: string) => fc.tuple(fc.nat(), fc.constantFrom('drop', 'double', 'swap', 'change'), fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz-_')).map(([i, how, ch]) => {
  const k = i % name.length;
  if (how === 'drop' && name.length > 1) return name.slice(0, k) + name.slice(k + 1);
  if (how === 'double') return name.slice(0, k) + name[k] + name.slice(k);
  if (how === 'swap' && k + 1 < name.length) return name.slice(0, k) + name[k + 1] + name[k] + name.slice(k + 2);
  return name.slice(0, k) + ch + name.slice(k + 1);
});

/** A value for option `name`: a valid one, or one the CLI must refuse (edge, garbage, huge). */
function valueArb(command: CommandName, name: string, cls: 'valid' | 'bad'): fc.Arbitrary<Value> {
  const spec = specOf(command, name) ?? { valid: fc.oneof(ints(0, 8), strs(['auto', 'x'])) };
  if (cls === 'valid') return spec.valid;
  const arms: { arbitrary: fc.Arbitrary<Value>; weight: number }[] = [{ arbitrary: fc.oneof(strs(GARBAGE_NUMBER), anyText.map(str)), weight: 2 }];
  if (spec.edge?.length) arms.push({ arbitrary: strs(spec.edge), weight: 4 });
  if (spec.huge?.length) arms.push({ arbitrary: strs(spec.huge), weight: 4 });
  if (spec.ref) arms.push({ arbitrary: spec.ref, weight: 3 });
  return fc.oneof(...arms);
}

const FLAG_BLOCKLIST = new Set(['help', 'watch']); // handled on their own (help: a separate arm; watch: never ends without a signal)

const known = (command: string): CommandName | null => ((COMMAND_NAMES as string[]).includes(command) ? command as CommandName : null);
const ownNames = (c: CommandName) => Object.keys(COMMANDS[c].options).filter((k) => !FLAG_BLOCKLIST.has(k));
const COMMON_NAMES = Object.keys(COMMON).filter((k) => !FLAG_BLOCKLIST.has(k));
const formArb = fc.oneof({ arbitrary: fc.constant<'space'>('space'), weight: 3 }, { arbitrary: fc.constant<'eq'>('eq'), weight: 1 });

/** An option of `command`'s own table (or a common one) with a valid value. */
function cleanFlag(command: CommandName): fc.Arbitrary<Flag> {
  const table = optionsOf(command);
  const own = ownNames(command);
  const names = fc.oneof({ arbitrary: fc.constantFrom(...(own.length ? own : COMMON_NAMES)), weight: 6 }, { arbitrary: fc.constantFrom(...COMMON_NAMES), weight: 1 });
  return names.chain((name): fc.Arbitrary<Flag> => table[name].type === 'boolean'
    ? fc.constant({ name, form: 'space' })
    : fc.record({ name: fc.constant(name), value: valueArb(command, name, 'valid'), form: formArb }));
}

/**
 * A flag the CLI must refuse: an own option with an edge, garbage or huge value or no value, a
 * boolean given a value, another command's option, a misspelled or unknown option, a short one.
 */
function faultyFlag(command: string): fc.Arbitrary<Flag> {
  const c = known(command);
  const own = c ? ownNames(c) : [];
  const valued = c ? Object.entries(optionsOf(c)).filter(([k, o]) => o.type === 'string' && !FLAG_BLOCKLIST.has(k)).map(([k]) => k) : [];
  const booleans = c ? Object.entries(optionsOf(c)).filter(([k, o]) => o.type === 'boolean' && !FLAG_BLOCKLIST.has(k)).map(([k]) => k) : [];
  const others = [...new Set(COMMAND_NAMES.flatMap((n) => Object.keys(COMMANDS[n].options)))].filter((k) => !own.includes(k) && !FLAG_BLOCKLIST.has(k));
  const arms: { arbitrary: fc.Arbitrary<Flag>; weight: number }[] = [
    { arbitrary: fc.constantFrom(...others).map((name): Flag => ({ name, value: str('1'), form: 'space' })), weight: 2 },
    { arbitrary: fc.tuple(fc.constantFrom(...(own.length ? own : COMMON_NAMES)), fc.boolean()).chain(([n, v]) => misspell(n).map((name): Flag => (v ? { name, value: str('8'), form: 'space' } : { name, form: 'space' }))), weight: 2 },
    { arbitrary: fc.constantFrom('foo', 'verbose', 'x', '', 'no-such-option', 'HELP', 'size=8x8').map((name): Flag => ({ name, form: 'space' })), weight: 1 },
    { arbitrary: fc.constantFrom('x', 'q', 'v', 'V', 'j').map((name): Flag => ({ name, form: 'space', dashes: 1 })), weight: 1 },
  ];
  if (c && valued.length) {
    arms.push({ arbitrary: fc.constantFrom(...valued).chain((name) => fc.record({ name: fc.constant(name), value: valueArb(c, name, 'bad'), form: formArb })), weight: 12 });
    arms.push({ arbitrary: fc.constantFrom(...valued).map((name): Flag => ({ name, form: 'space' })), weight: 1 });
  }
  if (c && booleans.length) arms.push({ arbitrary: fc.tuple(fc.constantFrom(...booleans), strs(['true', 'false', '1', ''])).map(([name, value]): Flag => ({ name, value, form: 'eq' })), weight: 1 });
  return fc.oneof(...arms);
}

/** Mostly valid flags, with at most one fault; sometimes anything at all. */
function flagsArb(command: string): fc.Arbitrary<Flag[]> {
  const c = known(command);
  if (!c) return fc.array(faultyFlag(command), { maxLength: 3 });
  const clean = fc.array(cleanFlag(c), { maxLength: 4 });
  const oneFault = fc.tuple(clean, faultyFlag(c), fc.nat()).map(([fs, bad, at]) => {
    const out = [...fs];
    out.splice(at % (fs.length + 1), 0, bad);
    return out;
  });
  const chaos = fc.array(fc.oneof(cleanFlag(c), faultyFlag(c)), { minLength: 1, maxLength: 5 });
  return fc.oneof({ arbitrary: clean, weight: 12 }, { arbitrary: oneFault, weight: 5 }, { arbitrary: chaos, weight: 1 });
}

/** The commands that read inputs (media, run directories) are drawn more often: that is where damage can hide. */
const COMMAND_WEIGHTS: Record<CommandName, number> = { memorize: 8, recall: 6, inspect: 4, plot: 3, watch: 3, demo: 2, assoc: 2, identity: 2, basins: 2, doctor: 1, reproduce: 1 };
const commandArb: fc.Arbitrary<string> = fc.oneof(
  ...COMMAND_NAMES.map((n) => ({ arbitrary: fc.constant<string>(n), weight: COMMAND_WEIGHTS[n] ?? 2 })),
  { arbitrary: fc.constantFrom(...COMMAND_NAMES).chain(misspell), weight: 1 },
  { arbitrary: fc.constantFrom('', 'help', 'train', '--version'), weight: 1 },
);

/** How many positionals a command takes, and sometimes one more or one fewer. */
function positionalsArb(command: string, resume: boolean): fc.Arbitrary<InputRef[]> {
  const takes = ['memorize', 'recall', 'inspect', 'plot', 'watch'].includes(command) && !resume ? 1 : 0;
  return fc.oneof(
    { arbitrary: fc.array(positionalArb(command), { minLength: takes, maxLength: takes }), weight: 20 },
    { arbitrary: fc.array(positionalArb(command), { minLength: 0, maxLength: 2 }), weight: 1 },
  );
}

/** `arb` with odds yes:no, else null. */
const rarely = <T>(arb: fc.Arbitrary<T>, yes: number, no: number): fc.Arbitrary<T | null> =>
  fc.oneof({ arbitrary: fc.constant(null), weight: no }, { arbitrary: arb, weight: yes });

const signalName = fc.constantFrom<'SIGINT' | 'SIGTERM' | 'SIGHUP'>('SIGINT', 'SIGTERM', 'SIGHUP');

/** A whole command line. */
export const cliCaseArb: fc.Arbitrary<CliCase> = commandArb.chain((command) =>
  fc.record({
    flags: flagsArb(command),
    twice: rarely(known(command) ? cleanFlag(known(command)!) : faultyFlag(command), 1, 8),
    help: rarely(fc.constant(true), 1, 25),
    watch: rarely(fc.constant(true), 1, 15),
    signal: rarely(fc.oneof(
      { arbitrary: fc.record({ name: signalName, afterMs: fc.integer({ min: 0, max: 4000 }), from: fc.constant<'output'>('output') }), weight: 3 },
      // a signal while the CLI still loads (the fuzz's first report, issue 10: it died with 143 / 129, no handler yet);
      // bin/engram.mjs now handles the signals before it loads anything, so this must end with 130 too
      { arbitrary: fc.record({ name: signalName, afterMs: fc.integer({ min: 200, max: 1000 }), from: fc.constant<'start'>('start') }), weight: 1 },
    ), 1, 10),
    positionalsLast: rarely(fc.constant(true), 1, 3).map((x) => x === true),
  }).chain(({ flags, twice, help, watch, signal, positionalsLast }) => {
    const all = [...flags];
    // the same option given twice, with another value of its own
    if (twice && twice.value !== undefined && !all.some((f) => f.name === twice.name)) all.push(twice);
    if (twice && twice.value !== undefined) all.push({ ...twice, value: { t: 'str', v: twice.value.t === 'str' ? `${twice.value.v}0` : '1' } });
    if (help) all.push({ name: 'help', form: 'space' });
    // memorize --watch never ends on its own: it runs until a signal
    const watching = command === 'memorize' && watch;
    if (watching) all.push({ name: 'watch', form: 'space' });
    const sig = signal ?? (watching ? { name: 'SIGINT' as const, afterMs: 20_000, from: 'start' as const } : undefined);
    const resume = all.some((f) => f.name === 'resume');
    return positionalsArb(command, resume).map((positionals): CliCase => ({ command, positionals, positionalsLast, flags: all, ...(sig ? { signal: sig } : {}) }));
  }),
);
