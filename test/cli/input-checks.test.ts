import { describe, expect, it } from 'vitest';
import { assertInputExists } from '../../cli/main.ts';
import { EngramError } from '../../errors.ts';

describe('assertInputExists: standard input', () => {
  it('on a terminal is refused up front (E_BAD_ARGUMENT), saying how to pipe media in', () => {
    let e: unknown;
    try {
      assertInputExists('-', { isTTY: true });
    } catch (err) {
      e = err;
    }
    expect(e).toBeInstanceOf(EngramError);
    expect((e as EngramError).code).toBe('E_BAD_ARGUMENT');
    expect((e as EngramError).message).toMatch(/^standard input is a terminal; pipe media into it, e\.g\. ffmpeg .* \| engram memorize - or cat clip\.mp4 \| engram memorize -/);
  });

  it('on a pipe or a file is read', () => {
    expect(() => assertInputExists('-', { isTTY: false })).not.toThrow();
    expect(() => assertInputExists('-', {})).not.toThrow();
  });
});
