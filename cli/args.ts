/**
 * Command-line parsing: each command parses against its own option table (cli/options.ts) with its
 * own defaults; an option the command does not take is a usage error naming the command's options
 * (and the nearest one, for a typo).
 */
import { parseArgs } from 'node:util';
import { EngramError, ERROR_CODES, type ErrorCode } from '../errors.ts';
import { COMMAND_NAMES, COMMANDS, COMMON, EXIT_CODES, exitCodeOfCode, optionsOf, type CommandName, type CommandSpec, type OptionTable } from './options.ts';

export interface Parsed {
  command: CommandName;
  /** String options (with this command's defaults). */
  values: Record<string, string | undefined>;
  /** Boolean options: true when given. */
  flags: Record<string, boolean>;
  positionals: string[];
  /** Whether the user typed --name (rather than getting its default). */
  given(name: string): boolean;
}

export function isCommand(c: string | undefined): c is CommandName {
  return c !== undefined && (COMMAND_NAMES as string[]).includes(c);
}

export function parse(command: CommandName, argv: string[]): Parsed {
  const table = optionsOf(command);
  const options = Object.fromEntries(Object.entries(table).map(([k, o]) => [k, {
    type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.default !== undefined ? { default: o.default } : {}),
  }])) as Parameters<typeof parseArgs>[0] extends infer P ? P extends { options?: infer O } ? O : never : never;
  let r;
  try {
    r = parseArgs({ args: glueNegativeValues(argv, table), options, allowPositionals: true, strict: true, tokens: true });
  } catch (e) {
    throw new EngramError('E_BAD_ARGUMENT', explain(command, table, (e as Error).message));
  }
  const values: Record<string, string | undefined> = {};
  const flags: Record<string, boolean> = {};
  for (const [k, o] of Object.entries(table)) {
    const v = (r.values as Record<string, string | boolean | undefined>)[k];
    if (o.type === 'boolean') flags[k] = v === true;
    else values[k] = v as string | undefined;
  }
  const typed = new Set(r.tokens.flatMap((t) => (t.kind === 'option' ? [t.name] : [])));
  const positionals = [...r.positionals];
  positionals.splice(positionals.indexOf(command), 1);
  return { command, values, flags, positionals, given: (name) => typed.has(name) };
}

/**
 * `--size -8x8`, `--lr -1`: a value that starts with a dash and a digit (or a dot) is the option's value,
 * not another option, so it is checked like any value ("--size must look like WxH … (got '-8x8')")
 * instead of node:util's "argument is ambiguous".
 */
function glueNegativeValues(argv: string[], table: OptionTable): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i], next = argv[i + 1];
    const o = a.startsWith('--') ? table[a.slice(2)] : undefined;
    if (o?.type === 'string' && next !== undefined && /^-[\d.]/.test(next)) {
      out.push(`${a}=${next}`);
      i++;
    } else if (o?.type === 'string' && next !== undefined && next.length > 1 && next.startsWith('-') && !isOptionToken(next, table)) {
      throw new EngramError('E_BAD_ARGUMENT', `--${a.slice(2)} was given '${next}', which starts with a dash; write --${a.slice(2)}=${next} if that is the value`);
    } else out.push(a);
  }
  return out;
}

/** `--name`, `--name=…` or `-x` of this command's options (or a common one). */
function isOptionToken(t: string, table: OptionTable): boolean {
  if (t.startsWith('--')) return t.slice(2).split('=')[0] in table;
  return t.length === 2 && Object.values(table).some((o) => o.short === t[1]);
}

/** node:util's message for an unknown option, with the command's options and a did-you-mean. */
function explain(command: CommandName, table: OptionTable, message: string): string {
  const missing = /Option '(?:-\w, )?--([^ ']+) <value>' argument missing/.exec(message) ?? /Option '(?:-\w, )?--([^ ']+)' argument is ambiguous/.exec(message);
  if (missing) {
    const o = table[missing[1]];
    return `--${missing[1]} needs a value; give --${missing[1]} ${o?.arg ?? 'VALUE'} (see 'engram ${command} --help')`;
  }
  const m = /Unknown option '(-{1,2})([^']+)'/.exec(message);
  if (!m) return `${message}; see 'engram ${command} --help'`;
  const near = m[2].length > 2 ? nearestName(m[2], Object.keys(table)) : null; // no guess for a one-letter option
  return `${command} does not take ${m[1]}${m[2]}` + (near ? ` (did you mean --${near}?)` : '') +
    `; ${Object.keys(COMMANDS[command].options).length ? `its options are ${Object.keys(COMMANDS[command].options).map((k) => `--${k}`).join(', ')}` : 'it takes only the common options'} (see 'engram ${command} --help')`;
}

