/** How the executor says an error: the code on stderr, and the json line in --json mode. */
import { describe, expect, it } from 'vitest';
import { EXIT, exitCodeOf, reportError } from '../../cli/execute.ts';
import { EngramError } from '../../errors.ts';

function said(e: unknown, json: boolean): { err: string[]; out: string[] } {
  const err: string[] = [], out: string[] = [];
  reportError(e, json, (s) => err.push(s), (s) => out.push(s));
  return { err, out };
}

describe('reportError', () => {
  it('puts a coded error\'s code on stderr: engram: E_CODE: message', () => {
    const { err, out } = said(new EngramError('E_FFMPEG', 'ffmpeg failed on x.mp4; re-encode it'), false);
    expect(err).toEqual(['engram: E_FFMPEG: ffmpeg failed on x.mp4; re-encode it']);
    expect(out).toEqual([]);
  });

  it('keeps --json\'s last line, with the code and the bare message', () => {
    const { err, out } = said(new EngramError('E_BAD_ARGUMENT', '--size must look like WxH'), true);
    expect(err).toEqual(['engram: E_BAD_ARGUMENT: --size must look like WxH']);
    expect(out.map((l) => JSON.parse(l))).toEqual([{ kind: 'error', code: 'E_BAD_ARGUMENT', message: '--size must look like WxH' }]);
  });

  it('says an uncoded error is internal (no code on stderr; E_INTERNAL in json)', () => {
    const { err, out } = said(new TypeError('boom'), true);
    expect(err).toHaveLength(1);
    expect(err[0]).toMatch(/^engram: internal error: TypeError: boom/);
    expect(JSON.parse(out[0])).toMatchObject({ kind: 'error', code: 'E_INTERNAL' });
    expect(exitCodeOf(new TypeError('boom'))).toBe(EXIT.failed);
  });
});
