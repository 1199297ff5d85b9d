import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliReference, commandHelp, globalHelp, parse } from '../../cli/args.ts';
import { exitCodeOf } from '../../cli/execute.ts';
import { COMMAND_NAMES, COMMANDS, COMMON } from '../../cli/options.ts';
import { EngramError, ERROR_CODES, type ErrorCode } from '../../errors.ts';

const root = join(import.meta.dirname, '../..');

describe('the option tables are the one source of the CLI reference', () => {
  it('docs/cli.md is what npm run docs:cli generates from them', () => {
    expect(readFileSync(join(root, 'docs/cli.md'), 'utf8'), 'run npm run docs:cli and commit docs/cli.md').toBe(cliReference());
  });

  it('docs/cli.md has a row for every error code, with the exit code the CLI gives it', () => {
    const doc = readFileSync(join(root, 'docs/cli.md'), 'utf8');
    const codes = Object.keys(ERROR_CODES) as ErrorCode[];
    expect(codes).toContain('E_FFMPEG');
    for (const c of codes) {
      const row = new RegExp(`^\\| \`${c}\` \\| (\\d+) \\| .+ \\|$`, 'm').exec(doc);
      expect(row, `docs/cli.md lacks a row for ${c}`).not.toBeNull();
      expect(Number(row![1]), c).toBe(exitCodeOf(new EngramError(c, 'x')));
    }
  });

  it.each(COMMAND_NAMES)('engram %s --help names every option of its own and the common ones', (c) => {
    const help = commandHelp(c);
    for (const k of [...Object.keys(COMMANDS[c].options), ...Object.keys(COMMON)]) expect(help).toContain(`--${k}`);
    expect(help).toMatch(/Exit codes: 0 done; 1 failed.*2 bad arguments; 3 stopped at a non-finite loss.*130 interrupted/);
  });

  it('engram --help lists every command', () => {
    for (const c of COMMAND_NAMES) expect(globalHelp()).toMatch(new RegExp(`engram ${c}\\b`));
  });

  it('each command gets its own defaults, and knows which options were typed', () => {
    expect(parse('memorize', ['memorize', 'x.mp4']).values.lr).toBe('1e-4');
    expect(parse('identity', ['identity']).values.lr).toBe('1e-3');
    expect(parse('basins', ['basins']).values.width).toBe('64');
    expect(parse('assoc', ['assoc']).values.lr).toBeUndefined();
    const p = parse('memorize', ['memorize', 'x.mp4', '--lr=3e-4', '--rgb']);
    expect(p.positionals).toEqual(['x.mp4']);
    expect([p.given('lr'), p.given('width'), p.flags.rgb, p.flags.gray]).toEqual([true, false, true, false]);
  });

  it('an option of another command is refused, naming this command\'s options; a typo gets the nearest name', () => {
    expect(() => parse('recall', ['recall', 'r', '--width', '3'])).toThrow(/recall does not take --width; its options are --from, --sigma/);
    expect(() => parse('demo', ['demo', '--froms', 'noise'])).toThrow(/did you mean --from\?/);
    expect(() => parse('watch', ['watch', 'r', '--force'])).toThrow(/watch does not take --force; it takes only the common options/);
  });
});