/** The closest option name within edit distance 2, if any. */
export function nearestName(x: string, names: string[]): string | null {
  let best: string | null = null, bestD = 3;
  for (const n of names) {
    const d = editDistance(x, n);
    if (d < bestD) [best, bestD] = [n, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}

const optionLine = (k: string, o: OptionTable[string]) => {
  const head = `  ${o.short ? `-${o.short}, ` : ''}--${k}${o.arg ? ` ${o.arg}` : ''}`;
  const help = o.help + (o.default !== undefined ? ` (default ${o.default})` : '');
  return head.length < 26 ? `${head.padEnd(26)}${help}` : `${head}\n${' '.repeat(26)}${help}`;
};

/** `engram <command> --help`. */
export function commandHelp(command: CommandName): string {
  const c: CommandSpec = COMMANDS[command];
  const own = Object.entries(c.options);
  return [
    `${c.usage}`, '', `  ${c.summary}.${c.details ? ` ${c.details}.` : ''}`, '',
    ...(own.length ? ['Options:', ...own.map(([k, o]) => optionLine(k, o)), ''] : []),
    'Common options:', ...Object.entries(COMMON).map(([k, o]) => optionLine(k, o)), '',
    exitCodesText(),
  ].join('\n');
}

const exitCodesText = () => `Exit codes: ${EXIT_CODES.map(([c, w]) => `${c} ${w}`).join('; ')}.`;

/** `engram --help`. */
export function globalHelp(): string {
  return [
    'engram — memorize media as attractors and limit cycles of a neural network, and replay it from noise', '',
    'Usage:',
    ...COMMAND_NAMES.map((n) => `  ${COMMANDS[n].usage.split(' | ')[0].padEnd(44)} ${COMMANDS[n].summary}`),
    '', "  engram <command> --help     that command's options", '  engram --version            print the version', '',
    exitCodesText(),
  ].join('\n');
}

/** docs/cli.md, generated from the same tables (npm run docs:cli). */
export function cliReference(): string {
  const table = (t: OptionTable) => [
    '| option | value | default | what |', '|---|---|---|---|',
    ...Object.entries(t).map(([k, o]) => `| \`${o.short ? `-${o.short}, ` : ''}--${k}\` | ${o.arg ? `\`${o.arg.replace(/\|/g, '\\|')}\`` : ''} | ${o.default !== undefined ? `\`${o.default}\`` : ''} | ${o.help.replace(/\|/g, '\\|')} |`),
  ];
  return [
    '# engram command line', '',
    '<!-- generated by `npm run docs:cli` from cli/options.ts; do not edit by hand -->', '',
    ...COMMAND_NAMES.flatMap((n) => {
      const c: CommandSpec = COMMANDS[n];
      const own = Object.entries(c.options);
      return [`## engram ${n}`, '', `\`${c.usage}\``, '', `${c.summary}.${c.details ? ` ${c.details}.` : ''}`, '', ...(own.length ? table(c.options) : ['No options of its own.']), ''];
    }),
    '## Common options', '', 'Every command takes these.', '', ...table(COMMON), '',
    '## Exit codes', '', '| code | meaning |', '|---|---|', ...EXIT_CODES.map(([c, w]) => `| ${c} | ${w} |`), '',
    '## Error codes', '',
    'A command that fails says why on stderr as `engram: E_CODE: message` (the message names the input and the fix); with `--json` the',
    'stream ends with `{"kind":"error","code":"E_CODE","message":…}`, and a run directory\'s run.json records it as `errorCode`.',
    'An error without a code is a bug (`engram: internal error: …`, `E_INTERNAL` in `--json`, exit 1).', '',
    '| code | exit | meaning |', '|---|---|---|',
    ...(Object.entries(ERROR_CODES) as [ErrorCode, string][]).map(([c, w]) => `| \`${c}\` | ${exitCodeOfCode(c)} | ${w.replace(/\|/g, '\\|')} |`), '',
  ].join('\n');
}

export function num(name: string, v: string | undefined, o: { int?: boolean; min?: number; max?: number } = {}): number {
  const n = Number(v);
  if (v === undefined || v.trim() === '' || !Number.isFinite(n) || (o.int && !Number.isSafeInteger(n)) || (o.min !== undefined && n < o.min) || (o.max !== undefined && n > o.max)) {
    const kind = o.int ? 'an integer' : 'a number';
    const range = o.min !== undefined && o.max !== undefined ? ` from ${o.min} to ${o.max}` : o.min !== undefined ? ` ≥ ${o.min}` : o.max !== undefined ? ` ≤ ${o.max}` : '';
    throw new EngramError('E_BAD_ARGUMENT', `--${name} must be ${kind}${range} (got '${v}')`);
  }
  return n;
}

export function parseSize(v: string): { width: number; height: number } {
  const m = /^(\d+)x(\d+)$/.exec(v);
  if (!m || Number(m[1]) < 1 || Number(m[2]) < 1) {
    throw new EngramError('E_BAD_ARGUMENT', `--size must look like WxH, e.g. 32x32 (got '${v}')`);
  }
  return { width: Number(m[1]), height: Number(m[2]) };
}

/** --eig-method: auto, full, reduced or arnoldi. */
export function eigMethodOf(v: { 'eig-method'?: string }): 'auto' | 'full' | 'reduced' | 'arnoldi' {
  const m = v['eig-method'] ?? 'auto';
  if (m !== 'auto' && m !== 'full' && m !== 'reduced' && m !== 'arnoldi') {
    throw new EngramError('E_BAD_ARGUMENT', `--eig-method must be auto, full, reduced or arnoldi (got '${m}')`);
  }
  return m;
}

/** --monitor-every (auto | N ≥ 0, 0 = off) and --monitor-examples K ≥ 1. */
export function monitorOf(v: { 'monitor-every'?: string; 'monitor-examples'?: string }): { every: number | 'auto'; examples: number } {
  const every = v['monitor-every'] ?? 'auto';
  return {
    every: every === 'auto' ? 'auto' : num('monitor-every', every, { int: true, min: 0 }),
    examples: num('monitor-examples', v['monitor-examples'] ?? '8', { int: true, min: 1 }),
  };
}
