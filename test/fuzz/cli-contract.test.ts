/**
 * The fuzz's own checks, on made-up outcomes (no process is started): each clause of the contract
 * catches what it is there for, and a clean outcome passes. A contract that silently passes
 * everything would make the fuzz worthless.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { CliCase } from './cli-cases.ts';
import { cliCaseArb } from './cli-cases.ts';
import { check, damaged, signature, type Outcome } from './cli-contract.ts';

const memorize: CliCase = { command: 'memorize', positionals: [], positionalsLast: false, flags: [] };
const outcome = (o: Partial<Outcome>): Outcome => ({
  argv: ['memorize', 'x.mp4'], dir: '/nonexistent-fuzz-dir', exit: 0, signal: null, sentSignal: null, ms: 10, stdout: '', stderr: '',
  timedOut: false, orphans: [], before: new Map(), after: new Map(), exempt: [], ...o,
});
const kinds = (c: CliCase, o: Partial<Outcome>) => check(c, outcome(o)).map((v) => v.kind);

describe('the CLI contract the fuzz asserts', () => {
  it('passes a clean success and a clean coded failure', () => {
    expect(kinds(memorize, { exit: 0, stdout: 'done\n' })).toEqual([]);
    expect(kinds(memorize, { exit: 1, stderr: 'engram: E_INPUT_EMPTY: input x.mp4 is empty (0 bytes); pass a complete media file\n' })).toEqual([]);
    expect(kinds(memorize, { exit: 2, stderr: 'engram: E_BAD_ARGUMENT: --size must look like WxH\n' })).toEqual([]);
  });

  it('catches internal errors and stack traces, undocumented exits, and failures without a code', () => {
    const crash = 'engram: internal error: TypeError: Cannot read properties of undefined\n    at recall (file:///x/operators/recall.ts:234:5)\n';
    expect(kinds(memorize, { exit: 1, stderr: crash })).toEqual(expect.arrayContaining(['crash', 'no-error-code']));
    expect(kinds(memorize, { exit: 7, stderr: 'engram: E_FFMPEG: x\n' })).toContain('exit-code');
    expect(kinds(memorize, { exit: 4 })).toContain('exit-code'); // 4 is recall's alone
    expect(kinds({ ...memorize, command: 'recall' }, { exit: 4 })).toEqual([]);
    expect(kinds(memorize, { exit: 1, stderr: 'something went wrong\n' })).toContain('no-error-code');
    expect(kinds(memorize, { exit: 1, stderr: 'engram: E_MADE_UP: x\n' })).toContain('unknown-error-code');
    expect(kinds(memorize, { exit: 2, stderr: 'engram: E_FFMPEG: x\n' })).toContain('error-code-exit');
  });

  it('with --json, reads the error from the last stdout line, and wants JSON on every stdout line', () => {
    const argv = ['memorize', 'x.mp4', '--json'];
    const err = '{"kind":"error","code":"E_INPUT_MISSING","message":"input x.mp4 does not exist"}';
    expect(kinds(memorize, { argv, exit: 1, stdout: `${err}\n` })).toEqual([]);
    expect(kinds(memorize, { argv, exit: 1, stdout: '{"kind":"log"}\n' })).toContain('no-error-code');
    expect(kinds(memorize, { argv, exit: 0, stdout: 'backend wasm\n{"kind":"log"}\n' })).toContain('json-stdout');
  });

  it('catches "error" on stderr at exit 0, hangs, deaths by signal, and processes left behind', () => {
    expect(kinds(memorize, { exit: 0, stderr: 'ffmpeg error while decoding\n' })).toContain('error-on-success');
    expect(kinds(memorize, { timedOut: true, exit: null, signal: 'SIGKILL' })).toEqual(['hang']);
    expect(kinds(memorize, { exit: 139, signal: 'SIGSEGV' })).toContain('killed-by-signal');
    expect(kinds(memorize, { exit: 143, signal: 'SIGTERM', sentSignal: 'SIGTERM' })).toEqual(['signal-exit']);
    expect(kinds(memorize, { exit: 130, signal: 'SIGINT', sentSignal: 'SIGINT' })).toEqual([]);
    expect(kinds(memorize, { exit: 143, signal: 'SIGTERM', sentSignal: 'SIGTERM', stderr: 'engram: E_INPUT_MISSING: x\n' })).toEqual([]); // it was exiting already
    expect(kinds(memorize, { orphans: ['ffmpeg (pid 12)'] })).toEqual(['orphan-process']);
  });

  it('catches modified inputs, except where the case allows writing', () => {
    const before = new Map([['in.mp4', 'a'], ['run1/model.ckpt', 'b'], ['run1/events.jsonl', 'c']]);
    expect(kinds(memorize, { before, after: new Map([['in.mp4', 'z'], ['run1/model.ckpt', 'b'], ['run1/events.jsonl', 'c']]) })).toEqual(['input-modified']);
    expect(kinds(memorize, { before, after: new Map([['run1/model.ckpt', 'b'], ['run1/events.jsonl', 'c']]) })).toEqual(['input-modified']);
    const exempt = [{ prefix: 'run1', keep: (rel: string) => rel === 'model.ckpt' }];
    expect(kinds(memorize, { before, exempt, after: new Map([['in.mp4', 'a'], ['run1/model.ckpt', 'b'], ['run1/events.jsonl', 'd']]) })).toEqual([]);
    expect(kinds(memorize, { before, exempt, after: new Map([['in.mp4', 'a'], ['run1/model.ckpt', 'x'], ['run1/events.jsonl', 'c']]) })).toEqual(['input-modified']);
    expect(kinds(memorize, { after: new Map([['runs/x/.model.ckpt.partial', 'p']]) })).toEqual(['partial-left']);
  });

  it('damages bytes as asked, deterministically', () => {
    const b = Buffer.from('0123456789');
    expect(damaged(b, { t: 'truncate', at: 0.5 }).toString()).toBe('01234');
    expect(damaged(b, { t: 'empty' })).toHaveLength(0);
    expect(damaged(b, { t: 'flip', at: [0], bit: 0 })[0]).toBe('0'.charCodeAt(0) ^ 1);
    expect(damaged(b, { t: 'garbage', seed: 3 })).toEqual(damaged(b, { t: 'garbage', seed: 3 }));
  });

  it('generates every command, and the same cases from the same seed', () => {
    const cases = fc.sample(cliCaseArb, { seed: 5, numRuns: 400 });
    for (const n of ['demo', 'memorize', 'recall', 'inspect', 'plot', 'watch', 'assoc', 'identity', 'basins']) expect(cases.some((c) => c.command === n), n).toBe(true);
    expect(JSON.stringify(fc.sample(cliCaseArb, { seed: 5, numRuns: 20 }))).toBe(JSON.stringify(cases.slice(0, 20)));
    const o = outcome({ exit: 1, stderr: 'engram: internal error: RangeError: Invalid array length at 1234\n' });
    expect(signature(memorize, o, check(memorize, o))).toBe('memorize | crash+no-error-code | engram: internal error: RangeError: Invalid array length at N');
  });
});
